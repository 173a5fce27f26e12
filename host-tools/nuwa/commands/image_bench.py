"""nuwa image-bench: the image figures of docs/benchmarks.md.

Times a warm `nuwa image` (cache full), optionally a cold one (empty cache,
everything downloaded), reads the artifact sizes, and boots the image a few
times for QEMU start -> shell prompt and MemAvailable right after boot.
Writes out/bench/image-<stamp>.json and prints a Markdown table.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

from .. import board, paths
from ..errors import NuwaError
from ..target import Qemu
from . import add_board_arg, add_mem_arg


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("image-bench", help="measure image build time, sizes, boot time, memory")
    add_board_arg(p)
    add_mem_arg(p)
    p.add_argument("--cold", action="store_true",
                   help="also time a build from an empty cache (downloads everything)")
    p.add_argument("--boots", type=int, default=3, help="boots to time (default 3)")
    p.set_defaults(func=run)


def timed_build(board_name: str, env: dict[str, str]) -> float:
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "nuwa.cli", "image", "--board", board_name],
                       env={**os.environ, **env}, check=False, capture_output=True, text=True)
    if p.returncode != 0:
        raise NuwaError(f"image build failed:\n{p.stderr[-2000:]}")
    return time.monotonic() - t0


def boot_once(b: board.Board, mem: int | None) -> dict[str, float]:
    vm = Qemu(b, mem=mem)
    t0 = time.monotonic()
    with vm:
        vm.console.wait_ready()  # the console shell answers: the prompt is there
        prompt = time.monotonic() - t0
        meminfo = vm.console.check("cat /proc/meminfo")
    kb = {k: int(v) for k, v in re.findall(r"^(\w+):\s+(\d+) kB", meminfo, re.MULTILINE)}
    return {"boot_marker_s": vm.boot_seconds or 0.0, "shell_prompt_s": prompt,
            "mem_total_kib": kb["MemTotal"], "mem_available_kib": kb["MemAvailable"]}


def run(args: argparse.Namespace) -> int:
    b = board.load(args.board)
    res: dict[str, Any] = {"board": b.name, "mem_mib": args.mem or b.memory_mib,
                           "host_cpus": os.cpu_count()}
    if args.cold:
        with tempfile.TemporaryDirectory(prefix="nuwa-cold-") as tmp:
            res["cold_build_s"] = timed_build(b.name, {"NUWA_CACHE": f"{tmp}/cache",
                                                       "NUWA_OUT": f"{tmp}/out"})
    timed_build(b.name, {})  # fills the cache if needed
    res["warm_build_s"] = timed_build(b.name, {})
    manifest = json.loads((paths.board_out(b.name) / "manifest.json").read_text())
    res["sizes_bytes"] = {n: a["size"] for n, a in manifest["artifacts"].items()}
    boots = [boot_once(b, args.mem) for _ in range(args.boots)]
    res["boots"] = boots
    for key in ("boot_marker_s", "shell_prompt_s", "mem_available_kib"):
        res[f"median_{key}"] = statistics.median(x[key] for x in boots)
    out = paths.out_dir() / "bench" / f"image-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2) + "\n")
    mib = 2**20
    rows = [("warm `make image`", f"{res['warm_build_s']:.1f} s")]
    if "cold_build_s" in res:
        rows.append(("cold `make image` (empty cache)", f"{res['cold_build_s']:.1f} s"))
    rows += [(f"{n} size", f"{s / mib:.1f} MiB") for n, s in res["sizes_bytes"].items()
             if n != "manifest.json"]
    rows += [("QEMU start to shell prompt (median of "
              f"{len(boots)})", f"{res['median_shell_prompt_s']:.1f} s"),
             (f"MemAvailable after boot ({res['mem_mib']} MiB guest)",
              f"{res['median_mem_available_kib'] / 1024:.1f} MiB"),
             ("MemTotal", f"{boots[0]['mem_total_kib'] / 1024:.1f} MiB")]
    print("| figure | value |\n|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")
    print(f"\nraw results: {out}", file=sys.stderr)
    return 0
