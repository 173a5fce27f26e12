"""Make sure nuwad's low-memory killer is on for the bench, the same way in both modes.

The device config may leave the killer off (`lmk_threshold_kb = 0`, the default). Then the
bench restarts nuwad with a copy of that config (in /run, the root file system is read-only)
that only adds a threshold, so "apps before the first low-memory kill" can be measured.
"""
from __future__ import annotations

import re
import shlex

from nuwa.bench.guest import Guest
from nuwa.errors import NuwaError

DEVICE_CONFIG = "/etc/nuwa/nuwad.conf"
BENCH_DIR = "/run/nuwa-bench"
BENCH_CONFIG = f"{BENCH_DIR}/nuwad.conf"
BENCH_PID = f"{BENCH_DIR}/nuwad.pid"
SOCKET = "/run/nuwa/nuwad.sock"
STATE = "/run/nuwa"
INIT_SCRIPT = "/etc/init.d/S50nuwad"
KEY = "lmk_threshold_kb"
# A killer threshold of 1/8 of MemTotal when the device sets none: the same fraction on any
# board, and both modes get the same threshold, so their ratio does not depend on it much.
DEFAULT_FRACTION = 8

_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")
_KEY = re.compile(rf"^\s*{KEY}\s*=\s*(\S+)\s*$")


def daemon_threshold(conf: str) -> int:
    """lmk_threshold_kb of the [daemon] section (0 when absent: the killer is off)."""
    section, value = "", 0
    for line in conf.splitlines():
        m = _SECTION.match(line)
        if m:
            section = m[1].strip()
            continue
        k = _KEY.match(line)
        if k and section == "daemon":
            try:
                value = int(k[1])
            except ValueError as e:
                raise NuwaError(f"{DEVICE_CONFIG}: {KEY} is not a number: {k[1]!r}") from e
    return value


def with_daemon_keys(conf: str, keys: dict[str, str]) -> str:
    """conf with these [daemon] keys set (each replacing any earlier value), nothing else
    changed."""
    if not keys:
        return conf if conf.endswith("\n") else conf + "\n"
    patterns = {k: re.compile(rf"^\s*{re.escape(k)}\s*=") for k in keys}
    added = [f"{k} = {v}" for k, v in keys.items()]
    out: list[str] = []
    section, placed = "", False
    for line in conf.splitlines():
        m = _SECTION.match(line)
        if m:
            section = m[1].strip()
            out.append(line)
            if section == "daemon" and not placed:
                out += added
                placed = True
            continue
        if section == "daemon" and any(p.match(line) for p in patterns.values()):
            continue
        out.append(line)
    if not placed:
        out = ["[daemon]", *added, *out]
    return "\n".join(out) + "\n"


def with_threshold(conf: str, threshold_kb: int) -> str:
    """conf with [daemon] lmk_threshold_kb set to threshold_kb and nothing else changed."""
    return with_daemon_keys(conf, {KEY: str(threshold_kb)})


def ensure_killer(guest: Guest, threshold_kb: int | None, mem_total_kb: int,
                  extra_keys: dict[str, str] | None = None) -> tuple[int, str]:
    """Threshold in force and where it came from; restarts nuwad with a bench config when
    the threshold has to be changed or extra_keys (e.g. `template = off`) are given."""
    conf = guest.sh(f"cat {DEVICE_CONFIG}")
    device = daemon_threshold(conf)
    keys = dict(extra_keys or {})
    if threshold_kb is None and device > 0:
        wanted, why = device, f"device config ({DEVICE_CONFIG})"
    else:
        wanted = threshold_kb if threshold_kb is not None else mem_total_kb // DEFAULT_FRACTION
        keys[KEY] = str(wanted)
        why = "given with --lmk-threshold-kb" if threshold_kb is not None else (
            f"MemTotal / {DEFAULT_FRACTION}: the device config leaves the killer off")
    if not keys:
        return wanted, why
    restart_nuwad(guest, with_daemon_keys(conf, keys))
    return wanted, f"{why}; nuwad restarted with {BENCH_CONFIG}"


def restart_nuwad(guest: Guest, conf: str) -> None:
    guest.sh(f"mkdir -p {BENCH_DIR} && cat > {BENCH_CONFIG} <<'NUWA_BENCH_EOF'\n"
             f"{conf}NUWA_BENCH_EOF")
    guest.sh(f"{INIT_SCRIPT} stop >/dev/null 2>&1; "
             f"if [ -f {BENCH_PID} ]; then kill $(cat {BENCH_PID}) 2>/dev/null; sleep 1; fi; "
             f"mkdir -p {STATE}; setsid nuwad --foreground --config {BENCH_CONFIG} "
             f"--socket {SOCKET} --state-dir {STATE} >>{STATE}/nuwad.log 2>&1 </dev/null & "
             f"echo $! > {BENCH_PID}")


def restore_nuwad(guest: Guest) -> None:
    """Back to the device's own nuwad (for a real board that outlives the bench)."""
    guest.sh(f"if [ -f {BENCH_PID} ]; then kill $(cat {BENCH_PID}) 2>/dev/null; "
             f"rm -f {shlex.quote(BENCH_PID)}; sleep 1; fi; {INIT_SCRIPT} start")
