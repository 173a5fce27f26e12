"""The runtime's shape (issue 19): no two source files call each other in a
loop, and no hand-written source file is longer than a newcomer can hold.

The call graph comes from the built objects, not from reading C: file A
calls file B when A's object leaves undefined a symbol that B's object
defines (`nm`). A symbol defined by more than one object (each app's entry
point, a weak default) names no single file and is left out.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

RUNTIME = Path(__file__).resolve().parents[2] / "runtime"
OBJ = RUNTIME / "build" / "host" / "obj"
MAX_LINES = 800
# Files that are only a table may be longer (issue 19); each says why here.
TABLE_FILES: dict[str, str] = {}
# Debt, never to grow: loops and long files tolerated for now. Issue 19
# paid all of it; a new loop or long file fails, and an entry here must go
# once it is fixed (the lists only shrink).
KNOWN_LOOPS: list[list[str]] = []
KNOWN_LONG: set[str] = set()
DEFINED = set("TDBRVWiu")


def source_of(obj: Path) -> str | None:
    """The runtime-relative source file an object was built from (None: a
    stale object whose source is gone, left in a build tree)."""
    matches = sorted(p for p in RUNTIME.rglob(obj.stem + ".c") if "build" not in p.relative_to(RUNTIME).parts)
    if not matches:
        return None
    same_dir = [p for p in matches if p.parent.name == obj.parent.name]
    return str((same_dir or matches)[0].relative_to(RUNTIME))


def symbols(obj: Path) -> tuple[set[str], set[str]]:
    out = subprocess.run(["nm", "--format=posix", str(obj)], check=True, capture_output=True, text=True).stdout
    defined: set[str] = set()
    undefined: set[str] = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind == "U":
            undefined.add(name)
        elif kind in DEFINED:
            defined.add(name)
    return defined, undefined


def call_graph() -> dict[str, set[str]]:
    objects = sorted(OBJ.rglob("*.o"))
    if not objects or shutil.which("nm") is None:
        pytest.skip("native runtime build missing (make -C runtime) or no nm")
    owners: dict[str, set[str]] = defaultdict(set)
    needs: dict[str, set[str]] = {}
    for obj in objects:
        src = source_of(obj)
        if src is None:
            continue
        defined, undefined = symbols(obj)
        for name in defined:
            owners[name].add(src)
        needs[src] = needs.get(src, set()) | undefined
    graph: dict[str, set[str]] = {src: set() for src in needs}
    for src, undefined in needs.items():
        for name in undefined:
            owner = owners.get(name, set())
            if len(owner) == 1 and src not in owner:
                graph[src] |= owner
    return graph


def loops(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one file (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_two_runtime_files_call_each_other_in_a_loop() -> None:
    graph = call_graph()
    found = loops(graph)
    new = [c for c in found if c not in KNOWN_LOOPS]
    assert not new, "files calling each other in a loop: " + "; ".join(
        " <-> ".join(c) for c in new)
    gone = [c for c in KNOWN_LOOPS if c not in found]
    assert not gone, "no longer a loop, take it off KNOWN_LOOPS: " + "; ".join(
        " <-> ".join(c) for c in gone)


def test_the_loop_finder_finds_a_loop() -> None:
    # The check above can fail: a two-file and a three-file loop are found,
    # a chain is not.
    assert loops({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert loops({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c"]]
    assert loops({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def hand_written_sources() -> list[Path]:
    return sorted(p for p in RUNTIME.rglob("*")
                  if p.suffix in (".c", ".h", ".py") and p.is_file()
                  and "build" not in p.relative_to(RUNTIME).parts)


def test_no_hand_written_runtime_file_is_longer_than_800_lines() -> None:
    long = []
    for path in hand_written_sources():
        rel = str(path.relative_to(RUNTIME))
        n = len(path.read_text(errors="replace").splitlines())
        if n > MAX_LINES and rel not in TABLE_FILES:
            long.append(rel)
    new = sorted(set(long) - KNOWN_LONG)
    assert not new, f"longer than {MAX_LINES} lines: " + ", ".join(new)
    gone = sorted(KNOWN_LONG - set(long))
    assert not gone, "no longer long, take it off KNOWN_LONG: " + ", ".join(gone)


def test_every_table_file_exists_and_is_long() -> None:
    for rel, why in TABLE_FILES.items():
        path = RUNTIME / rel
        assert path.is_file(), f"{rel} is listed as a table file ({why}) but does not exist"
        n = len(path.read_text().splitlines())
        assert n > MAX_LINES, f"{rel} ({n} lines) need not be listed as a long table file"


# nuwad's layers (docs/architecture.md "nuwad's layers"), bottom first. A
# file may call its own layer and those below, never one above; what a
# lower layer must reach above goes through what the upper layer installed
# at start (d->answer, d->tmpl_listener, d->msg_rules, the observers).
NUWAD_LAYERS: list[tuple[str, list[str]]] = [
    ("base", ["log", "out", "procmem", "launch_exec", "phases", "grants", "groups",
              "filter_kill", "reply", "events", "door"]),
    ("app table", ["app_table", "template"]),
    ("launch", ["apps", "requests"]),
    ("features", ["logs", "lmk", "importance", "crashes", "snapshots", "psi", "supervision"]),
    ("top", ["status", "messages", "commands", "control", "main"]),
]


def nuwad_layer_of() -> dict[str, int]:
    return {f"nuwad/{name}.c": i for i, (_, names) in enumerate(NUWAD_LAYERS) for name in names}


def upward_calls(graph: dict[str, set[str]], layer: dict[str, int]) -> list[str]:
    return sorted(f"{src} -> {dst}" for src, dsts in graph.items() if src in layer
                  for dst in dsts if dst in layer and layer[dst] > layer[src])


def test_every_nuwad_file_has_a_layer() -> None:
    layer = nuwad_layer_of()
    files = {str(p.relative_to(RUNTIME)) for p in (RUNTIME / "nuwad").glob("*.c")}
    assert not files - set(layer), "put these in NUWAD_LAYERS: " + ", ".join(sorted(files - set(layer)))
    assert not set(layer) - files, "gone, take off NUWAD_LAYERS: " + ", ".join(sorted(set(layer) - files))


def test_no_nuwad_file_calls_a_higher_layer() -> None:
    graph = call_graph()
    up = upward_calls(graph, nuwad_layer_of())
    assert not up, "calls up a layer: " + "; ".join(up)


def test_the_layer_check_finds_an_upward_call() -> None:
    layer = {"nuwad/log.c": 0, "nuwad/apps.c": 2, "nuwad/main.c": 4}
    graph = {"nuwad/apps.c": {"nuwad/log.c", "nuwad/main.c"}, "nuwad/main.c": {"nuwad/apps.c"}}
    assert upward_calls(graph, layer) == ["nuwad/apps.c -> nuwad/main.c"]


def test_the_architecture_page_names_every_layer() -> None:
    text = (RUNTIME.parent / "docs" / "architecture.md").read_text()
    for name, files in NUWAD_LAYERS:
        for f in files:
            assert f"{f}.c" in text, f"docs/architecture.md does not place nuwad/{f}.c ({name})"
