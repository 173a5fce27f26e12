"""The kernel's PSI in the guest, under real pressure, drives the killer.

A nuwad of the test's own gives its apps a memory budget (apps_memory_high_kb:
memory.high of its apps' cgroup) and puts its PSI triggers on that cgroup's
memory.pressure. In a child cgroup of the apps' cgroup, nuwa-thrash reads a
file working set larger than the budget round after round: its pages are
evicted and read back again and again, which PSI counts as memory stall
every time (filling the whole machine with tmpfs pages stalled only when
reclaim happened to struggle; memory.high's throttle sleep does not work on
the 32-bit kernel). The MemAvailable threshold is 1 kB: only PSI can see
this shortage. nuwad then trims (background apps oldest first, then
the foreground app) and kills, background first; the template, the spare
and nuwad survive.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from guest_nuwad import guest_ctl, private_nuwad

DIR = "/run/nuwa-psi-test"
BUDGET_MIB = 16
THRASH_MIB = 24  # the working set: half again the budget
CONF = ("[daemon]\\ntemplate = /usr/libexec/nuwa/nuwa-template\\n"
        "exec_host = /usr/libexec/nuwa/nuwa-exec-host\\ninclude = /etc/nuwa/apps.d\\n"
        f"tick_ms = 1000\\nlmk_threshold_kb = 1\\napps_memory_high_kb = {BUDGET_MIB * 1024}\\n"
        "psi_some_ms = 100\\npsi_full_ms = 50\\npsi_window_ms = 2000\\n"
        "[framework]\\nlibrary = /usr/lib/nuwa/libnuwafw.so\\nargs = data_dir=/usr/share/nuwa\\n")
APPS = ["gallery", "music", "messages"]  # launched in this order; messages is in use


@pytest.fixture
def psi_nuwad(guest: Any) -> Iterator[str]:
    # The thrasher and its cgroup go before nuwad and its directory.
    cleanup = (f"kill -9 $(cat {DIR}/hog.pid) 2>/dev/null; sleep 0.5; "
               f"rmdir $(cat {DIR}/hog.cg) 2>/dev/null")
    with private_nuwad(guest, DIR, CONF, cleanup=cleanup) as sock:
        yield sock


def test_psi_of_the_apps_cgroup_trims_then_kills(guest: Any, psi_nuwad: str) -> None:
    sock = psi_nuwad
    pids = [guest_ctl(guest, sock, f"launch {app}")["pid"] for app in APPS]
    guest.check(f"nuwactl --socket {sock} foreground messages")
    st = guest_ctl(guest, sock, "stats")
    log_path = f"{DIR}/log"
    # The triggers are on the apps' cgroup, which has the budget.
    psi_file = st["psi"]["file"] if st["psi"] else ""
    assert psi_file.endswith("/memory.pressure") and psi_file.startswith("/sys/fs/cgroup/"), \
        (st["psi"], guest.check(f"cat {log_path}")[-2000:])
    apps_cg = psi_file.rsplit("/", 1)[0]
    assert int(guest.check(f"cat {apps_cg}/memory.high")) == BUDGET_MIB << 20
    assert st["lmk_kills"] == 0 and st["lmk_trims"] == 0, st

    big = guest.check("ls /usr/lib/*/libicudata.so.*.* | head -1").strip()
    guest.check(f"mkdir -p {apps_cg}/hog && echo {apps_cg}/hog > {DIR}/hog.cg")
    guest.check(f"sh -c 'echo $$ > {apps_cg}/hog/cgroup.procs && exec /usr/libexec/nuwa/nuwa-thrash "
                f"{big} {THRASH_MIB} 120' </dev/null >{DIR}/hog.log 2>&1 & echo $! > {DIR}/hog.pid")
    started = time.monotonic()
    while time.monotonic() - started < 60:
        st = guest_ctl(guest, sock, "stats")
        if st["lmk_kills"] >= 1:
            break
        time.sleep(1)
    # The thrasher goes, then what nuwad did is read.
    guest.run(f"kill -9 $(cat {DIR}/hog.pid)")
    log = guest.check(f"cat {log_path}")
    pressure = guest.check(f"cat {apps_cg}/memory.pressure")
    assert st["psi"]["events"] >= 1, f"no PSI event:\n{pressure}\n{log[-3000:]}"
    assert st["lmk_kills"] >= 1, f"no kill within 60 s:\n{pressure}\n{log[-3000:]}"
    # Every step came from a PSI event (MemAvailable never fell below 1 kB).
    first_kill = log.index("lmk: killed ")
    trims = re.findall(r"lmk: asked (\S+) \(pid \d+, \w+\) to trim \((\S+)\): .*PSI trigger fired",
                       log[:first_kill])
    assert trims == [("gallery", "background"), ("music", "background"),
                     ("messages", "running-low")], log[-3000:]
    killed = [int(p) for p in re.findall(r"lmk: killed \S+ \(pid (\d+)\)", log)]
    assert killed[0] == pids[0], (killed, pids, log[-3000:])
    assert "memory pressure: PSI" in log[first_kill:].splitlines()[0]
    # The foreground app outlives the background ones; the rest survive.
    assert pids[2] not in killed[:2], (killed, pids)
    after = guest_ctl(guest, sock, "stats")
    assert after["template"]["pid"] == st["template"]["pid"]
    assert guest.run(f"test -e /proc/{after['template']['pid']} && "
                     f"test -e /proc/{after['nuwad']['pid']}").ok
    assert guest_ctl(guest, sock, "template-status")["state"] == "ready"
    guest.check(f"nuwactl --socket {sock} ping")
