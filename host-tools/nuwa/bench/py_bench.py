"""Python apps on the template, measured on a target (docs/benchmarks.md).

Two private nuwads run libnuwapy side by side, one with `gc_freeze=yes`, one
with `gc_freeze=no` (own sockets, state dirs and app uids; the device's nuwad
is left alone):

1. launches: every Python sample app, alternately in template and exec
   mode, RUNS times each (gc_freeze=yes): nuwad's launch_ms;
2. memory: the four apps running together, once per mode: USS/PSS/RSS of
   each app and of the template (its cost);
3. drift: the four apps in template mode under both nuwads at once, USS of
   each every SAMPLE seconds for DRIFT seconds, and where the growth is (the
   app's private KiB per mapping category at the start and at the end).
"""
from __future__ import annotations

import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import NuwaError
from ..target import Target
from .private_nuwad import PrivateNuwad

APPS = ("weather", "todo", "feeds", "sensorlog")
MODES = ("template", "exec")
FREEZE = ("yes", "no")
# Private KiB per mapping of /proc/PID/smaps (busybox awk).
SMAPS_AWK = ("awk '/^[0-9a-f]+-[0-9a-f]+ /{n=($6==\"\"?\"[anon]\":$6)} "
             "/^Private_(Clean|Dirty):/{s[n]+=$2} END{for(k in s) if(s[k]) print s[k], k}'")


def bench_dir(freeze: str) -> str:
    return f"/tmp/nuwa-pybench-gc{freeze}"


def config_text(freeze: str, uid_base: int) -> str:
    return "\n".join([
        "[daemon]", "spare_delay_ms = 300", "ready_timeout_ms = 120000",
        f"app_uids = {uid_base}-{uid_base + 99}", "landlock = required", "lmk_threshold_kb = 0", "",
        "[framework]", "library = /usr/lib/nuwa/libnuwapy.so",
        f"args = data_dir=/usr/share/nuwa gc_freeze={freeze}",
        "sandbox_read = /usr/lib/python3.11 /usr/lib/nuwa/py /etc/ssl/certs", "",
        *[f"[app {a}]\nlibrary = /usr/lib/nuwa/libnuwapy.so\n" for a in APPS]])


def category(mapping: str) -> str:
    """A mapping's category: the heap, anonymous memory (pymalloc's arenas and
    large allocations), the stack, libpython, another library, anything else."""
    if mapping in ("[heap]", "[stack]", "[anon]"):
        return mapping
    if "libpython3.11" in mapping:
        return "libpython3.11"
    if "/python3.11/lib-dynload/" in mapping:
        return "extension modules"
    if ".so" in mapping:
        return "other libraries"
    return "other"


