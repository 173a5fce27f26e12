"""Parse /proc/PID/smaps text and break a process's memory down by mapping category.

The guest only runs `cat`; all parsing happens here on the host, one pass per process.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

# Categories, in report order. "Why template mode saves memory" is told by these.
ANON_HEAP = "anon_heap"      # [heap], anonymous mappings (malloc arenas, thread stacks, caches)
LIB_WRITTEN = "lib_written"  # written pages of shared libraries (relocations, GOT, .data)
LIB_CODE = "lib_code"        # never-written pages of shared libraries (code, read-only data)
STACK = "stack"              # the main thread's [stack]
OTHER = "other"              # other files (the executable, locale data, ...) and kernel mappings
CATEGORIES = (ANON_HEAP, LIB_WRITTEN, LIB_CODE, STACK, OTHER)

_HEADER = re.compile(
    r"^(?P<start>[0-9a-f]+)-(?P<end>[0-9a-f]+)\s+(?P<perms>\S{4})\s+(?P<offset>[0-9a-f]+)\s+"
    r"(?P<dev>\S+)\s+(?P<inode>\d+)\s*(?P<path>.*)$"
)
_FIELD = re.compile(r"^(?P<key>[A-Za-z_]+):\s+(?P<value>\d+)(?:\s+kB)?\s*$")
_SHARED_LIB = re.compile(r"\.so(\.[0-9.]+)?$")
_PROCESS_MARK = re.compile(r"^==> (?P<pid>\d+) <==$")


class SmapsError(ValueError):
    """The text is not smaps output."""


@dataclass
class Mapping:
    """One mapping of /proc/PID/smaps with its page counters in KiB."""

    start: int
    end: int
    perms: str
    path: str
    kb: dict[str, int] = field(default_factory=dict)

    def get(self, key: str) -> int:
        return self.kb.get(key, 0)

    @property
    def uss_kb(self) -> int:
        return self.get("Private_Clean") + self.get("Private_Dirty")

    @property
    def is_shared_library(self) -> bool:
        path = self.path.removesuffix(" (deleted)")
        return path.startswith("/") and bool(_SHARED_LIB.search(path))

    @property
    def category(self) -> str:
        return categorize(self)


def categorize(m: Mapping) -> str:
    """Name the category of one mapping (see CATEGORIES)."""
    if m.is_shared_library:
        # A relocated RELRO page is read-only again after start-up but was copied on write:
        # it shows as Anonymous; a .data/.bss segment is writable.
        written = "w" in m.perms or m.get("Anonymous") > 0 or m.get("Private_Dirty") > 0
        return LIB_WRITTEN if written else LIB_CODE
    if m.path == "[stack]" or m.path.startswith("[stack:"):
        return STACK
    if m.path == "" or m.path == "[heap]" or m.path.startswith("[anon"):
        return ANON_HEAP
    return OTHER


def parse_smaps(text: str) -> list[Mapping]:
    """Parse the text of one /proc/PID/smaps file."""
    mappings: list[Mapping] = []
    current: Mapping | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        header = _HEADER.match(line)
        if header:
            current = Mapping(
                start=int(header["start"], 16),
                end=int(header["end"], 16),
                perms=header["perms"],
                path=header["path"].strip(),
            )
            mappings.append(current)
            continue
        found = _FIELD.match(line)
        if found and current is not None:
            current.kb[found["key"]] = int(found["value"])
            continue
        if line.startswith(("VmFlags:", "THPeligible:", "ProtectionKey:")) and current is not None:
            continue
        raise SmapsError(f"line {lineno}: not smaps output: {line[:80]!r}")
    return mappings


def split_processes(text: str) -> Iterator[tuple[int, str]]:
    """Split the output of `for p in PIDS; do echo "==> $p <=="; cat /proc/$p/smaps; done`.

    A process that exited between listing and reading yields empty text.
    """
    pid: int | None = None
    lines: list[str] = []
    for line in text.splitlines():
        mark = _PROCESS_MARK.match(line.strip())
        if mark:
            if pid is not None:
                yield pid, "\n".join(lines)
            pid, lines = int(mark["pid"]), []
        elif pid is not None:
            lines.append(line)
    if pid is not None:
        yield pid, "\n".join(lines)


def smaps_command(pids: Iterable[int]) -> str:
    """Shell command that prints the smaps of every pid in the form split_processes reads."""
    listed = " ".join(str(int(p)) for p in pids)
    return f'for p in {listed}; do echo "==> $p <=="; cat /proc/$p/smaps 2>/dev/null; done'


@dataclass
class Usage:
    """Page counters summed over a set of mappings, in KiB."""

    rss_kb: int = 0
    pss_kb: int = 0
    uss_kb: int = 0
    private_dirty_kb: int = 0
    anonymous_kb: int = 0
    swap_kb: int = 0

    def add(self, m: Mapping) -> None:
        self.rss_kb += m.get("Rss")
        self.pss_kb += m.get("Pss")
        self.uss_kb += m.uss_kb
        self.private_dirty_kb += m.get("Private_Dirty")
        self.anonymous_kb += m.get("Anonymous")
        self.swap_kb += m.get("Swap")

    def to_dict(self) -> dict[str, int]:
        return dict(vars(self))


@dataclass
class Breakdown:
    """One process's memory by category, plus the written pages of each library."""

    total: Usage
    by_category: dict[str, Usage]
    lib_written_by_path: dict[str, Usage]

    def to_dict(self) -> dict[str, object]:
        return {
            "total": self.total.to_dict(),
            "by_category": {k: v.to_dict() for k, v in self.by_category.items()},
            "lib_written_by_path": {
                k: v.to_dict() for k, v in sorted(self.lib_written_by_path.items())
            },
        }


def breakdown(mappings: Iterable[Mapping]) -> Breakdown:
    """Sum a process's mappings per category (and per library for written library pages)."""
    total = Usage()
    by_category = {c: Usage() for c in CATEGORIES}
    by_lib: dict[str, Usage] = {}
    for m in mappings:
        total.add(m)
        cat = m.category
        by_category[cat].add(m)
        if cat == LIB_WRITTEN:
            by_lib.setdefault(m.path.removesuffix(" (deleted)"), Usage()).add(m)
    return Breakdown(total=total, by_category=by_category, lib_written_by_path=by_lib)
