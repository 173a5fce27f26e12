"""`nuwa elf-report`: relocations and privately written pages of the framework's libraries."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from nuwa import board as boards
from nuwa import paths
from nuwa.bench.tables import fmt, markdown
from nuwa.board import Board
from nuwa.commands import add_board_arg
from nuwa.errors import NuwaError
from nuwa.image import elf_report


def register(sub: Any) -> None:
    p = sub.add_parser(
        "elf-report",
        help="relocations, RELRO/GOT/data sizes of the framework's libraries",
        description="Read the framework's shared libraries with pyelftools: relocation counts "
        "by type and the RELRO, GOT, .data and .bss sizes each exec'd process writes "
        "privately; with --bench, set them next to a bench run's measured savings.",
    )
    add_board_arg(p)
    p.add_argument("--root", type=Path,
                   help="root file system tree to search (default: the board's sysroot and "
                   "the runtime's cross build)")
    p.add_argument("--bench", type=Path, metavar="REPORT",
                   help="a bench report.json (or its directory) to compare with")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.add_argument("libraries", nargs="*", type=Path, help="library files (default: search root)")
    p.set_defaults(func=run)


def default_dirs(b: Board) -> list[Path]:
    """Where `nuwa image` leaves the board's libraries: its sysroot (same packages and
    versions as the image) and the runtime's cross build (the framework's own .so files)."""
    base = paths.board_out(b.name)
    dirs = elf_report.library_dirs(base / "sysroot", b.gnu.multiarch)
    cross = paths.top() / "runtime" / "build" / b.gnu.gnu_type
    if cross.is_dir():
        dirs.append(cross)
    if not dirs:
        raise NuwaError(f"no sysroot under {base} and no runtime cross build: run `nuwa image "
                        f"--board {b.name}` first, or give --root DIR or library files")
    return dirs


def load_bench(path: Path) -> dict[str, Any]:
    if path.is_dir():
        path = path / "report.json"
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise NuwaError(f"{path}: not a readable bench report ({e})") from e
    if not isinstance(report, dict) or "modes" not in report:
        raise NuwaError(f"{path}: not a bench report (no 'modes')")
    return report


def library_rows(reports: list[elf_report.LibraryReport]) -> list[list[str]]:
    rows = []
    for r in reports:
        kinds = elf_report.kind_counts(r.relocations)
        rows.append([r.name, str(r.relocation_total), *(str(n) for n in kinds.values()),
                     fmt(r.relro_kb, "", 1), fmt(r.got_kb, "", 1), fmt(r.data_kb, "", 1),
                     fmt(r.bss_kb, "", 1), fmt(r.relocated_kb), fmt(r.writable_pages * 4)])
    return rows


def comparison_rows(rows: list[dict[str, Any]]) -> list[list[str]]:
    return [[r["name"], fmt(r["estimate_min_kb"]), fmt(r["estimate_max_kb"]),
             fmt(r["measured_exec_kb"], "", 1), fmt(r["measured_template_kb"], "", 1),
             fmt(r["measured_saving_kb"], "", 1)] for r in rows]


def run(args: argparse.Namespace) -> int:
    files = list(args.libraries)
    if not files:
        b = boards.load(args.board)
        dirs = (elf_report.library_dirs(args.root, b.gnu.multiarch) if args.root
                else default_dirs(b))
        files = elf_report.find_libraries(dirs)
        if not files:
            where = args.root or ", ".join(str(d) for d in dirs)
            raise NuwaError(f"none of the framework's libraries found in {where}")
    reports = [elf_report.analyze(f) for f in files]
    bench = load_bench(args.bench) if args.bench else None
    comparison = elf_report.compare(reports, bench) if bench else None
    if args.json:
        out: dict[str, Any] = {"libraries": [r.to_dict() for r in reports]}
        if comparison is not None:
            out["comparison"] = comparison
        json.dump(out, sys.stdout, indent=2)
        print()
        return 0
    print(markdown(["library", "relocs", *elf_report.RELOC_KINDS, "other", "RELRO KiB",
                    "GOT KiB", ".data KiB", ".bss KiB", "relocated KiB", "writable KiB"],
                   library_rows(reports)))
    print("\nrelocated KiB: pages that dynamic relocations write in every exec'd process "
          "(at least); writable KiB: pages the writable segments span (at most).")
    if comparison is not None:
        print()
        print(markdown(["library", "ELF min KiB", "ELF max KiB", "measured exec KiB/app",
                        "measured template KiB/app", "saved KiB/app"],
                       comparison_rows(comparison)))
    return 0
