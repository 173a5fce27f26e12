"""The app sandbox and snapshot grants in the real ARM guest (docs/security.md).

- A private nuwad (own socket, own snapshot tmpfs) runs the hostile test app
  under its own uid in both modes: it cannot create or write any file, read
  another app's memory, or signal/trace other apps, nuwad or the template;
  each of its abuses of a snapshot grant is contained and nuwad stays up.
- The device's own nuwad snapshots a sample app in both modes; the file
  round-trips to the host over the serial console and over SSH.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from guest_nuwad import private_nuwad
from nuwa.target.snapshot import MAGIC, fetch

if not (Path(__file__).parent / "conftest.py").exists():
    pytest.skip("no guest fixture (tests/system/conftest.py) yet", allow_module_level=True)

DIR = "/tmp/nuwa-sandbox-test"
SOCK = f"{DIR}/nuwad.sock"
SNAPS = f"{DIR}/snapshots"
MAX_KB = 512
TIMEOUT_MS = 3000
VICTIM_FILE = "/tmp/nuwa-sandbox-victim"
# One line with printf escapes: the console driver sends commands line by line.
CONF = ("[daemon]\\nspare_delay_ms = 100\\nready_timeout_ms = 60000\\nlandlock = required\\n"
        "app_uids = 20100-20199\\nsocket_group = nogroup\\ncontrol_group = nogroup\\n"
        f"snapshot_dir = {SNAPS}\\nsnapshot_tmpfs = yes\\nsnapshot_max_kb = {MAX_KB}\\n"
        f"snapshot_quota_kb = {4 * MAX_KB}\\nsnapshot_timeout_ms = {TIMEOUT_MS}\\n"
        "[framework]\\nlibrary = /usr/lib/nuwa/libnuwa-minifw.so\\n"
        "[app echo]\\nlibrary = /usr/lib/nuwa/app-echo.so\\nuid = 20001\\ngid = 20001\\n"
        "[app hostile]\\nlibrary = /usr/lib/nuwa/app-hostile.so\\nuid = 20002\\ngid = 20002\\n"
        "[app hostile-exec]\\nlibrary = /usr/lib/nuwa/app-hostile.so\\nmode = exec\\n"
        "uid = 20003\\ngid = 20003\\n"
        # No uid: it gets one of app_uids. In the socket's group and in
        # control_group, yet refused on the control socket: it is an app.
        "[app hostile-nouid]\\nlibrary = /usr/lib/nuwa/app-hostile.so\\ngroups = 65534\\n")


def ctl(guest: Any, args: str, sock: str = SOCK, timeout: float = 120) -> Any:
    return json.loads(guest.check(f"nuwactl --socket {sock} --json {args}", timeout=timeout))


def ctl_fails(guest: Any, args: str, timeout: float = 120) -> str:
    r = guest.run(f"nuwactl --socket {SOCK} {args} 2>&1", timeout=timeout)
    assert not r.ok, r.stdout
    return r.stdout


def call(guest: Any, pid: int, request: str) -> str:
    return str(ctl(guest, f"call {pid} '{request}'")["reply"])


def snapshots_left(guest: Any) -> list[str]:
    return guest.check(f"ls -A {SNAPS}").split()


@pytest.fixture(scope="module")
def private(guest: Any) -> Iterator[Any]:
    with private_nuwad(guest, DIR, CONF, cleanup=f"umount {SNAPS}; rm -f {VICTIM_FILE}"):
        yield guest


@pytest.fixture
def hostile(private: Any) -> Iterator[int]:
    pid = int(ctl(private, "launch hostile")["pid"])
    yield pid
    private.run(f"nuwactl --socket {SOCK} kill {pid}", timeout=30)


def test_landlock_is_available_and_snapshots_have_their_own_tmpfs(private: Any) -> None:
    lsm = private.check("mount -t securityfs none /sys/kernel/security 2>/dev/null; "
                        "cat /sys/kernel/security/lsm")
    assert "landlock" in lsm.split(","), lsm
    mounts = private.check("cat /proc/mounts")
    assert any(line.split()[1] == SNAPS and line.split()[2] == "tmpfs"
               for line in mounts.splitlines()), mounts


def test_every_thread_is_confined_on_the_arm_kernel(private: Any) -> None:
    """nuwa-sandbox-probe: a thread started before the sandbox, and the main
    thread, cannot create files; signals and ptrace are refused."""
    out = private.check("/usr/libexec/nuwa/nuwa-sandbox-probe --uid 20009 --gid 20009 "
                        "--threads 4 --tmp /tmp", timeout=120)
    r = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    assert r["sandbox"] == "ok" and int(r["landlock_abi"]) >= 1, out
    assert r["create_tmp"] == "EACCES" and r["thread_create_tmp"] == "EACCES", out
    assert r["parent_kill"] == "EPERM" and r["mount"] == "EPERM", out
    assert r["status_Uid"] == "20009", out


@pytest.mark.parametrize("app", ["hostile", "hostile-exec"])
def test_sandboxed_app_cannot_create_or_write_files(private: Any, app: str) -> None:
    pid = int(ctl(private, f"launch {app}")["pid"])
    try:
        status = call(private, pid, "status")
        assert "nnp=1" in status and "seccomp=2" in status and "uid=2000" in status, status
        private.check(f"echo original > {VICTIM_FILE} && chmod 666 {VICTIM_FILE}")
        for path in ("/tmp/nuwa-hostile-new", "/run/nuwa-hostile-new", f"{DIR}/new",
                     f"{SNAPS}/forged.snap"):
            assert call(private, pid, f"probe create {path}") in ("EACCES", "EPERM"), path
            assert not private.run(f"test -e {path}").ok, path
        # World-writable by permission bits, still not writable by the app.
        assert call(private, pid, f"probe write {VICTIM_FILE}") == "EACCES"
        assert private.check(f"cat {VICTIM_FILE}").strip() == "original"
        assert call(private, pid, "probe read /etc/passwd") == "EACCES"
        assert call(private, pid, "probe exec") in ("EACCES", "EPERM")
    finally:
        private.run(f"nuwactl --socket {SOCK} kill {pid}", timeout=30)


def test_sandboxed_app_cannot_reach_other_processes(private: Any, hostile: int) -> None:
    other = int(ctl(private, "launch echo")["pid"])
    device_nuwad = int(private.check("cat /var/run/nuwad.pid").strip())
    nuwad_pid = int(private.check(f"cat {DIR}/pid").strip())
    template = int(ctl(private, "template-status")["pid"])
    try:
        assert call(private, hostile, f"probe mem {other}") in ("EACCES", "EPERM")
        for victim in (other, nuwad_pid, template, device_nuwad):
            assert call(private, hostile, f"probe kill {victim}") == "EPERM", victim
            assert call(private, hostile, f"probe ptrace {victim}") == "EPERM", victim
        assert int(ctl(private, f"app-ping {other}")["pid"]) == other
    finally:
        private.run(f"nuwactl --socket {SOCK} kill {other}", timeout=30)


def test_kept_fd_gets_the_app_killed(private: Any, hostile: int) -> None:
    call(private, hostile, "grant keep-fd")
    assert "kept the granted fd" in ctl_fails(private, "snapshot hostile")
    deadline = time.monotonic() + 30
    while hostile in [a["pid"] for a in ctl(private, "list")]:
        assert time.monotonic() < deadline, "the app that kept its grant still runs"
        time.sleep(0.5)
    assert snapshots_left(private) == []


def test_overflow_garbage_and_silence_are_contained(private: Any, hostile: int) -> None:
    call(private, hostile, "grant overflow")
    err = ctl_fails(private, "snapshot hostile")
    assert "exceeds the limit" in err or "file has" in err, err
    call(private, hostile, "grant garbage")
    assert "malformed answer" in ctl_fails(private, "snapshot hostile")
    call(private, hostile, "grant silent")
    assert f"no answer within {TIMEOUT_MS} ms" in ctl_fails(private, "snapshot hostile")
    assert snapshots_left(private) == []
    call(private, hostile, "unsolicited 300")
    assert int(ctl(private, f"app-ping {hostile}")["pid"]) == hostile
    assert snapshots_left(private) == []
    assert ctl(private, "ping")["pong"] is True
    # Still a good citizen afterwards: one good snapshot, within the limit.
    call(private, hostile, "grant normal")
    info = ctl(private, "snapshot hostile")
    assert 0 < info["bytes"] <= MAX_KB * 1024
    assert snapshots_left(private) == [Path(info["path"]).name]


@pytest.mark.parametrize("mode", ["template", "exec"])
def test_snapshot_of_sample_app_round_trips_to_host(guest: Any, guest_ssh: Any, tmp_path: Path,
                                                   mode: str) -> None:
    dev = "/run/nuwa/nuwad.sock"
    pid = int(ctl(guest, f"launch clock --mode {mode}", sock=dev)["pid"])
    try:
        over_console = fetch(guest, str(pid), tmp_path / "console.snap")
        over_ssh = fetch(guest_ssh, str(pid), tmp_path / "ssh.snap")
        for snap in (over_console, over_ssh):
            assert snap.pid == pid and snap.mode == mode and snap.app == "clock"
            data = snap.local_path.read_bytes()
            assert data.startswith(MAGIC) and len(data) == snap.bytes
            assert b"app-clock.so" in data and b"libnuwafw.so" in data
            assert b"\n== heap-stats\n" in data and b"\n== allocations\n" in data
        assert over_ssh.id != over_console.id
    finally:
        guest.run(f"nuwactl --socket {dev} kill {pid}", timeout=30)


def status_of(guest: Any, pid: int) -> dict[str, str]:
    return dict(kv.split("=", 1) for kv in call(guest, pid, "status").split())


def test_app_without_uid_is_not_root_and_has_no_capabilities(private: Any) -> None:
    pid = int(ctl(private, "launch hostile-nouid")["pid"])
    try:
        st = status_of(private, pid)
        assert 20100 <= int(st["uid"]) <= 20199, st
        for cap in ("capeff", "capprm", "capbnd", "capinh", "capamb"):
            assert int(st[cap], 16) == 0, (cap, st)
        assert f"hostile-nouid {st['uid']}" in private.check(f"cat {DIR}/app-uids")
    finally:
        private.run(f"nuwactl --socket {SOCK} kill {pid}", timeout=30)


def test_app_on_the_control_socket_is_refused(private: Any) -> None:
    other = int(ctl(private, "launch echo")["pid"])
    pid = int(ctl(private, "launch hostile-nouid")["pid"])
    try:
        for req in ("launch echo", f"kill {other}", "list"):
            assert call(private, pid, f"probe control {SOCK} {req}") == "answer=1 permission denied"
        assert f"permission denied for 'launch' to pid {pid}" in private.check(f"cat {DIR}/log")
        assert int(ctl(private, f"app-ping {other}")["pid"]) == other
        assert ctl(private, "ping")["pong"] is True
    finally:
        private.run(f"nuwactl --socket {SOCK} kill {pid}; nuwactl --socket {SOCK} kill {other}",
                    timeout=30)


def test_no_signal_or_scheduling_of_other_processes(private: Any, hostile: int) -> None:
    other = int(ctl(private, "launch echo")["pid"])
    nuwad_pid = int(private.check(f"cat {DIR}/pid").strip())
    try:
        for victim in (other, nuwad_pid):
            for probe in ("setown", "fiosetown", "prlimit", "setpriority", "sched"):
                assert call(private, hostile, f"probe {probe} {victim}") == "EPERM", (probe, victim)
        for probe in ("prlimit", "setpriority", "sched"):
            assert call(private, hostile, f"probe {probe} {hostile}") == "ok", probe
        assert int(ctl(private, f"app-ping {other}")["pid"]) == other
    finally:
        private.run(f"nuwactl --socket {SOCK} kill {other}", timeout=30)


def test_no_ip_socket_with_net_none_on_a_kernel_without_landlock_tcp_rules(
        private: Any, hostile: int) -> None:
    """The guest's 6.1 has Landlock ABI 2 (no TCP rules): seccomp alone
    keeps a net = none app off the network: no TCP to the guest's own sshd,
    no UDP, raw, packet or netlink socket; UNIX sockets still work."""
    assert call(private, hostile, "probe connect 22") == "EACCES"
    for kind in ("inet stream", "inet6 stream", "inet dgram", "inet6 dgram", "inet raw",
                 "packet raw", "netlink dgram"):
        assert call(private, hostile, f"probe socket {kind}") == "EACCES", kind
    assert call(private, hostile, "probe socket unix stream") == "ok"


@pytest.mark.parametrize("app", ["hostile", "hostile-exec"])
def test_syscall_outside_the_allowlist_is_killed_and_named(private: Any, app: str) -> None:
    pid = int(ctl(private, f"launch {app}")["pid"])
    private.run(f"nuwactl --socket {SOCK} call {pid} 'probe forbidden'", timeout=60)
    deadline = time.monotonic() + 30
    while True:
        log = [ln for ln in private.check(f"cat {DIR}/log").splitlines()
               if f"(pid {pid})" in ln and "seccomp" in ln]
        if any("msgget" in ln for ln in log):
            break
        assert time.monotonic() < deadline, log
        time.sleep(0.5)
    assert pid not in [a["pid"] for a in ctl(private, "list")]
    assert ctl(private, "ping")["pong"] is True


@pytest.mark.parametrize("mode", ["template", "exec"])
def test_every_sample_app_works_10s_under_the_allowlist(guest: Any, mode: str) -> None:
    """The device's nuwad and sample apps: periodic work for 10 s, no filter kill."""
    dev = "/run/nuwa/nuwad.sock"
    apps = ("clock", "gallery", "messages", "music", "notes", "settings")
    pids = {app: int(ctl(guest, f"launch {app} --mode {mode}", sock=dev)["pid"]) for app in apps}
    try:
        def ticks(pid: int) -> int:
            reply = str(ctl(guest, f"call {pid} status", sock=dev)["reply"])
            return int(reply.split("ticks=")[1].split()[0])
        first = {app: ticks(pid) for app, pid in pids.items()}
        time.sleep(10)
        for app, pid in pids.items():
            assert ticks(pid) > first[app], app
        for pid in pids.values():
            assert not any(f"(pid {pid})" in ln and "seccomp" in ln
                           for ln in guest.check("cat /run/nuwa/nuwad.log").splitlines())
    finally:
        for pid in pids.values():
            guest.run(f"nuwactl --socket {dev} kill {pid}", timeout=30)


