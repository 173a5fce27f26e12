"""Fork safety and supervision in the real guest (issue 9), on the device's nuwad
(nuwa-supervise from S50nuwad, `fallback = exec`) and on a private one:

- kill -9 nuwad: `nuwactl ping` answers again within 2 s, no old app is left;
- a launch during a template restart runs in exec mode at once (fallback = exec),
  or waits for the template (fallback = wait);
- an app that dereferences NULL leaves a crash record, both modes;
- the clock set back an hour: framework timers keep firing.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from guest_nuwad import guest_ctl, private_nuwad, wait_template

DEVICE_SOCK = "/run/nuwa/nuwad.sock"


def dev(guest: Any, args: str, timeout: float = 120) -> Any:
    return guest_ctl(guest, DEVICE_SOCK, args, timeout)


def gone(guest: Any, pids: list[int], timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [p for p in pids if guest.run(
            f"test -e /proc/{p} && ! grep -q '^State:.*Z' /proc/{p}/status").ok]
        if not alive:
            return True
        time.sleep(0.5)
    return False


def test_killed_nuwad_answers_within_2s_and_leaves_no_old_app(guest: Any) -> None:
    wait_template(guest, DEVICE_SOCK)
    apps = [dev(guest, "launch echo --no-spare")["pid"], dev(guest, "launch echo --mode exec")["pid"]]
    stats = dev(guest, "stats")
    assert stats["supervised"] is True, stats
    old_nuwad, template = stats["nuwad"]["pid"], stats["template"]["pid"]
    before = stats["nuwad_restarts"]
    old = [*apps, template]
    # Stopped, they cannot notice nuwad's end by themselves: the new nuwad must end them.
    guest.check("kill -STOP " + " ".join(str(p) for p in old))
    out = guest.check(
        f"a=$(cut -d' ' -f1 /proc/uptime); kill -9 {old_nuwad}; "
        f"while ! nuwactl --socket {DEVICE_SOCK} ping >/dev/null 2>&1; do sleep 0.05; done; "
        "b=$(cut -d' ' -f1 /proc/uptime); echo $a $b", timeout=60)
    a, b = (float(x) for x in out.split()[-2:])
    assert b - a < 2.0, f"nuwad answered {b - a:.2f} s after kill -9"
    assert gone(guest, old), f"processes of the old nuwad left: {old}"
    stats = dev(guest, "stats")
    assert stats["nuwad"]["pid"] != old_nuwad
    assert stats["nuwad_restarts"] == before + 1, stats
    assert "signal 9" in stats["nuwad_last_exit"], stats
    assert "restart" in guest.check("tail -n 30 /run/nuwa/nuwad.log")
    wait_template(guest, DEVICE_SOCK)


def test_launch_during_a_template_restart_falls_back_to_exec(guest: Any) -> None:
    template = wait_template(guest, DEVICE_SOCK)["pid"]
    got = json.loads(guest.check(
        f"kill -9 {template}; nuwactl --socket {DEVICE_SOCK} --json launch echo --no-spare",
        timeout=120))
    assert got["mode"] == "exec" and got["fallback"], got
    listed = {a["pid"]: a for a in dev(guest, "list")}
    assert listed[got["pid"]]["fallback"] == got["fallback"]
    dev(guest, f"kill {got['pid']}")
    wait_template(guest, DEVICE_SOCK, not_pid=template)


WAIT_DIR = "/tmp/nuwa-fallback-wait"
WAIT_CONF = ("[daemon]\\nfallback = wait\\nready_timeout_ms = 60000\\napp_uids = 20200-20299\\n"
             "[framework]\\nlibrary = /usr/lib/nuwa/libnuwa-minifw.so\\nargs = waiters\\n"
             "[app echo]\\nlibrary = /usr/lib/nuwa/app-echo.so\\n")


def test_launch_during_a_template_restart_waits_with_fallback_wait(guest: Any) -> None:
    with private_nuwad(guest, WAIT_DIR, WAIT_CONF) as sock:
        template = wait_template(guest, sock)["pid"]
        got = json.loads(guest.check(
            f"kill -9 {template}; nuwactl --socket {sock} --json launch echo --no-spare",
            timeout=120))
        assert got["mode"] == "template" and got["fallback"] is None, got
        assert guest_ctl(guest, sock, "template-status")["pid"] != template


@pytest.mark.parametrize("mode", ["template", "exec"])
def test_null_dereference_leaves_a_crash_record(guest: Any, mode: str) -> None:
    wait_template(guest, DEVICE_SOCK)
    pid = dev(guest, f"launch echo --mode {mode} --no-spare")["pid"]
    assert not guest.run(f"nuwactl --socket {DEVICE_SOCK} call {pid} 'crash null'", timeout=60).ok
    deadline = time.monotonic() + 30
    while not (recs := [r for r in dev(guest, "crashes") if r["pid"] == pid]):
        assert time.monotonic() < deadline, "no crash record"
        time.sleep(0.5)
    rec = recs[0]
    assert rec["app"] == "echo" and rec["mode"] == mode, rec
    assert rec["signal_name"] == "SEGV" and rec["fault_addr"] == "0x0", rec
    assert any("nuwa_echo_crash_null" in f for f in rec["frames"]), rec


CORE_DIR = "/tmp/nuwa-core-test"
CORE_CONF = ("[daemon]\\nready_timeout_ms = 60000\\napp_uids = 20300-20399\\n"
             f"core_dir = {CORE_DIR}/cores\\n"
             "[framework]\\nlibrary = /usr/lib/nuwa/libnuwa-minifw.so\\n"
             "[app echo]\\nlibrary = /usr/lib/nuwa/app-echo.so\\n"
             "[app echo-exec]\\nlibrary = /usr/lib/nuwa/app-echo.so\\nmode = exec\\n")


def test_core_dir_gets_a_core_of_a_sandboxed_crashing_app(guest: Any) -> None:
    """[daemon] core_dir: a sandboxed app (own uid, Landlock, seccomp) that
    crashes leaves a core file there, in both modes."""
    pattern = guest.check("cat /proc/sys/kernel/core_pattern").strip()
    try:
        with private_nuwad(guest, CORE_DIR, CORE_CONF) as sock:
            for app in ("echo", "echo-exec"):
                pid = guest_ctl(guest, sock, f"launch {app} --no-spare")["pid"]
                guest.run(f"nuwactl --socket {sock} call {pid} 'crash null'", timeout=60)
                core = f"{CORE_DIR}/cores/core.*.{pid}"
                deadline = time.monotonic() + 30
                while not guest.run(f"test -s {core}").ok:
                    assert time.monotonic() < deadline, (
                        app, guest.check(f"ls -la {CORE_DIR}/cores; tail -n 5 {CORE_DIR}/log"))
                    time.sleep(0.5)
                # An ELF core of the app's own process.
                assert guest.check(f"head -c 4 {core} | od -An -c").split() == [
                    "177", "E", "L", "F"], app
                guest.run(f"rm -f {core}")
    finally:
        guest.run(f"echo '{pattern}' > /proc/sys/kernel/core_pattern")


def ticks(guest: Any, pid: int) -> int:
    reply = dev(guest, f"call {pid} status")["reply"]
    m = re.search(r"ticks=(\d+)", reply)
    assert m, reply
    return int(m[1])


def test_clock_set_back_an_hour_does_not_stall_framework_timers(guest: Any) -> None:
    wait_template(guest, DEVICE_SOCK)
    pid = dev(guest, "launch clock")["pid"]
    try:
        time.sleep(2)
        t0 = ticks(guest, pid)
        guest.check("date -s @$(( $(date +%s) - 3600 )) >/dev/null")
        try:
            time.sleep(4)
            t1 = ticks(guest, pid)
        finally:
            guest.check("date -s @$(( $(date +%s) + 3600 )) >/dev/null")
        # The clock app ticks every second: at least two of the four seconds.
        assert t1 >= t0 + 2, (t0, t1)
    finally:
        dev(guest, f"kill {pid}")
