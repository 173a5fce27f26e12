"""What the sandbox and snapshots cost, measured on a target (docs/benchmarks.md).

A private nuwad (own socket and state dir, so the device's nuwad is left
alone) runs the real framework with every sample app twice: sandboxed (the
default) and with `sandbox = no`. Launch latency (nuwad's launch_ms) is
sampled alternately per variant and mode; then each sample app is
snapshotted once and its snapshot's size, write time and peak RSS are set
against the app's RSS just before.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..target import Target
from .private_nuwad import PrivateNuwad

DIR = "/tmp/nuwa-sandbox-bench"
SOCK = f"{DIR}/nuwad.sock"
SAMPLE_APPS = ("clock", "gallery", "messages", "music", "notes", "settings")


def config_text(apps: Sequence[str] = SAMPLE_APPS, lib_dir: str = "/usr/lib/nuwa") -> str:
    """The private nuwad's config: APP (sandboxed, own uid) and APP-nosb per app."""
    lines = ["[daemon]", "spare_delay_ms = 300", "ready_timeout_ms = 60000",
             f"snapshot_dir = {DIR}/snapshots", "snapshot_max_kb = 16384",
             "snapshot_quota_kb = 32768", "snapshot_timeout_ms = 30000", "",
             "[framework]", f"library = {lib_dir}/libnuwafw.so",
             "sandbox_read = /etc/ssl/certs", ""]
    for i, app in enumerate(apps):
        lines += [f"[app {app}]", f"library = {lib_dir}/app-{app}.so",
                  f"uid = {30001 + i}", f"gid = {30001 + i}", "",
                  f"[app {app}-nosb]", f"library = {lib_dir}/app-{app}.so", "sandbox = no", ""]
    return "\n".join(lines)


@dataclass
class LaunchSamples:
    """launch_ms samples keyed by (mode, sandboxed)."""
    samples: dict[tuple[str, bool], list[float]] = field(default_factory=dict)

    def add(self, mode: str, sandboxed: bool, ms: float) -> None:
        self.samples.setdefault((mode, sandboxed), []).append(ms)

    def median(self, mode: str, sandboxed: bool) -> float:
        return statistics.median(self.samples[(mode, sandboxed)])

    def minimum(self, mode: str, sandboxed: bool) -> float:
        """The least disturbed sample: QEMU on a shared host is noisy."""
        return min(self.samples[(mode, sandboxed)])

    def cost_ms(self, mode: str) -> float:
        return self.median(mode, True) - self.median(mode, False)

    def min_cost_ms(self, mode: str) -> float:
        return self.minimum(mode, True) - self.minimum(mode, False)


@dataclass(frozen=True)
class SnapshotFigure:
    app: str
    rss_kb: int
    bytes: int
    write_ms: float
    peak_rss_kb: int | None
    uss_before_kb: int | None = None
    uss_after_kb: int | None = None

    @property
    def extra_kb(self) -> int | None:
        """Peak RSS while writing minus RSS before: what the snapshot itself used."""
        return None if self.peak_rss_kb is None else self.peak_rss_kb - self.rss_kb


def render(launches: LaunchSamples, snaps: Sequence[SnapshotFigure], command: str) -> str:
    """The markdown for docs/benchmarks.md."""
    out = [f"Command: `{command}`", "",
           "| mode | launch_ms sandboxed: median (min) | `sandbox = no`: median (min) "
           "| cost: median (min) | runs |",
           "|---|---|---|---|---|"]
    for mode in ("template", "exec"):
        n = len(launches.samples.get((mode, True), []))
        if not n:
            continue
        lo = launches
        out.append(f"| {mode} | {lo.median(mode, True):.1f} ({lo.minimum(mode, True):.1f}) "
                   f"| {lo.median(mode, False):.1f} ({lo.minimum(mode, False):.1f}) "
                   f"| {lo.cost_ms(mode):+.1f} ({lo.min_cost_ms(mode):+.1f}) ms | {n} |")
    out += ["", "| app | RSS before, KiB | snapshot, KiB | write_ms | peak RSS while writing, KiB "
            "| RSS rise, KiB | USS before → after, KiB |", "|---|---|---|---|---|---|---|"]
    for s in sorted(snaps, key=lambda s: -s.rss_kb):
        extra = "-" if s.extra_kb is None else str(s.extra_kb)
        peak = "-" if s.peak_rss_kb is None else str(s.peak_rss_kb)
        uss = ("-" if s.uss_before_kb is None or s.uss_after_kb is None
               else f"{s.uss_before_kb} → {s.uss_after_kb}")
        out.append(f"| {s.app} | {s.rss_kb} | {s.bytes / 1024:.0f} | {s.write_ms:.1f} "
                   f"| {peak} | {extra} | {uss} |")
    return "\n".join(out) + "\n"


class SandboxBench:
    """Runs the measurement on TARGET (console or SSH) with a private nuwad."""

    def __init__(self, target: Target, runs: int = 15, apps: Sequence[str] = SAMPLE_APPS) -> None:
        self.t = target
        self.runs = runs
        self.apps = tuple(apps)
        self.nuwad = PrivateNuwad(target, DIR, config_text(self.apps), ready_timeout=180)

    def ctl(self, *args: str) -> Any:
        return self.nuwad.guest.nuwactl(*args)

    def start(self) -> None:
        self.nuwad.start()

    def stop(self) -> None:
        self.nuwad.stop()

    def launch_once(self, app: str, mode: str) -> float:
        info = self.ctl("launch", app, "--mode", mode)
        assert isinstance(info, dict)
        self.ctl("kill", str(info["pid"]))
        if mode == "template":
            time.sleep(0.5)  # let the spare refill, so every sample uses one
        return float(info["launch_ms"])

    def launches(self) -> LaunchSamples:
        s = LaunchSamples()
        app = self.apps[0]
        for _ in range(self.runs):
            for mode in ("template", "exec"):
                for sandboxed in (True, False):
                    name = app if sandboxed else f"{app}-nosb"
                    s.add(mode, sandboxed, self.launch_once(name, mode))
        return s

    def snapshots(self) -> list[SnapshotFigure]:
        figures = []
        for app in self.apps:
            info = self.ctl("launch", app)
            assert isinstance(info, dict)
            pid = info["pid"]
            time.sleep(1)  # let start-up work settle
            snap = self.ctl("snapshot", str(pid))
            assert isinstance(snap, dict)
            rss = int(snap["rss_before_kb"])
            peak, ub, ua = (snap.get(k) for k in ("peak_rss_kb", "uss_before_kb", "uss_after_kb"))
            figures.append(SnapshotFigure(app, rss, int(snap["bytes"]), float(snap["write_ms"]),
                                          None if peak is None else int(peak),
                                          None if ub is None else int(ub),
                                          None if ua is None else int(ua)))
            self.ctl("kill", str(pid))
        return figures
