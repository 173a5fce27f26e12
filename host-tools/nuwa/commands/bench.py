"""`nuwa bench`: template versus exec (the fair baseline) and exec+ksm on fresh guests;
report.json/.md and plots."""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from nuwa import paths
from nuwa.bench.options import ALL_MODES, BenchOptions
from nuwa.bench.plan import FULL, QUICK, Plan
from nuwa.bench.platforms import PLATFORMS, check_apps, platform_apps
from nuwa.bench.progress import Progress
from nuwa.bench.repeats import mode_order
from nuwa.bench.results import MODES, ModeResult
from nuwa.bench.runner import PHASE_KEYS, ModeRunner
from nuwa.commands import add_board_arg, add_host_key_arg, add_mem_arg
from nuwa.errors import NuwaError, Terminated
from nuwa.target.url import TARGET_FORMS


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def register(sub: Any) -> None:
    p = sub.add_parser(
        "bench",
        help="measure template versus exec mode (and exec+ksm) and write a report",
        description="Boot a fresh guest per mode, measure memory (USS/PSS/RSS, smaps "
        "breakdown, drift over time), launch and fork latency and apps before the first "
        "low-memory kill, and write report.json, report.md and plots.",
    )
    add_board_arg(p)
    add_mem_arg(p)
    p.add_argument("--quick", action="store_true", help="smaller run for demos and CI")
    p.add_argument("--repeat", type=positive_int, default=1, metavar="N",
                   help="N repeats, a guest per mode each, alternating which mode goes "
                   "first; figures are medians over repeats with min–max (default 1)")
    p.add_argument("--parallel", action="store_true",
                   help="boot the modes' guests at the same time, one thread each (QEMU "
                   "only): about half the run time on a host with a free core per guest, "
                   "and both modes share the host's load alike")
    p.add_argument("--modes", default=ALL_MODES, metavar="M,…",
                   help=f"modes to measure (known: {', '.join(MODES)}; default all)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="report directory (default: out/bench/<UTC stamp>/)")
    p.add_argument("--target", metavar="URL",
                   help=f"measure a running board instead of booting QEMU: {TARGET_FORMS}")
    add_host_key_arg(p)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--platform", default="c", metavar="NAME",
                   help=f"the apps of one framework, measured with its template "
                   f"({', '.join(PLATFORMS)}; default c)")
    p.add_argument("--apps", metavar="A,B,…",
                   help="apps to use (default: the platform's apps, from the include "
                   "directories; they must be on the platform's framework)")
    p.add_argument("--phases", metavar="P,…",
                   help=f"only these phases (of {', '.join(PHASE_KEYS)}; idle always runs; "
                   "default all; pressure runs in the full run only, or when named here; "
                   "pressure-psi only when named here)")
    p.add_argument("--lmk-threshold-kb", type=int, metavar="KB",
                   help="low-memory killer threshold for the run (default: the device's, or "
                   "MemTotal/8 when the device leaves the killer off)")
    p.set_defaults(func=lambda args: run(BenchOptions.from_args(args)))


def default_out() -> Path:
    return paths.out_dir() / "bench" / time.strftime("%Y%m%d-%H%M%S", time.gmtime())


