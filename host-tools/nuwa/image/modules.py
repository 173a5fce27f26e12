"""Kernel modules: which files a list of module names needs, in load order.

The distribution kernel package ships no modules.dep (depmod runs at install
time), so dependencies come from each module's own `.modinfo` `depends=`
field, the same data depmod uses; the result is written out as a
modules.dep for the modules that go into the initramfs.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from elftools.elf.elffile import ELFFile

from ..errors import NuwaError


def canonical(name: str) -> str:
    """Module names treat '-' and '_' alike (virtio-rng == virtio_rng)."""
    return name.replace("-", "_")


def parse_modules_dep(text: str) -> dict[str, tuple[str, list[str]]]:
    """modules.dep text -> {module name: (path, [dependency names])}."""
    table: dict[str, tuple[str, list[str]]] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        path, _, rest = line.partition(":")
        deps = [module_name(p) for p in rest.split()]
        table[module_name(path)] = (path.strip(), deps)
    return table


def module_name(path: str) -> str:
    base = Path(path.strip()).name
    for ext in (".ko.xz", ".ko.zst", ".ko.gz", ".ko"):
        if base.endswith(ext):
            base = base[: -len(ext)]
            break
    return canonical(base)


def load_order(wanted: Iterable[str], deps: Callable[[str], list[str] | None],
               builtin: Iterable[str] = ()) -> list[str]:
    """Every module `wanted` needs, dependencies before dependants, no repeats.

    `deps(name)` returns the direct dependencies of a loadable module or None if
    the kernel has no such module; built-in modules need no loading.
    """
    built = {canonical(b) for b in builtin}
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, chain: list[str]) -> None:
        name = canonical(name)
        if name in built or state.get(name) == "done":
            return
        if state.get(name) == "active":
            raise NuwaError("module dependency cycle: " + " -> ".join([*chain, name]))
        d = deps(name)
        if d is None:
            via = f" (needed by {chain[-1]})" if chain else ""
            raise NuwaError(f"kernel module {name!r} does not exist in this kernel{via}")
        state[name] = "active"
        for dep in d:
            visit(dep, [*chain, name])
        state[name] = "done"
        order.append(name)

    for w in wanted:
        visit(w, [])
    return order


@dataclass
class KernelModules:
    """The module tree of one unpacked kernel: <root>/usr/lib/modules/<version>/."""

    moddir: Path

    def __post_init__(self) -> None:
        self.version = self.moddir.name
        self.paths: dict[str, Path] = {}
        for ko in sorted(self.moddir.rglob("*.ko")):
            self.paths.setdefault(module_name(ko.name), ko)
        builtin = self.moddir / "modules.builtin"
        self.builtin = (
            [module_name(x) for x in builtin.read_text().split()] if builtin.exists() else [])
        self._deps: dict[str, list[str]] = {}

    @classmethod
    def find(cls, root: Path) -> KernelModules:
        dirs = sorted((root / "usr/lib/modules").glob("*/kernel"))
        if len(dirs) != 1:
            raise NuwaError(f"expected one kernel module tree under {root}, found {len(dirs)}")
        return cls(dirs[0].parent)

    def deps(self, name: str) -> list[str] | None:
        if name not in self.paths:
            return None
        if name not in self._deps:
            with self.paths[name].open("rb") as f:
                sec = ELFFile(f).get_section_by_name(".modinfo")
                info = sec.data().split(b"\0") if sec else []
            dep = [x[len(b"depends="):].decode() for x in info if x.startswith(b"depends=")]
            self._deps[name] = [d for d in ",".join(dep).split(",") if d]
        return self._deps[name]

    def resolve(self, wanted: list[str]) -> list[str]:
        return load_order(wanted, self.deps, self.builtin)

    def relpath(self, name: str) -> str:
        return str(self.paths[name].relative_to(self.moddir))

    def modules_dep(self, names: list[str]) -> str:
        """modules.dep lines for `names` (each with its full dependency closure)."""
        lines = []
        for n in names:
            closure = [d for d in load_order([n], self.deps, self.builtin) if d != n]
            closure.reverse()  # modules.dep lists dependants' deps nearest first
            lines.append(f"{self.relpath(n)}: " + " ".join(self.relpath(d) for d in closure))
        return "\n".join(line.rstrip() for line in lines) + "\n"
