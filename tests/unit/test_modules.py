"""Kernel module dependency resolution (modules.dep format and load order)."""
from __future__ import annotations

import pytest
from nuwa.errors import NuwaError
from nuwa.image.modules import load_order, module_name, parse_modules_dep

MODULES_DEP = """\
kernel/drivers/virtio/virtio_mmio.ko:
kernel/drivers/block/virtio_blk.ko:
kernel/net/core/failover.ko:
kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko
kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko
kernel/drivers/char/hw_random/virtio-rng.ko: kernel/drivers/char/hw_random/rng-core.ko
kernel/drivers/char/hw_random/rng-core.ko:
kernel/fs/squashfs/squashfs.ko:
"""


def deps_of(table: dict[str, tuple[str, list[str]]]):
    def deps(name: str) -> list[str] | None:
        entry = table.get(name)
        return None if entry is None else entry[1]
    return deps


def test_parse_modules_dep() -> None:
    t = parse_modules_dep(MODULES_DEP)
    assert t["virtio_net"] == ("kernel/drivers/net/virtio_net.ko",
                               ["net_failover", "failover"])
    assert t["virtio_rng"][0].endswith("virtio-rng.ko")
    assert t["squashfs"][1] == []


def test_dependencies_load_first_once() -> None:
    t = parse_modules_dep(MODULES_DEP)
    order = load_order(["virtio_net", "virtio-rng", "failover", "squashfs"], deps_of(t))
    assert order == ["failover", "net_failover", "virtio_net", "rng_core", "virtio_rng",
                     "squashfs"]


def test_builtin_modules_need_no_loading() -> None:
    t = parse_modules_dep(MODULES_DEP)
    order = load_order(["virtio_rng"], deps_of(t), builtin=["rng-core"])
    assert order == ["virtio_rng"]


def test_unknown_module_is_named() -> None:
    t = parse_modules_dep(MODULES_DEP)
    with pytest.raises(NuwaError, match="'no_such_mod' does not exist"):
        load_order(["squashfs", "no_such_mod"], deps_of(t))


def test_missing_dependency_names_its_user() -> None:
    t = parse_modules_dep("kernel/a.ko: kernel/b.ko\n")
    with pytest.raises(NuwaError, match=r"'b' does not exist.*needed by a"):
        load_order(["a"], deps_of(t))


def test_cycle_is_reported() -> None:
    t = parse_modules_dep("kernel/a.ko: kernel/b.ko\nkernel/b.ko: kernel/a.ko\n")
    with pytest.raises(NuwaError, match="cycle"):
        load_order(["a"], deps_of(t))


@pytest.mark.parametrize(("path", "name"), [
    ("kernel/x/virtio-rng.ko", "virtio_rng"), ("a/b.ko.xz", "b"), ("c.ko.zst", "c")])
def test_module_name(path: str, name: str) -> None:
    assert module_name(path) == name
