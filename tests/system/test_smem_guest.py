"""USS/PSS of nuwad's `list`/`stats` against smem, on the booted ARM guest.

In the guest, /proc of the measured processes (smaps, cmdline, stat) and /proc/meminfo are
copied into a tmpfs directory and tarred; the host's `smem --source` reads it (Debian's smem
1.5 fails on a tar under Python 3, bytes against str, so the tar is unpacked on the host
into DIR/proc/ and smem reads DIR, the same files). Both
figures must agree within 16 KiB per process: the processes are stopped (or idle) between
the two reads. smem adds up smaps mapping by mapping, nuwad reads smaps_rollup; the kernel
prints each mapping's Pss truncated to whole KiB but the rollup's exact sum, so smem's PSS
may also be lower by less than 1 KiB per mapping (USS is whole pages: no such term).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

TOLERANCE_KB = 16
CAPTURE = "/run/nuwa-smem"


def ctl(guest: Any, args: str) -> Any:
    return json.loads(guest.check(f"nuwactl --json {args}", timeout=120))


def capture_command(pids: list[int]) -> str:
    """Copy each process's smaps/cmdline/stat and meminfo into a tmpfs dir and tar it."""
    copies = "; ".join(
        f"mkdir -p {CAPTURE}/{p} && cat /proc/{p}/smaps > {CAPTURE}/{p}/smaps && "
        f"cat /proc/{p}/cmdline > {CAPTURE}/{p}/cmdline && "
        f"cat /proc/{p}/stat > {CAPTURE}/{p}/stat" for p in pids)
    return (f"rm -rf {CAPTURE} {CAPTURE}.tar && mkdir -p {CAPTURE} && {copies} && "
            f"cat /proc/meminfo > {CAPTURE}/meminfo && cd {CAPTURE} && "
            f"tar cf {CAPTURE}.tar meminfo {' '.join(map(str, pids))}")


def smem_figures(tar: Path) -> dict[int, tuple[int, int]]:
    """{pid: (uss_kb, pss_kb)} from `smem --source` of the captured /proc."""
    root = tar.with_suffix(".d")
    (root / "proc").mkdir(parents=True)
    subprocess.run(["tar", "xf", str(tar), "-C", str(root / "proc")], check=True)
    out = subprocess.run(["smem", "--source", str(root), "-c", "pid uss pss", "-H"],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    figures = {}
    for line in out.splitlines():
        pid, uss, pss = line.split()
        figures[int(pid)] = (int(uss), int(pss))
    return figures


@pytest.mark.skipif(shutil.which("smem") is None, reason="smem is not installed (make deps)")
def test_nuwad_memory_figures_agree_with_smem(guest_ssh: Any, tmp_path: Path) -> None:
    g = guest_ssh
    if g.run("nuwactl ping", timeout=30).exit_status != 0:
        pytest.fail("the device nuwad does not answer")
    launched = [ctl(g, "launch clock"), ctl(g, "launch notes --mode exec"),
                ctl(g, "launch music --no-spare")]
    apps = [int(a["pid"]) for a in launched]
    fixed: list[int] = []
    try:
        # stopped apps write no page between the two reads; the spare is refilled first
        # (a fork changes how the template's pages are shared, so its PSS and USS)
        g.check(f"kill -STOP {' '.join(map(str, apps))}")
        spare_ready(g)
        fixed = fixed_pids(g)
        # the spare's worker threads keep running (copy-on-write of the template's pages
        # changes both processes' PSS): it is stopped too, and continued afterwards
        g.check(f"kill -STOP {' '.join(map(str, fixed[1:]))}")
        g.check(capture_command(apps + fixed))
        listed = {int(a["pid"]): a for a in ctl(g, "list")}
        stats = ctl(g, "stats")
        tar = tmp_path / "proc.tar"
        g.get(f"{CAPTURE}.tar", tar)
    finally:
        g.run(f"kill -CONT {' '.join(map(str, fixed[1:]))} 2>/dev/null; "
              f"kill -KILL {' '.join(map(str, apps))}; rm -rf {CAPTURE} {CAPTURE}.tar",
              timeout=60)
    nuwad = {pid: (int(listed[pid]["uss_kb"]), int(listed[pid]["pss_kb"])) for pid in apps}
    for key in ("template", "spare"):
        if stats.get(key):
            nuwad[int(stats[key]["pid"])] = (int(stats[key]["uss_kb"]),
                                             int(stats[key]["pss_kb"]))
    assert sorted(nuwad) == sorted(apps + fixed), "the same template and spare as captured"
    assert len(nuwad) == 5, "apps of both modes, the template and the spare"
    smem = smem_figures(tar)
    assert set(nuwad) <= set(smem), (nuwad, smem)
    for pid, (uss, pss) in nuwad.items():
        s_uss, s_pss = smem[pid]
        mappings = sum(line.startswith("Pss:") for line in
                       (tar.with_suffix(".d") / "proc" / str(pid) / "smaps").read_text()
                       .splitlines())
        assert uss > 0 and pss > 0
        assert abs(s_uss - uss) <= TOLERANCE_KB, f"pid {pid}: USS nuwad {uss}, smem {s_uss}"
        assert pss - TOLERANCE_KB - mappings <= s_pss <= pss + TOLERANCE_KB, (
            f"pid {pid}: PSS nuwad {pss}, smem {s_pss} ({mappings} mappings)")


def spare_ready(g: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while ctl(g, "template-status").get("spare_pid") is None:
        assert time.monotonic() < deadline, "no spare within 60 s"
        time.sleep(0.5)
    time.sleep(0.5)  # the spare's own start-up writes are done


def fixed_pids(g: Any) -> list[int]:
    """[template, spare]."""
    stats = ctl(g, "stats")
    return [int(stats[k]["pid"]) for k in ("template", "spare") if stats.get(k)]


def test_the_cross_check_can_fail(tmp_path: Path) -> None:
    """A capture whose figures differ by more than the tolerance is caught (the check is not
    vacuous: the old one allowed max(256 KiB, 5 %), more than a template app's USS)."""
    d = tmp_path / "cap"
    (d / "42").mkdir(parents=True)
    (d / "42" / "smaps").write_text(
        "00010000-00030000 rw-p 00000000 00:00 0 \nRss: 128 kB\nPss: 100 kB\n"
        "Private_Clean: 0 kB\nPrivate_Dirty: 80 kB\n")
    (d / "42" / "cmdline").write_text("app\0")
    (d / "42" / "stat").write_text("42 (app) S 1")
    (d / "meminfo").write_text("MemTotal: 1000 kB\nMemFree: 500 kB\nSwapTotal: 0 kB\n"
                               "SwapFree: 0 kB\n")
    tar = tmp_path / "cap.tar"
    subprocess.run(["tar", "cf", str(tar), "-C", str(d), "meminfo", "42"], check=True)
    if shutil.which("smem") is None:
        pytest.skip("smem is not installed")
    uss, pss = smem_figures(tar)[42]
    assert (uss, pss) == (80, 100)
    assert abs(uss - (80 + TOLERANCE_KB + 1)) > TOLERANCE_KB
