"""PNG plots of a bench run: memory against number of apps, launch latency distribution."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display on build hosts or CI
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from nuwa.bench.phases import phase_medians  # noqa: E402
from nuwa.bench.results import ModeResult  # noqa: E402

MEMORY_PLOT = "memory_vs_apps.png"
LATENCY_PLOT = "launch_latency.png"
DRIFT_PLOT = "uss_over_time.png"
PHASES_PLOT = "launch_phases.png"


def memory_vs_apps(results: dict[str, ModeResult], path: Path) -> None:
    """MemAvailable and summed app PSS after each app of the round-robin fill, both modes."""
    fig, (avail, pss) = plt.subplots(1, 2, figsize=(11, 4.2))
    for mode, r in results.items():
        n = [0] + [p.n_apps for p in r.fill]
        available = [r.idle_mem_available_kb] + [p.mem_available_kb for p in r.fill]
        avail.plot(n, [kb / 1024 for kb in available], marker=".", label=f"{mode} mode")
        fixed = r.overhead.get("template"), r.overhead.get("spare")
        start = sum(p.pss_kb for p in fixed if p is not None) if mode == "template" else 0
        total = [start] + [p.apps_pss_kb + p.template_pss_kb for p in r.fill]
        label = f"{mode} mode" + (": apps + template + spare" if mode == "template" else ": apps")
        pss.plot(n, [kb / 1024 for kb in total], marker=".", label=label)
        if r.lmk_reached and r.apps_until_lmk is not None:
            avail.axvline(r.apps_until_lmk, linestyle=":", color=avail.lines[-1].get_color())
    avail.set(title="MemAvailable (dotted: first low-memory kill)", xlabel="apps running",
              ylabel="MiB")
    pss.set(title="memory of the apps and what serves them (PSS)", xlabel="apps running",
            ylabel="MiB")
    for ax in (avail, pss):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def launch_latency(results: dict[str, ModeResult], path: Path) -> None:
    """Launch latency distribution per mode, with and without the spare."""
    series: list[tuple[str, list[float]]] = []
    for mode, r in results.items():
        series.append((f"{mode}", [s.launch_ms for s in r.launches]))
        if r.launches_no_spare:
            series.append((f"{mode}, no spare", [s.launch_ms for s in r.launches_no_spare]))
    series = [(label, v) for label, v in series if v]
    fig, ax = plt.subplots(figsize=(8, 4.2))
    if series:
        ax.boxplot([v for _, v in series], orientation="horizontal", showfliers=True)
        ax.set_yticks(range(1, len(series) + 1), [label for label, _ in series])
        for i, (_, values) in enumerate(series, 1):
            ax.scatter(values, [i] * len(values), s=8, alpha=0.5)
        ax.set_xscale("log")
    ax.set(title="launch latency (request to app ready)", xlabel="ms (log scale)")
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def uss_over_time(results: dict[str, ModeResult], path: Path) -> None:
    """Mean per-app USS of the one-of-each apps at each drift checkpoint, per mode."""
    fig, ax = plt.subplots(figsize=(8, 4.2))
    for mode, r in results.items():
        by_t: dict[float, list[int]] = {}
        for p in r.drift_series:
            by_t.setdefault(p.seconds, []).append(p.uss_kb)
        if by_t:
            ts = sorted(by_t)
            ax.plot([t / 60 for t in ts], [sum(by_t[t]) / len(by_t[t]) / 1024 for t in ts],
                    marker="o", label=f"{mode} mode")
    ax.set(title="per-app USS while the apps run (mean over the apps)",
           xlabel="minutes after the first measurement", ylabel="MiB")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def launch_phases(results: dict[str, ModeResult], path: Path) -> None:
    """One stacked bar per mode, pool and app: the median of each launch phase."""
    bars: list[tuple[str, dict[str, float | None]]] = []
    for mode, r in results.items():
        for pool, apps in phase_medians(r).items():
            bars += [(f"{mode}, {pool}: {app}", phases) for app, phases in apps.items()]
    names: list[str] = []
    for _, phases in bars:
        names += [n for n in phases if n not in names]
    fig, ax = plt.subplots(figsize=(10, 0.35 * len(bars) + 2))
    left = [0.0] * len(bars)
    for name in names:
        widths = [phases.get(name) or 0.0 for _, phases in bars]
        ax.barh(range(len(bars)), widths, left=left, label=name)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    ax.set_yticks(range(len(bars)), [label for label, _ in bars])
    ax.set(title="launch phases (median per app)", xlabel="ms")
    if names:
        ax.legend(fontsize="x-small", ncol=2, loc="lower right")
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_plots(results: dict[str, ModeResult], directory: Path) -> list[str]:
    memory_vs_apps(results, directory / MEMORY_PLOT)
    launch_latency(results, directory / LATENCY_PLOT)
    uss_over_time(results, directory / DRIFT_PLOT)
    launch_phases(results, directory / PHASES_PLOT)
    return [MEMORY_PLOT, LATENCY_PLOT, DRIFT_PLOT, PHASES_PLOT]