def test_parked_grant_cannot_change_an_accepted_snapshot(private: Any, hostile: int) -> None:
    """The grant parked in flight (SCM_RIGHTS on the app's own socketpair)
    comes back after the snapshot was accepted: the snapshot is sealed."""
    assert call(private, hostile, "grant park") == "mode park"
    info = ctl(private, f"snapshot {hostile}")
    before = private.check(f"md5sum {info['path']}").split()[0]
    assert call(private, hostile, "unpark") != "ok"
    assert private.check(f"md5sum {info['path']}").split()[0] == before
    assert int(ctl(private, f"app-ping {hostile}")["pid"]) == hostile


def gone(guest: Any, pid: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while guest.run(f"test -d /proc/{pid}").ok:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


@pytest.mark.parametrize("app", ["hostile-nouid", "hostile-exec"])
def test_forked_child_dies_with_its_app_on_kill(private: Any, app: str) -> None:
    pid = int(ctl(private, f"launch {app}")["pid"])
    child = int(call(private, pid, "fork-child"))
    assert private.run(f"test -d /proc/{child}").ok
    assert private.check(f"cut -d' ' -f5 /proc/{child}/stat").strip() == str(pid)  # its group
    ctl(private, f"kill {pid}")
    assert gone(private, child), f"child {child} of {app} survived nuwactl kill"


def test_forked_child_dies_with_its_app_on_a_low_memory_kill(guest: Any) -> None:
    """A nuwad of its own whose threshold is above the guest's memory: its
    killer ends the app at the next tick, and the app's child with it."""
    d = "/tmp/nuwa-lmk-contain"
    conf = ("[daemon]\\nspare = 0\\nready_timeout_ms = 60000\\napp_uids = 20200-20299\\n"
            "lmk_threshold_kb = 2000000000\\ntick_ms = 8000\\n"
            "[framework]\\nlibrary = /usr/lib/nuwa/libnuwa-minifw.so\\n"
            "[app hostile]\\nlibrary = /usr/lib/nuwa/app-hostile.so\\n")
    with private_nuwad(guest, d, conf) as sock:
        # The first tick is 8 s after nuwad's start: time to fork the child.
        pid = int(ctl(guest, "launch hostile", sock=sock)["pid"])
        child = int(ctl(guest, f"call {pid} fork-child", sock=sock)["reply"])
        assert gone(guest, pid), "the low-memory killer did not end the app"
        assert gone(guest, child), f"child {child} survived the low-memory kill"
        assert ctl(guest, "stats", sock=sock)["lmk_kills"] >= 1


def test_app_stderr_is_in_logs_prefixed_and_never_a_raw_nuwad_line(private: Any,
                                                                  hostile: int) -> None:
    forged = "2026-01-01 00:00:00.000 nuwad: listening on /forged"
    assert call(private, hostile, f"stderr {forged}") == "ok"
    deadline = time.monotonic() + 20
    while forged not in private.check(f"nuwactl --socket {SOCK} logs hostile"):
        assert time.monotonic() < deadline, "app output not in nuwactl logs"
        time.sleep(0.5)
    line = next(ln for ln in private.check(f"nuwactl --socket {SOCK} logs hostile").splitlines()
                if forged in ln)
    assert f"hostile[{hostile}]" in line
    for ln in private.check(f"cat {DIR}/log").splitlines():
        if forged in ln:
            assert f"hostile[{hostile}]" in ln.split(forged)[0], ln
