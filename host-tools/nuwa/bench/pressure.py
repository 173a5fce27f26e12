"""The pressure scenario: a user's session on a device at the edge of its memory.

One app in the foreground at a time: the user opens a new app (`launch`, `foreground`) or
switches back to one opened earlier (`foreground`), looks at it (a `status` request: the
app is used, so a trimmed one rebuilds what it needs) and dwells on it, in the same seeded
order in every mode and variant, until the low-memory killer has acted and a few steps
more. nuwad runs it three times per guest, restarted with other [daemon] keys each time:

- `trim+psi`: the device's lifecycle (trim before kill, PSI triggers);
- `no-trim+psi`: `lmk_trim = no` (kill at once);
- `trim+polling`: `psi = no` (MemAvailable polled every tick only).

The killer threshold of the scenario is 5/8 of MemTotal in every mode (the same memory for
apps on the same board, reached within a few dozen launches on an emulated CPU; the fill
phase measures the device's threshold). Background apps keep running (not frozen), so
they can answer a trim.

Measured per variant: apps alive at the end, trims asked and answered, what trimming
freed (the apps' `freed_kb`), kills and whether the foreground app was ever killed, the
memory stall (PSI `some` total), and each shortage from onset (MemAvailable below the
threshold, sampled every 0.25 s in the guest) to relief (back above it).
"""
from __future__ import annotations

import random
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nuwa.bench import killer, stats
from nuwa.bench.guest import Guest
from nuwa.bench.results import TEMPLATE, ModeResult, launch_mode
from nuwa.errors import NuwaError

VARIANTS: dict[str, dict[str, str]] = {
    "trim+psi": {"lmk_trim": "yes", "psi": "yes"},
    "no-trim+psi": {"lmk_trim": "no", "psi": "yes"},
    "trim+polling": {"lmk_trim": "yes", "psi": "no"},
}
THRESHOLD_OF_TOTAL = (5, 8)  # the scenario's killer threshold: 5/8 of MemTotal
OPEN, SWITCH = "open", "switch"
SEED = 14
SWITCH_SHARE = 0.35   # how often the user goes back to an app opened earlier
RECENT = 4            # ... one of the last RECENT opened
SAMPLES = "/run/nuwa-bench/pressure.samples"
SAMPLING = "/run/nuwa-bench/pressure.sampling"
SAMPLE_S = 0.25


def scenario_threshold(mem_total_kb: int) -> int:
    num, den = THRESHOLD_OF_TOTAL
    return mem_total_kb * num // den


@dataclass(frozen=True)
class Step:
    action: str  # OPEN or SWITCH
    app: str     # OPEN: the app to open
    back: int    # SWITCH: 1 = the previous app opened, 2 = the one before, ...


def session_pattern(apps: list[str], steps: int, seed: int = SEED) -> list[Step]:
    """A user's steps: mostly opening the next app (round-robin over apps), sometimes going
    back to one of the last RECENT apps opened; the same list for the same arguments."""
    if not apps:
        raise ValueError("no apps for the pressure scenario")
    rng = random.Random(seed)
    out: list[Step] = []
    opened = 0
    for _ in range(steps):
        if opened >= 2 and rng.random() < SWITCH_SHARE:
            out.append(Step(SWITCH, "", rng.randint(1, min(RECENT, opened - 1))))
        else:
            out.append(Step(OPEN, apps[opened % len(apps)], 0))
            opened += 1
    return out


@dataclass(frozen=True)
class Sample:
    seconds: float       # /proc/uptime
    available_kb: int    # MemAvailable
    stall_us: int | None  # /proc/pressure/memory "some" total (None: no PSI)


def parse_samples(text: str) -> list[Sample]:
    """The sampler's lines "UPTIME MEMAVAILABLE SOME_TOTAL" ("-" without PSI); torn or
    empty lines (the sampler stopped mid-line) are skipped."""
    out = []
    for line in text.splitlines():
        f = line.split()
        if len(f) != 3:
            continue
        try:
            out.append(Sample(float(f[0]), int(f[1]), None if f[2] == "-" else int(f[2])))
        except ValueError:
            continue
    return out


def shortages(samples: list[Sample], threshold_kb: int) -> list[tuple[float, float | None]]:
    """(onset, relief) of each shortage, seconds since the first sample: onset the first
    sample below the threshold, relief the first one at or above it again (None: still
    short at the last sample)."""
    if not samples:
        return []
    t0 = samples[0].seconds
    out: list[tuple[float, float | None]] = []
    onset: float | None = None
    for s in samples:
        short = s.available_kb < threshold_kb
        if short and onset is None:
            onset = s.seconds - t0
        elif not short and onset is not None:
            out.append((onset, s.seconds - t0))
            onset = None
    if onset is not None:
        out.append((onset, None))
    return out


