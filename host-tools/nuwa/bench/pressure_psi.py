"""PSI versus MemAvailable polling: the same load, detected one way or the other
(`nuwa bench --phases pressure-psi`; not in the default run).

The load, as a device meets it: a file working set streamed round after round
(nuwa-thrash on ICU's data file, THRASH_MIB, in a child cgroup of the apps' cgroup)
while the user opens APPS apps one after the other. nuwad gives its apps a memory
budget (`apps_memory_high_kb`: memory.high of the apps' cgroup) of what was there
before the load (`base`), plus the working set, plus half of what the apps take
(measured once per guest, with the killer off): the working set fits until about half the
apps are open, then its pages are evicted and read back again and again (a memory stall
PSI counts), until trims and kills free half the apps' memory again. The same load
lowers MemAvailable by the apps' memory; the polling threshold is halfway down.

Two detectors, one nuwad restart each, the same load each time:
- `psi`: PSI triggers on the apps' cgroup, MemAvailable threshold 1 kB (only PSI sees it);
- `polling`: `psi = no`, MemAvailable threshold halfway down the load's drop, polled
  every tick (1 s).

Measured from the load's start (the thrasher's start, in the guest's /proc/uptime): nuwad's
first trim and first kill (its log's time stamps, CLOCK_REALTIME, put on the uptime clock
by one reading of both), the trims and kills, the stall (PSI some total of the sampler,
every 0.25 s) from its onset to its relief (no stall for QUIET_S), and MemAvailable below
the polling threshold until back above it (in both variants: the same yardstick).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nuwa.bench import killer
from nuwa.bench.guest import Guest
from nuwa.bench.pressure import Sample, read_samples, start_sampler, stop_sampler
from nuwa.bench.results import TEMPLATE, ModeResult, launch_mode
from nuwa.errors import NuwaError

PSI, POLLING = "psi", "polling"
THRASH_MIB = 16        # the streamed working set (ICU's data file has ~30 MiB)
THRASH_S = 40          # how long the load streams
APPS = 8               # apps opened during the load
STALL_SHARE = 0.02     # a sample interval with more stall than this share of it is stalling
QUIET_S = 2.0          # relief: no stalling interval for this long
CALIBRATION_BUDGET_KB = 1 << 20  # 1 GiB: the apps' cgroup exists, nothing is reclaimed
COMMON_KEYS = {"lmk_trim": "yes", "tick_ms": "1000", "psi_some_ms": "100",
               "psi_full_ms": "50", "psi_window_ms": "2000"}
HOG = "nuwa-bench-hog"  # the thrasher's cgroup, a child of the apps' cgroup
HOG_PID = f"{killer.BENCH_DIR}/hog.pid"
THRASH = "/usr/libexec/nuwa/nuwa-thrash"
# "1796131131.123 nuwad[42]: lmk: ..." (nuwa_logf: CLOCK_REALTIME, ms)
_LOG = re.compile(r"^(\d+\.\d+) nuwad\[\d+\]: (.*)$")
_BUDGET = re.compile(r"lmk: apps' memory budget \d+ kB \(memory\.high of (\S+)\)")


@dataclass(frozen=True)
class Action:
    seconds: float  # CLOCK_REALTIME of nuwad's log line
    kind: str       # "trim" or "kill"
    by: str         # PSI or "memavailable"


def parse_actions(log: str) -> list[Action]:
    """nuwad's trims and kills in its log, each with what detected the shortage."""
    out = []
    for line in log.splitlines():
        m = _LOG.match(line)
        if not m:
            continue
        text = m[2]
        if text.startswith("lmk: asked ") and " to trim (" in text:
            out.append(Action(float(m[1]), "trim",
                              PSI if "PSI trigger fired" in text else "memavailable"))
        elif text.startswith("lmk: killed "):
            out.append(Action(float(m[1]), "kill",
                              "memavailable" if "low memory: MemAvailable" in text else PSI))
    return out


def apps_cgroup(log: str) -> str | None:
    """The apps' cgroup, from nuwad's "apps' memory budget" line (the last one)."""
    found = _BUDGET.findall(log)
    return found[-1] if found else None


