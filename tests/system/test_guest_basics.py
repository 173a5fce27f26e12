"""The booted image: the board's machine, read-only root, tmpfs where it writes, memory, SSH."""
from __future__ import annotations

import os
import re
import signal
import threading
import time
from pathlib import Path

import pytest
from nuwa.errors import Terminated
from nuwa.target import ConsoleTarget, Qemu, SSHTarget, TargetTimeout


def test_machine_is_the_boards(guest: ConsoleTarget, guest_machine: str) -> None:
    r = guest.run("uname -m")
    assert r.ok
    assert r.stdout.strip() == guest_machine


def test_exit_status_and_output_come_back(guest: ConsoleTarget) -> None:
    r = guest.run("echo one; echo two >&2; exit 7")
    assert r.exit_status == 7
    assert r.stdout.splitlines() == ["one", "two"]


def test_kernel_messages_do_not_leak_into_output(guest: ConsoleTarget) -> None:
    # A kernel message printed on the console while the command runs.
    r = guest.run("echo before; echo '<1>nuwa-test: a kernel message' > /dev/kmsg; "
                  "sleep 0.2; echo after")
    assert r.ok
    assert r.stdout.splitlines() == ["before", "after"]


def test_root_is_read_only(guest: ConsoleTarget) -> None:
    mounts = guest.check("cat /proc/mounts")
    root = [line.split() for line in mounts.splitlines() if line.split()[1:2] == ["/"]]
    assert root and "ro" in root[-1][3].split(",")
    r = guest.run("touch /nuwa-write-test")
    assert not r.ok
    assert "Read-only file system" in r.stdout


def test_writable_places_are_tmpfs(guest: ConsoleTarget) -> None:
    mounts = guest.check("cat /proc/mounts")
    types = {f[1]: f[2] for f in (line.split() for line in mounts.splitlines())}
    for d in ("/tmp", "/run", "/var"):
        assert types.get(d) == "tmpfs", d
    assert guest.run("echo x > /tmp/w && cat /tmp/w").stdout.strip() == "x"


def test_memtotal_fits_board_memory(guest_vm: Qemu, guest: ConsoleTarget) -> None:
    meminfo = guest.check("cat /proc/meminfo")
    total_kb = int(re.search(r"^MemTotal:\s+(\d+) kB", meminfo, re.MULTILINE).group(1))
    board_kb = guest_vm.mem * 1024
    # The kernel reserves its own image and tables, but most memory is there.
    assert board_kb // 2 < total_kb <= board_kb


def test_hostname_and_dropbear_running(guest_vm: Qemu, guest: ConsoleTarget) -> None:
    assert guest.check("hostname").strip() == guest_vm.board.hostname
    assert guest.run("pidof dropbear").ok


def test_ssh_answers_through_fabric(guest_ssh: SSHTarget, guest_machine: str) -> None:
    r = guest_ssh.run("uname -m; echo err >&2; exit 4")
    assert r.exit_status == 4
    assert r.stdout.strip() == guest_machine
    assert r.stderr.strip() == "err"


def test_ssh_put_get_roundtrip(guest_ssh: SSHTarget, tmp_path: Path) -> None:
    data = bytes(range(256)) * 64
    (tmp_path / "up").write_bytes(data)
    guest_ssh.put(tmp_path / "up", "/tmp/nuwa-up")
    assert guest_ssh.run("wc -c < /tmp/nuwa-up").stdout.strip() == str(len(data))
    guest_ssh.get("/tmp/nuwa-up", tmp_path / "down")
    assert (tmp_path / "down").read_bytes() == data


def test_console_put_get_roundtrip(guest: ConsoleTarget, tmp_path: Path) -> None:
    data = b"\x00\x01binary\xff" * 300
    (tmp_path / "up").write_bytes(data)
    guest.put(tmp_path / "up", "/tmp/nuwa-console-up")
    guest.get("/tmp/nuwa-console-up", tmp_path / "down")
    assert (tmp_path / "down").read_bytes() == data


def test_no_host_key_in_the_image(guest: ConsoleTarget) -> None:
    # Made at boot into tmpfs, so every boot (and every image) differs.
    assert guest.run("test -s /run/dropbear/host_ed25519").ok
    assert not guest.run("ls /etc/dropbear/*key* 2>/dev/null | grep -q .").ok


def test_output_is_byte_exact(guest: ConsoleTarget) -> None:
    # Kernel-log-like lines, carriage returns and no final newline survive.
    r = guest.run("dmesg | head -2; printf 'a\\rb\\r\\n[ 1.0] not the kernel'")
    lines = r.stdout.split("\n")
    assert len(lines) == 4
    assert lines[0].startswith("[") and lines[1].startswith("[")
    assert lines[2:] == ["a\rb\r", "[ 1.0] not the kernel"]


def test_docs_are_pruned_and_ca_bundle_made(guest: ConsoleTarget) -> None:
    for d in ("/usr/share/doc", "/usr/share/man", "/usr/share/locale"):
        assert not guest.run(f"test -e {d}").ok, d
    bundle = guest.check("grep -c 'BEGIN CERTIFICATE' /etc/ssl/certs/ca-certificates.crt")
    assert int(bundle) > 50


def test_timeout_names_the_command_and_console_recovers(guest: ConsoleTarget) -> None:
    with pytest.raises(TargetTimeout, match="sleep 30"):
        guest.run("sleep 30", timeout=3)
    r = guest.run("echo still here")
    assert r.ok and r.stdout == "still here\n"
    assert not guest.run("pidof sleep").ok  # interrupted, not left running


def _alive(t: SSHTarget, pid_file: str) -> list[str]:
    """The pids named in pid_file that still run on the target."""
    return t.check(f"for p in $(cat {pid_file} 2>/dev/null); do "
                   "kill -0 $p 2>/dev/null && echo $p; done; true").split()


@pytest.mark.parametrize(("signum", "raised"), [(signal.SIGINT, KeyboardInterrupt),
                                                 (signal.SIGTERM, Terminated)])
def test_an_interrupted_ssh_command_ends_on_the_target(
        guest_vm: Qemu, guest_ssh: SSHTarget, signum: int, raised: type[BaseException]) -> None:
    """Ctrl-C or SIGTERM during an SSH command ends it there too, with the processes it
    started (dropbear leaves a command without a terminal running when its channel
    closes); the interrupt still goes on up at once."""
    pids = f"/tmp/nuwa-interrupted-{signum}"
    t = guest_vm.ssh()  # a connection of its own: the interrupt closes it
    timer = threading.Timer(3.0, os.kill, (os.getpid(), signum))
    try:
        timer.start()
        t0 = time.monotonic()
        with pytest.raises(raised):
            t.run(f"echo $$ > {pids}; sleep 300 & echo $! >> {pids}; wait", timeout=120)
        waited = time.monotonic() - t0
        assert waited < 30, f"the interrupt took {waited:.0f} s"
        assert len(guest_ssh.check(f"cat {pids}").split()) == 2
        end = time.monotonic() + 15
        while (left := _alive(guest_ssh, pids)) and time.monotonic() < end:
            time.sleep(0.5)
        assert left == [], f"still running on the target after the interrupt: {left}"
    finally:
        timer.cancel()
        guest_ssh.run(f"kill $(cat {pids}) 2>/dev/null; rm -f {pids}")
        t.close()