def measure_mode(opts: BenchOptions, mode: str, plan: Plan,
                 progress: Progress) -> ModeResult:
    """One mode on its own guest; a failure to boot or prepare it is recorded, not raised."""
    from nuwa.bench.sessions import mode_session  # QEMU/SSH drivers: only when measuring

    progress(f"{mode}: {'connecting to' if opts.target else 'booting'} the target")
    try:
        with mode_session(opts.board, mode, opts.target, opts.mem, opts.lmk_threshold_kb,
                          accept_new_host_key=opts.accept_new_host_key) as session:
            guest = session.guest
            framework = opts.platform_spec.framework
            configured = guest.nuwactl("apps")
            apps = opts.app_list or platform_apps(configured, framework)
            check_apps(configured, apps, framework)
            runner = ModeRunner(guest, mode, plan, progress, only=opts.phase_set,
                                framework=framework)
            runner.result.lmk_threshold_kb = session.lmk_threshold_kb
            runner.result.ran = dict(session.ran)
            runner.result.notes.append(
                f"low-memory killer threshold {session.lmk_threshold_kb} KiB "
                f"({session.lmk_source})")
            result = runner.run(apps)
    except Exception as e:  # noqa: BLE001 - the other modes' results must survive
        result = ModeResult(mode=mode, errors=[f"guest: {e}" if isinstance(e, NuwaError)
                                               else f"guest: {type(e).__name__}: {e}"])
        progress(f"{mode}: failed: {e}")
        return result
    progress(f"{mode}: done")
    return result


def measure(opts: BenchOptions, progress: Progress, plan: Plan | None = None) -> list:
    from nuwa.bench.parallel import run_concurrently
    from nuwa.bench.report import Repeat
    from nuwa.bench.sessions import kill_guests

    plan = plan or (QUICK if opts.quick else FULL)
    phases = opts.phase_set  # bad names fail before booting
    if phases and "pressure" in phases and not plan.pressure_steps:
        plan = replace(plan, pressure_steps=FULL.pressure_steps)
    modes = opts.mode_list
    repeats: list[Repeat] = []
    try:
        for i in range(opts.repeat):
            order = mode_order(modes, i)
            if opts.repeat > 1:
                progress(f"repeat {i + 1} of {opts.repeat}: {', '.join(order)}")
            if opts.parallel:
                results = run_concurrently(order, lambda m: measure_mode(opts, m, plan,
                                                                         progress),
                                           kill_guests)
            else:
                results = {m: measure_mode(opts, m, plan, progress) for m in order}
            # report order is fixed whatever the order they ran in
            repeats.append(Repeat({m: results[m] for m in modes}, order))
    except (KeyboardInterrupt, Terminated) as e:
        # Hours of complete repeats are not thrown away: the report keeps them (and,
        # with the error below, never replaces a complete report).
        if not repeats:
            raise
        what = "Ctrl-C" if isinstance(e, KeyboardInterrupt) else "SIGTERM"
        progress(f"{what}: stopped; the report keeps the {len(repeats)} complete repeat(s)")
        repeats[-1].errors.append(f"interrupted ({what}) after {len(repeats)} of "
                                  f"{opts.repeat} repeats; the figures are theirs")
    return repeats


def run(opts: BenchOptions, plan: Plan | None = None) -> int:
    from nuwa.bench.report import summary_table, write_report_dir  # matplotlib: slow import
    from nuwa.bench.sessions import describe_target

    opts.check()  # bad input: one clear error before anything boots
    out = opts.out or default_out()
    progress = Progress()
    used = plan or (QUICK if opts.quick else FULL)
    repeats = measure(opts, progress, used)
    meta = {
        "command": opts.command_line(),
        "plan": used.to_dict(),
        "platform": opts.platform_spec.to_dict(),
        "target": describe_target(opts.board, opts.target, opts.mem, opts.parallel),
    }
    report = write_report_dir(out, repeats, meta)
    where = Path(report["path"])
    if opts.json:
        print(json.dumps(report["summary"], indent=2))
    else:
        print(summary_table(report))
        missed = [g["figure"] for g in report["goals"] if g["met"] is False]
        if missed:
            print(f"\ngoals missed: {'; '.join(missed)} (why: see report.md)")
        print(f"\nreport: {where}")
    progress(f"report: {where}/report.md")
    if report["errors"]:
        kept = " (a complete report already there was kept)" if where != out.resolve() else ""
        raise NuwaError(f"the bench is incomplete; the report at {where} says what was "
                        f"measured{kept}: " + "; ".join(report["errors"]))
    return 0
