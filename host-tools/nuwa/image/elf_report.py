"""What each exec'd process must write privately in a shared library, read from its ELF file.

A library loaded by fork+exec is relocated in every process: every page a dynamic relocation
lands on is copied on write, and .data/.bss pages are private as soon as they are touched.
Forked from a template, those pages stay shared. pyelftools reads relocations and segments;
`compare` sets the estimate next to what a bench run measured.
"""
from __future__ import annotations

import fnmatch
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from elftools.common.exceptions import ELFError
from elftools.elf.descriptions import describe_reloc_type
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection

from nuwa.errors import NuwaError

PAGE = 4096
# Dynamic relocation types pyelftools names wrongly or not at all, by ELF machine (from the
# processor ABI supplements; binutils' readelf uses these names).
RELOC_NAME_FIXES = {
    "EM_ARM": {17: "R_ARM_TLS_DTPMOD32", 18: "R_ARM_TLS_DTPOFF32", 160: "R_ARM_IRELATIVE"},
    "EM_AARCH64": {1028: "R_AARCH64_TLS_DTPMOD64", 1029: "R_AARCH64_TLS_DTPREL64",
                   1030: "R_AARCH64_TLS_TPREL64", 1031: "R_AARCH64_TLSDESC",
                   1032: "R_AARCH64_IRELATIVE"},
}

# The framework's libraries (file-name patterns, matched in the image's library directories).
FRAMEWORK_LIBRARIES = (
    "libssl.so.*",
    "libcrypto.so.*",
    "libsqlite3.so.*",
    "libxml2.so.*",
    "libicuuc.so.*",
    "libicui18n.so.*",
    "libicudata.so.*",
    "libnuwa*.so*",
)
# Where the runtime installs its own libraries and programs.
NUWA_DIRS = ("usr/lib/nuwa", "usr/libexec/nuwa")
# Relocation kinds every architecture has, by the ending of their names
# (R_<machine>_RELATIVE, ...; an absolute word is ABS32/ABS64 or R_<machine>_32/_64).
RELOC_KINDS = {"RELATIVE": r"_RELATIVE", "GLOB_DAT": r"_GLOB_DAT", "JUMP_SLOT": r"_JUMP_SLOT",
               "ABS": r"_(ABS)?(32|64)"}


@dataclass
class LibraryReport:
    """Relocations and writable areas of one shared library."""

    path: str
    name: str
    relocations: dict[str, int] = field(default_factory=dict)
    relro_kb: float = 0.0
    got_kb: float = 0.0
    data_kb: float = 0.0
    bss_kb: float = 0.0
    writable_kb: float = 0.0          # writable PT_LOAD segments (RELRO + data + bss), memsz
    relocated_pages: int = 0          # distinct pages dynamic relocations write at load time
    writable_pages: int = 0           # pages the writable segments span

    @property
    def relocation_total(self) -> int:
        return sum(self.relocations.values())

    @property
    def relocated_kb(self) -> float:
        return self.relocated_pages * PAGE / 1024

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["relocation_total"] = self.relocation_total
        d["relocated_kb"] = self.relocated_kb
        return d