def categories(smaps_lines: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in smaps_lines.splitlines():
        kb, _, name = line.strip().partition(" ")
        if kb.isdigit():
            c = category(name)
            out[c] = out.get(c, 0) + int(kb)
    return out


@dataclass
class Figures:
    launch_ms: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    memory: dict[str, list[dict[str, int | str]]] = field(default_factory=dict)
    template: dict[str, dict[str, int]] = field(default_factory=dict)
    # drift[freeze][app] = [(seconds, uss_kb), ...]
    drift: dict[str, dict[str, list[tuple[float, int]]]] = field(default_factory=dict)
    # where[freeze][app] = (categories at start, categories at the end)
    where: dict[str, dict[str, tuple[dict[str, int], dict[str, int]]]] = field(
        default_factory=dict)
    gc_stats: dict[str, str] = field(default_factory=dict)
    # after_collect[freeze][app] = USS after one full collection at the end
    after_collect: dict[str, dict[str, int]] = field(default_factory=dict)


class PyBench:
    def __init__(self, target: Target, runs: int = 5, drift_s: float = 600,
                 sample_s: float = 30) -> None:
        self.t = target
        self.runs = runs
        self.drift_s = drift_s
        self.sample_s = sample_s
        self.f = Figures()
        self.nuwads = {
            freeze: PrivateNuwad(target, bench_dir(freeze), config_text(freeze, 30100 + 100 * i),
                                 name=f"private nuwad (gc_freeze={freeze})",
                                 ready_timeout=300, timeout=300)
            for i, freeze in enumerate(FREEZE)}

    def ctl(self, freeze: str, *args: str) -> Any:
        return self.nuwads[freeze].guest.nuwactl(*args)

    def start(self) -> None:
        """Both nuwads started, then waited for: their templates start side by side. One
        that does not get ready stops both."""
        try:
            for nuwad in self.nuwads.values():
                nuwad.spawn()
            for nuwad in self.nuwads.values():
                nuwad.wait_ready()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for nuwad in self.nuwads.values():
            nuwad.stop()

    def launch(self, freeze: str, app: str, mode: str) -> dict[str, object]:
        info = self.ctl(freeze, "launch", app, "--mode", mode)
        assert isinstance(info, dict)
        return info

    def launches(self) -> None:
        for _ in range(self.runs):
            for app in APPS:
                for mode in MODES:
                    info = self.launch("yes", app, mode)
                    self.ctl("yes", "kill", str(info["pid"]))
                    self.f.launch_ms.setdefault((app, mode), []).append(float(info["launch_ms"]))
                    if mode == "template":
                        time.sleep(1)  # the spare refills: every sample uses one

    def memory(self, settle_s: float = 10) -> None:
        for mode in MODES:
            pids = [self.launch("yes", app, mode)["pid"] for app in APPS]
            time.sleep(settle_s)
            listed = self.ctl("yes", "list")
            assert isinstance(listed, list)
            self.f.memory[mode] = [
                {"app": a["app"], "uss_kb": a["uss_kb"], "pss_kb": a["pss_kb"],
                 "rss_kb": a["rss_kb"]} for a in listed if a["pid"] in pids]
            stats = self.ctl("yes", "stats")
            assert isinstance(stats, dict)
            self.f.template[mode] = {k: int(stats["template"][k])
                                     for k in ("uss_kb", "pss_kb", "rss_kb")}
            for pid in pids:
                self.ctl("yes", "kill", str(pid))
            time.sleep(2)

    def smaps(self, pid: int) -> dict[str, int]:
        return categories(self.nuwads["yes"].guest.sh(f"{SMAPS_AWK} /proc/{pid}/smaps"))

    def drift(self) -> None:
        pids = {freeze: {app: int(self.launch(freeze, app, "template")["pid"])  # type: ignore
                         for app in APPS} for freeze in FREEZE}
        time.sleep(2)
        start = {fr: {a: self.smaps(p) for a, p in ps.items()} for fr, ps in pids.items()}
        t0 = time.monotonic()
        while True:
            now = time.monotonic() - t0
            for freeze in FREEZE:
                listed = self.ctl(freeze, "list")
                assert isinstance(listed, list)
                uss = {a["pid"]: int(a["uss_kb"]) for a in listed}
                for app, pid in pids[freeze].items():
                    if pid not in uss:
                        raise NuwaError(f"{app} (gc_freeze={freeze}) died during the drift run")
                    self.f.drift.setdefault(freeze, {}).setdefault(app, []).append(
                        (round(now, 1), uss[pid]))
            if now >= self.drift_s:
                break
            time.sleep(max(0.0, min(self.sample_s, self.drift_s - now)))
        for freeze in FREEZE:
            self.f.where[freeze] = {a: (start[freeze][a], self.smaps(p))
                                    for a, p in pids[freeze].items()}
            reply = self.ctl(freeze, "call", str(pids[freeze]["weather"]), "nuwa:gc")
            assert isinstance(reply, dict)
            self.f.gc_stats[freeze] = str(reply["reply"])
        # Then one full collection in every app (what a trim does): with
        # gc_freeze=no it walks, and so copies, the template's objects too.
        for freeze in FREEZE:
            for pid in pids[freeze].values():
                self.ctl(freeze, "call", str(pid), "nuwa:collect")
        time.sleep(2)
        for freeze in FREEZE:
            listed = self.ctl(freeze, "list")
            assert isinstance(listed, list)
            uss = {a["pid"]: int(a["uss_kb"]) for a in listed}
            self.f.after_collect[freeze] = {a: uss[p] for a, p in pids[freeze].items()}
            for pid in pids[freeze].values():
                self.ctl(freeze, "kill", str(pid))


def _median(xs: Sequence[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def render(f: Figures, command: str, note: str = "") -> str:
    out = [f"Command: `{command}`", ""]
    if note:
        out += [note, ""]
    out += ["| app | launch median, template | exec | ratio | USS template | USS exec | ratio "
            "| PSS template | PSS exec |", "|---|---|---|---|---|---|---|---|---|"]
    mem = {m: {r["app"]: r for r in f.memory.get(m, [])} for m in MODES}
    uss_ratios = []
    for app in APPS:
        lt, le = _median(f.launch_ms.get((app, "template"), [])), \
            _median(f.launch_ms.get((app, "exec"), []))
        mt, me = mem["template"].get(app), mem["exec"].get(app)
        row = f"| {app} | {lt:.0f} ms | {le:.0f} ms | {lt / le:.3f} |"
        if mt and me:
            ut, ue = int(mt["uss_kb"]), int(me["uss_kb"])
            uss_ratios.append(ut / ue)
            row += f" {ut} kB | {ue} kB | {ut / ue:.2f} | {mt['pss_kb']} kB | {me['pss_kb']} kB |"
        else:
            row += " - | - | - | - | - |"
        out.append(row)
    all_t = [x for a in APPS for x in f.launch_ms.get((a, "template"), [])]
    all_e = [x for a in APPS for x in f.launch_ms.get((a, "exec"), [])]
    if all_t and all_e:
        out += ["", f"All apps: median launch template {_median(all_t):.0f} ms, exec "
                f"{_median(all_e):.0f} ms, ratio {_median(all_t) / _median(all_e):.3f} "
                f"({len(all_t)} launches each); mean per-app USS ratio "
                f"{statistics.mean(uss_ratios):.2f}." if uss_ratios else ""]
    for mode, tpl in f.template.items():
        out.append(f"Template while the apps ran ({mode} run): USS {tpl['uss_kb']} kB, "
                   f"PSS {tpl['pss_kb']} kB, RSS {tpl['rss_kb']} kB.")
    if f.drift:
        out += ["", "| app | gc_freeze | USS at start | USS at end | drift "
                "| USS after one full collection |", "|---|---|---|---|---|---|"]
        for app in APPS:
            for freeze in FREEZE:
                s = f.drift.get(freeze, {}).get(app)
                if not s:
                    continue
                (t0, u0), (t1, u1) = s[0], s[-1]
                after = f.after_collect.get(freeze, {}).get(app)
                coll = f"{after} kB ({100 * (after - u0) / u0:+.1f} %)" if after else "-"
                out.append(f"| {app} | {freeze} | {u0} kB | {u1} kB | "
                           f"{100 * (u1 - u0) / u0:+.1f} % ({t1 - t0:.0f} s) | {coll} |")
        out += ["", "Where the growth is (the four apps together, private KiB per mapping "
                "category, start → end):", "",
                "| category | gc_freeze=yes | gc_freeze=no |", "|---|---|---|"]
        cats = sorted({c for fr in f.where.values() for a in fr.values() for d in a for c in d})
        for c in cats:
            cells = []
            for freeze in FREEZE:
                a0 = sum(v[0].get(c, 0) for v in f.where.get(freeze, {}).values())
                a1 = sum(v[1].get(c, 0) for v in f.where.get(freeze, {}).values())
                cells.append(f"{a0} → {a1} ({a1 - a0:+d})")
            out.append(f"| {c} | {' | '.join(cells)} |")
        for freeze, g in f.gc_stats.items():
            out.append(f"\nweather's collector at the end, gc_freeze={freeze}: `{g}`")
        out += ["", "Samples (s, USS kB): " + json.dumps(
            {fr: {a: s for a, s in apps.items()} for fr, apps in f.drift.items()})]
    return "\n".join(out) + "\n"