def stall_ms(samples: list[Sample]) -> float | None:
    """Memory stall (PSI some) over the samples, ms."""
    values = [s.stall_us for s in samples if s.stall_us is not None]
    return (values[-1] - values[0]) / 1000.0 if len(values) >= 2 else None


def variant_figures(raw: dict[str, Any]) -> dict[str, Any]:
    """The figures of one variant's raw record (what `PressureRun.variant` stores)."""
    samples = [Sample(*s) for s in raw.get("samples", [])]
    threshold = int(raw.get("threshold_kb", 0))
    eps = shortages(samples, threshold)
    relieved = [r - o for o, r in eps if r is not None]
    end = raw.get("end", {})
    return {
        "steps": len(raw.get("steps", [])),
        "launches": sum(1 for s in raw.get("steps", []) if s.get("launched")),
        "apps_alive": end.get("apps_alive"),
        "trims": end.get("lmk_trims"),
        "trims_answered": end.get("lmk_trims_answered"),
        "trimmed_kb": end.get("lmk_trimmed_kb"),
        "kills": end.get("lmk_kills"),
        "foreground_kills": end.get("lmk_foreground_kills"),
        "first_kill_step": raw.get("first_kill_step"),
        "psi_events": end.get("psi_events"),
        "stall_ms": stall_ms(samples),
        "shortages": len(eps),
        "unrelieved": sum(1 for _, r in eps if r is None),
        "relief_s": stats.describe(relieved),
        "threshold_kb": threshold,
    }


def summarize(results: dict[str, ModeResult]) -> dict[str, dict[str, dict[str, Any]]]:
    """{mode: {variant: figures}} for the modes that ran the scenario."""
    return {m: {v: variant_figures(raw) for v, raw in r.pressure.items()}
            for m, r in results.items() if r.pressure}


def rows(summary: dict[str, Any]) -> list[list[str]]:
    """One row per mode and variant for report.md."""
    def f(v: Any, digits: int = 0) -> str:
        if v is None:
            return "n/a"
        return f"{v:.{digits}f}" if isinstance(v, float) else str(v)
    out = []
    for mode, variants in summary.get("pressure", {}).items():
        for name, p in variants.items():
            relief = p["relief_s"]
            out.append([mode, name, f(p["launches"]), f(p["apps_alive"]),
                        f"{f(p['trims_answered'])}/{f(p['trims'])}", f(p["trimmed_kb"]),
                        f(p["kills"]), fg_killed(p["foreground_kills"]), f(p["stall_ms"]),
                        f"{p['shortages']} ({p['unrelieved']} unrelieved)",
                        f(relief.get("median"), 1), f(relief.get("max"), 1)])
    return out


def fg_killed(kills: Any) -> str:
    """Was the foreground app ever killed: "no", "yes (N times)" or "n/a"."""
    if kills is None:
        return "n/a"
    return f"yes ({kills:.0f} times)" if kills else "no"


HEADER = ["mode", "variant", "launches", "apps alive at end", "trims answered/asked",
          "trimmed KiB", "kills", "foreground killed", "PSI stall ms", "shortages",
          "relief s, median", "relief s, max"]


def start_sampler(guest: Guest) -> None:
    """MemAvailable and the PSI some total every SAMPLE_S into SAMPLES, until stop_sampler.
    Shell builtins only (read, case), one sleep per sample: little load of its own."""
    loop = (f"while [ -e {SAMPLING} ]; do read up _ < /proc/uptime; "
            "av=; while read -r k v _; do [ \"$k\" = MemAvailable: ] && { av=$v; break; }; "
            "done < /proc/meminfo; some=-; "
            "{ read -r line < /proc/pressure/memory && some=${line##*total=}; } 2>/dev/null; "
            f"echo \"$up $av $some\"; sleep {SAMPLE_S}; done > {SAMPLES}")
    guest.sh(f"mkdir -p {killer.BENCH_DIR} && touch {SAMPLING} && "
             f"(sh -c {shlex.quote(loop)} </dev/null >/dev/null 2>&1 &)")


def stop_sampler(guest: Guest) -> None:
    guest.sh(f"rm -f {SAMPLING}; sleep {SAMPLE_S * 2}; true")


def read_samples(guest: Guest) -> list[Sample]:
    return parse_samples(guest.sh(f"cat {SAMPLES} 2>/dev/null; true"))