def stall_relief(samples: list[Sample], start: float, share: float = STALL_SHARE,
                 quiet_s: float = QUIET_S) -> tuple[float | None, float | None]:
    """(onset, relief) of the memory stall after `start` (uptime), seconds since `start`:
    onset the start of the first stalling interval (PSI some grew by more than `share` of
    it), relief the end of the last stalling interval before `quiet_s` without one (None:
    no stall, or stalling until the last sample)."""
    pts = [s for s in samples if s.seconds >= start and s.stall_us is not None]
    onset: float | None = None
    last_stall_end: float | None = None
    for a, b in zip(pts, pts[1:], strict=False):
        dt = b.seconds - a.seconds
        if dt <= 0:
            continue
        stalling = (b.stall_us or 0) - (a.stall_us or 0) > share * dt * 1e6
        if stalling:
            if onset is None:
                onset = a.seconds
            last_stall_end = b.seconds
        elif last_stall_end is not None and b.seconds - last_stall_end >= quiet_s:
            return onset - start if onset is not None else None, last_stall_end - start
    return (onset - start if onset is not None else None), None


def below(samples: list[Sample], start: float, threshold_kb: int, quiet_s: float = QUIET_S
          ) -> tuple[float | None, float | None]:
    """(first sample below threshold_kb, the first one at or above it again from which it
    stays there for `quiet_s`) after `start`, seconds since `start` (None: never below /
    not back for good by the last sample)."""
    onset: float | None = None
    back: float | None = None
    for s in samples:
        if s.seconds < start:
            continue
        if s.available_kb < threshold_kb:
            onset = s.seconds if onset is None else onset
            back = None
        elif onset is not None:
            back = s.seconds if back is None else back
            if s.seconds - back >= quiet_s:
                return onset - start, back - start
    return (onset - start if onset is not None else None), None


def detector_figures(raw: dict[str, Any]) -> dict[str, Any]:
    """The figures of one detector's raw record (what `PsiComparison.detector` stores)."""
    samples = [Sample(*s) for s in raw.get("samples", [])]
    start = float(raw.get("load_start_uptime", 0.0))
    offset = float(raw.get("realtime_minus_uptime", 0.0))
    end = start + float(raw.get("load_seconds", 0.0))
    actions = [a for a in parse_actions(raw.get("log", ""))
               if start <= a.seconds - offset <= end]

    def first(kind: str) -> float | None:
        times = [a.seconds - offset - start for a in actions if a.kind == kind]
        return min(times) if times else None

    # within the load only: a stall that lasts until the thrasher stops is not relieved
    in_load = [s for s in samples if start <= s.seconds <= end]
    stall_on, stall_off = stall_relief(in_load, start)
    avail_on, avail_off = below(in_load, start, int(raw.get("polling_threshold_kb", 0)))
    firsts = [t for t in (first("trim"), first("kill")) if t is not None]
    return {
        "first_action_s": min(firsts) if firsts else None,
        "first_trim_s": first("trim"),
        "first_kill_s": first("kill"),
        "trims": sum(1 for a in actions if a.kind == "trim"),
        "kills": sum(1 for a in actions if a.kind == "kill"),
        "by": sorted({a.by for a in actions}),
        "stall_onset_s": stall_on,
        "stall_relief_s": stall_off,
        "stall_ms": _stall_ms(in_load),
        "below_threshold_s": avail_on,
        "threshold_back_s": avail_off,
        "apps_alive": raw.get("apps_alive"),
        "apps_opened": raw.get("apps_opened"),
        "load": raw.get("load", {}),
    }


def _stall_ms(samples: list[Sample]) -> float | None:
    v = [s.stall_us for s in samples if s.stall_us is not None]
    return (v[-1] - v[0]) / 1000.0 if len(v) >= 2 else None


def summarize(results: dict[str, ModeResult]) -> dict[str, dict[str, dict[str, Any]]]:
    """{mode: {detector: figures}} for the modes that ran the comparison."""
    return {m: {d: detector_figures(raw) for d, raw in r.pressure_psi.items()}
            for m, r in results.items() if r.pressure_psi}