def _pages(start: int, size: int) -> set[int]:
    if size <= 0:
        return set()
    return set(range(start // PAGE, (start + size - 1) // PAGE + 1))


def _reloc_name(kind: int, elf: ELFFile) -> str:
    fixed = RELOC_NAME_FIXES.get(elf["e_machine"], {}).get(kind)
    if fixed:
        return fixed
    name = describe_reloc_type(kind, elf)
    return name if name != "<unknown>" else f"type {kind}"


def analyze(path: Path) -> LibraryReport:
    """Read one ELF shared library; NuwaError when it is not one."""
    try:
        with path.open("rb") as f:
            elf = ELFFile(f)
            report = LibraryReport(path=str(path), name=path.name)
            reloc_pages: set[int] = set()
            counts: Counter[str] = Counter()
            for section in elf.iter_sections():
                if isinstance(section, RelocationSection) and section.name.startswith(
                        (".rel.", ".rela.")) and section["sh_flags"] & 0x2:  # SHF_ALLOC: dynamic
                    for reloc in section.iter_relocations():
                        counts[_reloc_name(reloc["r_info_type"], elf)] += 1
                        reloc_pages.add(reloc["r_offset"] // PAGE)
                size_kb = section["sh_size"] / 1024
                if section.name in (".got", ".got.plt"):
                    report.got_kb += size_kb
                elif section.name == ".data":
                    report.data_kb += size_kb
                elif section.name == ".bss":
                    report.bss_kb += size_kb
            writable_pages: set[int] = set()
            for seg in elf.iter_segments():
                if seg["p_type"] == "PT_GNU_RELRO":
                    report.relro_kb += seg["p_memsz"] / 1024
                elif seg["p_type"] == "PT_LOAD" and seg["p_flags"] & 0x2:  # PF_W
                    report.writable_kb += seg["p_memsz"] / 1024
                    writable_pages |= _pages(seg["p_vaddr"], seg["p_memsz"])
    except (OSError, ELFError) as e:
        raise NuwaError(f"{path}: not a readable ELF file ({e})") from e
    report.relocations = dict(counts.most_common())
    report.relocated_pages = len(reloc_pages)
    report.writable_pages = len(writable_pages)
    return report


def reloc_kind(name: str) -> str | None:
    """The architecture-neutral kind of a relocation type name, or None for the others."""
    for kind, ending in RELOC_KINDS.items():
        if re.search(ending + "$", name):
            return kind
    return None


def kind_counts(relocations: dict[str, int]) -> dict[str, int]:
    """Relocation counts by RELOC_KINDS kind, the rest under "other"."""
    out = dict.fromkeys([*RELOC_KINDS, "other"], 0)
    for name, n in relocations.items():
        out[reloc_kind(name) or "other"] += n
    return out


def library_dirs(root: Path, multiarch: str) -> list[Path]:
    """The library directories of a root file system tree (or sysroot) of the architecture
    whose multiarch tuple is `multiarch`."""
    rels = (f"usr/lib/{multiarch}", f"lib/{multiarch}", "usr/lib", "lib", *NUWA_DIRS)
    return [root / rel for rel in rels if (root / rel).is_dir()]


def find_libraries(dirs: list[Path],
                   patterns: tuple[str, ...] = FRAMEWORK_LIBRARIES) -> list[Path]:
    """The real files (not symlinks) matching patterns in dirs; the first of a name wins."""
    found: dict[str, Path] = {}
    for d in dirs:
        if not d.is_dir():
            continue
        for entry in sorted(d.iterdir()):
            if entry.is_symlink() or not entry.is_file():
                continue
            if any(fnmatch.fnmatch(entry.name, p) for p in patterns):
                found.setdefault(entry.name, entry)
    return [found[n] for n in sorted(found)]


def measured_lib_written(bench_report: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Mean per-app private written KiB of each library (by file name) in each bench mode."""
    out: dict[str, dict[str, float]] = {}
    for mode, result in bench_report.get("modes", {}).items():
        apps = result.get("apps", [])
        if not apps:
            continue
        sums: Counter[str] = Counter()
        for app in apps:
            for lib_path, use in app.get("breakdown", {}).get("lib_written_by_path", {}).items():
                sums[Path(lib_path).name] += use["uss_kb"]
        for name, total in sums.items():
            out.setdefault(name, {})[mode] = total / len(apps)
    return out


def compare(reports: list[LibraryReport], bench_report: dict[str, Any]) -> list[dict[str, Any]]:
    """Per library: the ELF estimate beside the measured written pages in both modes."""
    measured = measured_lib_written(bench_report)
    rows = []
    for r in reports:
        m = measured.get(r.name, {})
        exec_kb, tpl_kb = m.get("exec"), m.get("template")
        rows.append({
            "name": r.name,
            "estimate_min_kb": r.relocated_kb,
            "estimate_max_kb": r.writable_pages * PAGE / 1024,
            "measured_exec_kb": exec_kb,
            "measured_template_kb": tpl_kb,
            "measured_saving_kb": None if exec_kb is None or tpl_kb is None else exec_kb - tpl_kb,
        })
    return rows