class PressureRun:
    """The scenario's three variants on one guest (its nuwad is restarted for each, and
    put back as the session had it afterwards)."""

    def __init__(self, guest: Guest, mode: str, result: ModeResult, apps: list[str],
                 steps: int, after_kill: int, dwell_s: float, say: Callable[[str], None],
                 clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.guest, self.mode, self.result, self.apps = guest, mode, result, apps
        self.steps, self.after_kill, self.dwell_s = steps, after_kill, dwell_s
        self.say, self.clock, self.sleep = say, clock, sleep

    def run(self, kill_all: Callable[[], None]) -> None:
        ran = self.result.ran
        session_conf = self.guest.sh(f"cat {ran.get('nuwad_config', killer.DEVICE_CONFIG)}")
        total = self.result.mem_total_kb or self.guest.meminfo()["MemTotal"]
        threshold = scenario_threshold(total)
        try:
            for name, keys in VARIANTS.items():
                conf = killer.with_daemon_keys(session_conf, {
                    **keys, killer.KEY: str(threshold), "tick_ms": "1000"})
                killer.restart_nuwad(self.guest, conf)
                self.guest.wait_ready(180, need_template=self.mode == TEMPLATE)
                self.say(f"pressure scenario, {name}")
                try:
                    self.result.pressure[name] = self.variant(threshold)
                finally:
                    self.stop_sampler()
                    kill_all()
        finally:
            # the session's nuwad again: the device's own, or the bench config it ran
            if ran.get("nuwad_config") == killer.BENCH_CONFIG:
                killer.restart_nuwad(self.guest, session_conf)
            else:
                killer.restore_nuwad(self.guest)
            self.guest.wait_ready(180, need_template=self.mode == TEMPLATE)

    def running(self) -> set[int]:
        return {int(a["pid"]) for a in self.guest.nuwactl("list")
                if a.get("app") and a.get("state") == "running"}

    def start_sampler(self) -> None:
        start_sampler(self.guest)

    def stop_sampler(self) -> None:
        stop_sampler(self.guest)

    def variant(self, threshold: int) -> dict[str, Any]:
        pattern = session_pattern(self.apps, self.steps)
        opened: list[int] = []  # pids in the order they were opened
        record: dict[str, Any] = {"threshold_kb": threshold, "steps": [], "first_kill_step": None}
        self.start_sampler()
        mode = launch_mode(self.mode)
        steps_left = None
        alive = self.running()
        for i, step in enumerate(pattern, 1):
            opened = [p for p in opened if p in alive]
            entry: dict[str, Any] = {"step": i, "action": step.action, "launched": False}
            if step.action == SWITCH and len(opened) > step.back:
                pid = opened[-1 - step.back]
                opened.remove(pid)
                opened.append(pid)  # most recently used last
            else:
                app = step.app or self.apps[i % len(self.apps)]
                try:
                    pid = int(self.guest.nuwactl("launch", app, "--mode", mode)["pid"])
                except NuwaError as e:
                    self.result.notes.append(f"pressure: step {i} ({app}) did not launch: {e}")
                    entry["error"] = str(e)
                    record["steps"].append(entry)
                    continue
                opened.append(pid)
                entry.update(launched=True, app=app)
            try:
                # in front of the user, who looks at it: its UI asks for its state
                self.guest.nuwactl("foreground", str(pid))
                self.guest.nuwactl("call", str(pid), "status")
            except NuwaError as e:  # killed in between: the next step goes on
                entry["error"] = str(e)
            entry["pid"] = pid
            record["steps"].append(entry)
            self.sleep(self.dwell_s)
            st = self.guest.nuwactl("stats")
            # the apps of the next step (the spare is listed without a name)
            alive = {int(a["pid"]) for a in st.get("apps", []) if a.get("app")}
            if record["first_kill_step"] is None and int(st.get("lmk_kills", 0)) > 0:
                record["first_kill_step"] = i
                steps_left = self.after_kill
                self.say(f"first low-memory kill at step {i}")
            if steps_left is not None:
                steps_left -= 1
                if steps_left <= 0:
                    break
        self.sleep(2.0)  # the last step's trims and kills land
        st = self.guest.nuwactl("stats")
        psi = st.get("psi") or {}
        record["end"] = {
            "apps_alive": len(self.running()),
            **{k: st.get(k) for k in ("lmk_kills", "lmk_foreground_kills", "lmk_trims",
                                      "lmk_trims_answered", "lmk_trimmed_kb")},
            "psi_events": psi.get("events"),
            "mem_available_kb": st.get("mem_available_kb"),
        }
        self.stop_sampler()
        samples = read_samples(self.guest)
        record["samples"] = [[s.seconds, s.available_kb, s.stall_us] for s in samples]
        return record
