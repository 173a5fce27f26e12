"""`nuwa bench`: template versus exec (baseline) on fresh guests; report.json/.md and plots."""
from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path
from typing import Any

from nuwa import paths
from nuwa.bench.plan import FULL, QUICK
from nuwa.bench.progress import Progress
from nuwa.bench.results import MODES, ModeResult
from nuwa.bench.runner import ModeRunner
from nuwa.commands import add_board_arg, add_mem_arg
from nuwa.errors import NuwaError
from nuwa.target.url import TARGET_FORMS

INCLUDED = re.compile(r"\.d/[^/]+:\d+$")  # defined_at "DIR.d/NAME.conf:LINE"


def register(sub: Any) -> None:
    p = sub.add_parser(
        "bench",
        help="measure template versus exec mode and write a report",
        description="Boot a fresh guest per mode, measure memory (USS/PSS/RSS, smaps "
        "breakdown), launch and fork latency and apps before the first low-memory kill, "
        "and write report.json, report.md and plots.",
    )
    add_board_arg(p)
    add_mem_arg(p)
    p.add_argument("--quick", action="store_true", help="smaller run for demos and CI")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="report directory (default: out/bench/<UTC stamp>/)")
    p.add_argument("--target", metavar="URL",
                   help=f"measure a running board instead of booting QEMU: {TARGET_FORMS}")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--apps", metavar="A,B,…",
                   help="apps to use (default: the platform's apps, from the include directories)")
    p.add_argument("--lmk-threshold-kb", type=int, metavar="KB",
                   help="low-memory killer threshold for the run (default: the device's, or "
                   "MemTotal/8 when the device leaves the killer off)")
    p.set_defaults(func=run)


def default_out() -> Path:
    return paths.out_dir() / "bench" / time.strftime("%Y%m%d-%H%M%S", time.gmtime())


def measure(args: argparse.Namespace, progress: Progress) -> dict[str, ModeResult]:
    from nuwa.bench.sessions import mode_session  # QEMU/SSH drivers: only when measuring

    plan = QUICK if args.quick else FULL
    results: dict[str, ModeResult] = {}
    for mode in MODES:
        progress(f"{mode}: {'connecting to' if args.target else 'booting'} the target")
        with mode_session(args.board, mode, args.target, args.mem,
                          args.lmk_threshold_kb) as session:
            guest = session.guest
            apps = args.apps.split(",") if args.apps else platform_apps(guest.nuwactl("apps"))
            runner = ModeRunner(guest, mode, plan, progress)
            runner.result.lmk_threshold_kb = session.lmk_threshold_kb
            runner.result.notes.append(
                f"low-memory killer threshold {session.lmk_threshold_kb} KiB "
                f"({session.lmk_source})")
            results[mode] = runner.run(apps)
        progress(f"{mode}: done")
    return results


def platform_apps(answer: Any) -> list[str]:
    """The apps defined in include directories (`apps.d/*.conf`: the platform's apps); the
    main config's own sections (the runtime's test app) only when there are no others."""
    apps = [a for a in answer if isinstance(a, dict) and a.get("name")] \
        if isinstance(answer, list) else []
    if not apps:
        raise NuwaError(f"the target has no configured apps ({answer!r})")
    included = [a["name"] for a in apps if INCLUDED.search(str(a.get("defined_at", "")))]
    return included or [a["name"] for a in apps]


def run(args: argparse.Namespace) -> int:
    from nuwa.bench.report import summary_table, write_report_dir  # matplotlib: slow import
    from nuwa.bench.sessions import describe_target

    out = args.out or default_out()
    progress = Progress()
    results = measure(args, progress)
    meta = {
        "command": "nuwa bench" + (" --quick" if args.quick else "")
        + (f" --target {args.target}" if args.target else ""),
        "plan": (QUICK if args.quick else FULL).to_dict(),
        "target": describe_target(args.board, args.target, args.mem),
    }
    report = write_report_dir(out, results, meta)
    if args.json:
        print(json.dumps(report["summary"], indent=2))
    else:
        print(summary_table(report))
        missed = [g["figure"] for g in report["goals"] if g["met"] is False]
        if missed:
            print(f"\ngoals missed: {'; '.join(missed)} (why: see report.md)")
        print(f"\nreport: {out}")
    progress(f"report: {out}/report.md")
    errors = [f"{m}: {e}" for m, r in results.items() for e in r.errors]
    if errors:
        raise NuwaError("the bench is incomplete (the report says what was measured): "
                        + "; ".join(errors))
    return 0
