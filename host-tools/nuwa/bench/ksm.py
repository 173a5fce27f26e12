"""Kernel samepage merging for the bench's exec+ksm mode: switch it on, read its counters.

What a user might pick instead of Nuwa: exec'd apps whose identical pages ksmd merges.
The scan settings are the kernel's defaults, written explicitly so that the report can
say what ran whatever the board's boot-time values are.
"""
from __future__ import annotations

from nuwa.bench.guest import Guest
from nuwa.bench.results import KsmPoint
from nuwa.errors import NuwaError

KSM_DIR = "/sys/kernel/mm/ksm"
# Linux's defaults (mm/ksm.c): 100 pages every 20 ms.
SETTINGS = {"pages_to_scan": 100, "sleep_millisecs": 20}
COUNTERS = ("pages_shared", "pages_sharing", "pages_unshared", "full_scans")
USER_HZ = 100  # /proc/PID/stat ticks: USER_HZ is 100 on every Linux architecture's ABI

_KSMD_STAT = (
    "for p in /proc/[0-9]*; do "
    "if [ \"$(cat $p/comm 2>/dev/null)\" = ksmd ]; then cat $p/stat; break; fi; done"
)


def require(guest: Guest) -> None:
    """A clear error when the target's kernel has no KSM (CONFIG_KSM unset)."""
    r = guest.shell.run(f"test -d {KSM_DIR}", 30)
    if r.exit_status != 0:
        raise NuwaError(f"KSM absent: {KSM_DIR} does not exist on the target (a kernel "
                        "without CONFIG_KSM); mode exec+ksm cannot run there")


def enable(guest: Guest) -> dict[str, int]:
    """run = 1 with SETTINGS; returns what the kernel then reports (run and the settings)."""
    require(guest)
    writes = "; ".join(f"echo {v} > {KSM_DIR}/{k}" for k, v in SETTINGS.items())
    guest.sh(f"{writes}; echo 1 > {KSM_DIR}/run")
    return read_settings(guest)


def disable(guest: Guest) -> None:
    """run = 2 (stop ksmd and unmerge every merged page), then 0: KSM off, as it was."""
    guest.sh(f"echo 2 > {KSM_DIR}/run; echo 0 > {KSM_DIR}/run")


def read_settings(guest: Guest) -> dict[str, int]:
    keys = ("run", *SETTINGS)
    out = guest.sh(" ; ".join(f"cat {KSM_DIR}/{k}" for k in keys)).split()
    if len(out) != len(keys):
        raise NuwaError(f"unexpected {KSM_DIR} settings: {out!r}")
    return {k: int(v) for k, v in zip(keys, out, strict=True)}


def ksmd_cpu_seconds(stat: str) -> float:
    """utime + stime of a /proc/PID/stat line, in seconds."""
    if not stat.strip():
        return 0.0
    fields = stat.rsplit(")", 1)[-1].split()
    # after "(comm)": state is field 3, utime 14 and stime 15 (1-based, see proc(5))
    return (int(fields[11]) + int(fields[12])) / USER_HZ


def sample(guest: Guest, seconds: float) -> KsmPoint:
    out = guest.sh(" ; ".join(f"cat {KSM_DIR}/{k}" for k in COUNTERS) + " ; echo @@ ; "
                   + _KSMD_STAT)
    counters, _, stat = out.partition("@@")
    values = [int(v) for v in counters.split()]
    if len(values) != len(COUNTERS):
        raise NuwaError(f"unexpected {KSM_DIR} counters: {counters!r}")
    c = dict(zip(COUNTERS, values, strict=True))
    return KsmPoint(seconds=seconds, pages_shared=c["pages_shared"],
                    pages_sharing=c["pages_sharing"], pages_unshared=c["pages_unshared"],
                    full_scans=c["full_scans"], ksmd_cpu_s=ksmd_cpu_seconds(stat))