HEADER = ["mode", "detector", "first trim s", "first kill s", "trims", "kills",
          "stall onset s", "stall relieved s", "stall ms", "MemAvailable below threshold s",
          "back above s", "apps alive / opened"]


def rows(summary: dict[str, Any]) -> list[list[str]]:
    """One row per mode and detector for report.md (seconds since the load's start)."""
    def f(v: Any) -> str:
        if v is None:
            return "n/a"
        return f"{v:.1f}" if isinstance(v, float) else str(v)
    out = []
    for mode, detectors in summary.get("pressure_psi", {}).items():
        for name, p in detectors.items():
            out.append([mode, name, f(p["first_trim_s"]), f(p["first_kill_s"]), f(p["trims"]),
                        f(p["kills"]), f(p["stall_onset_s"]), f(p["stall_relief_s"]),
                        f(p["stall_ms"]), f(p["below_threshold_s"]), f(p["threshold_back_s"]),
                        f"{f(p['apps_alive'])}/{f(p['apps_opened'])}"])
    return out


class PsiComparison:
    """The two detectors on one guest, after a calibration of the load; nuwad is restarted
    for each and put back as the session had it afterwards."""

    def __init__(self, guest: Guest, mode: str, result: ModeResult, apps: list[str],
                 say: Callable[[str], None], sleep: Callable[[float], None]) -> None:
        self.guest, self.mode, self.result, self.apps = guest, mode, result, apps
        self.say, self.sleep = say, sleep
        self.session_conf = ""
        self.log_from = 0  # nuwad.log's size before the last restart
        self.cg = ""

    def run(self, kill_all: Callable[[], None]) -> None:
        ran = self.result.ran
        self.session_conf = self.guest.sh(f"cat {ran.get('nuwad_config', killer.DEVICE_CONFIG)}")
        try:
            load = self.calibrate(kill_all)
            for name, keys in ((PSI, {"psi": "yes", killer.KEY: "1"}),
                               (POLLING, {"psi": "no",
                                          killer.KEY: str(load["polling_threshold_kb"])})):
                self.restart({**keys, "apps_memory_high_kb": str(load["budget_kb"])})
                self.say(f"pressure, {name} detector")
                try:
                    self.result.pressure_psi[name] = self.detector(load)
                finally:
                    self.cleanup()
                    kill_all()
        finally:
            if ran.get("nuwad_config") == killer.BENCH_CONFIG:
                killer.restart_nuwad(self.guest, self.session_conf)
            else:
                killer.restore_nuwad(self.guest)
            self.guest.wait_ready(180, need_template=self.mode == TEMPLATE)

    def restart(self, keys: dict[str, str]) -> None:
        self.log_from = int(self.guest.sh(
            f"wc -c < {killer.STATE}/nuwad.log 2>/dev/null || echo 0").strip() or 0)
        killer.restart_nuwad(self.guest, killer.with_daemon_keys(
            self.session_conf, {**COMMON_KEYS, **keys}))
        self.guest.wait_ready(180, need_template=self.mode == TEMPLATE)

    def log(self) -> str:
        return self.guest.sh(f"tail -c +{self.log_from + 1} {killer.STATE}/nuwad.log "
                             "2>/dev/null; true")

    def cgroup(self) -> str:
        cg = apps_cgroup(self.log())
        if not cg:
            raise NuwaError("pressure-psi: nuwad set no memory budget for its apps "
                            "(no apps' cgroup?)")
        return cg

    def current_kb(self, cg: str) -> int:
        return int(self.guest.sh(f"cat {cg}/memory.current")) // 1024

    def open_apps(self) -> int:
        mode = launch_mode(self.mode)
        opened = 0
        for i in range(APPS):
            app = self.apps[i % len(self.apps)]
            try:
                pid = int(self.guest.nuwactl("launch", app, "--mode", mode)["pid"])
                opened += 1
                self.guest.nuwactl("foreground", str(pid))
            except NuwaError as e:  # killed in between, or no memory: the load goes on
                self.result.notes.append(f"pressure-psi: {app}: {e}")
        return opened

    def calibrate(self, kill_all: Callable[[], None]) -> dict[str, Any]:
        """What the apps take (the apps' cgroup, MemAvailable), with the killer off."""
        self.restart({"psi": "no", killer.KEY: "1",
                      "apps_memory_high_kb": str(CALIBRATION_BUDGET_KB)})
        cg = self.cgroup()
        self.sleep(2.0)
        base, avail0 = self.current_kb(cg), self.guest.meminfo()["MemAvailable"]
        try:
            self.open_apps()
            self.sleep(2.0)
            apps_kb = self.current_kb(cg) - base
            drop = avail0 - self.guest.meminfo()["MemAvailable"]
        finally:
            kill_all()
        if apps_kb <= 0 or drop <= 0:
            raise NuwaError(f"pressure-psi: {APPS} apps took {apps_kb} KiB of the apps' "
                            f"cgroup and {drop} KiB of MemAvailable: no load to detect")
        return {"base_kb": base, "apps_kb": apps_kb, "thrash_mib": THRASH_MIB,
                "budget_kb": base + THRASH_MIB * 1024 + apps_kb // 2,
                "mem_available_kb": avail0, "drop_kb": drop,
                "polling_threshold_kb": avail0 - drop // 2, "apps": APPS}

    def clocks(self) -> float:
        """CLOCK_REALTIME minus /proc/uptime: read right after `date +%s` turns over (the
        shell's date has whole seconds only), within one `date` run of it."""
        out = self.guest.sh('t=$(date +%s); while [ "$(date +%s)" = "$t" ]; do :; done; '
                            'read up _ < /proc/uptime; echo "$((t + 1)) $up"')
        real, up = out.split()
        return float(real) - float(up)

    def detector(self, load: dict[str, Any]) -> dict[str, Any]:
        cg = self.cg = self.cgroup()
        offset = self.clocks()
        big = self.guest.sh("ls /usr/lib/*/libicudata.so.*.* | head -1").strip()
        start_sampler(self.guest)
        self.sleep(2.0)  # a little before the load
        # (only the thrasher goes to the background: `a && b &` would take `read` along)
        start = self.guest.sh(
            f"mkdir -p {cg}/{HOG}; read up _ < /proc/uptime; "
            f"sh -c 'echo $$ > {cg}/{HOG}/cgroup.procs && exec {THRASH} {big} "
            f"{load['thrash_mib']} {THRASH_S}' </dev/null >/dev/null 2>&1 & "
            f"echo $! > {HOG_PID}; echo \"load-start $up\"").split()
        if len(start) != 2 or start[0] != "load-start":
            raise NuwaError(f"pressure-psi: the load did not start: {' '.join(start)!r}")
        opened = self.open_apps()
        self.guest.sh(f"while kill -0 $(cat {HOG_PID}) 2>/dev/null; do sleep 1; done; true",
                      timeout=THRASH_S + 60)
        self.sleep(QUIET_S + 1.0)  # the relief after the load is seen
        stop_sampler(self.guest)
        alive = sum(1 for a in self.guest.nuwactl("list")
                    if a.get("app") and a.get("state") == "running")
        return {"load_start_uptime": float(start[1]), "load_seconds": THRASH_S,
                "realtime_minus_uptime": offset,
                "polling_threshold_kb": load["polling_threshold_kb"], "apps_opened": opened,
                "apps_alive": alive, "load": load, "log": self.log(),
                "samples": [[s.seconds, s.available_kb, s.stall_us]
                            for s in read_samples(self.guest)]}

    def cleanup(self) -> None:
        hog = f"rmdir {self.cg}/{HOG} 2>/dev/null; " if self.cg else ""
        self.guest.sh(f"kill -9 $(cat {HOG_PID}) 2>/dev/null; sleep 0.5; {hog}"
                      f"rm -f {HOG_PID}; true")
        stop_sampler(self.guest)
