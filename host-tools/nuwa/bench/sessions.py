"""A ready guest for one bench mode: a freshly booted QEMU guest, or a board over SSH."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from nuwa import board as boards
from nuwa.bench import killer
from nuwa.bench.guest import Guest
from nuwa.target import Qemu, target_from_url

BOOT_TIMEOUT = 300.0   # TCG on a busy 2-core host boots slowly
READY_TIMEOUT = 180.0  # nuwad up, template frozen, spare forked


def describe_target(board: str, url: str | None, mem: int | None = None) -> dict[str, Any]:
    if url:
        return {"description": f"{url} (both modes on the same running board)", "url": url}
    b = boards.load(board)
    mib = mem or b.memory_mib
    return {"description": f"QEMU {b.name}, {mib} MiB, a fresh guest per mode",
            "board": b.name, "memory_mib": mib}


@dataclass
class Session:
    guest: Guest
    lmk_threshold_kb: int
    lmk_source: str


def prepare(guest: Guest, mode: str, lmk_threshold_kb: int | None) -> Session:
    """nuwad answering, its killer on, the template and spare ready.

    The template runs in the exec-mode guest too (nuwad always starts it): waiting for it in
    both modes makes the idle figures comparable."""
    guest.wait_ready(READY_TIMEOUT, need_template=False)
    mem_total = guest.meminfo()["MemTotal"]
    threshold, source = killer.ensure_killer(guest, lmk_threshold_kb, mem_total)
    guest.wait_ready(READY_TIMEOUT, need_template=True)
    return Session(guest, threshold, source)


@contextmanager
def mode_session(board: str, mode: str, url: str | None, mem: int | None = None,
                 lmk_threshold_kb: int | None = None) -> Iterator[Session]:
    """A ready session for `mode`: a freshly booted guest (powered off after) or the board."""
    if url:
        with target_from_url(url) as target:
            session = prepare(Guest(target), mode, lmk_threshold_kb)
            try:
                yield session
            finally:
                if "restarted" in session.lmk_source:
                    killer.restore_nuwad(session.guest)
        return
    vm = Qemu(boards.load(board), mem=mem)
    vm.boot(timeout=BOOT_TIMEOUT)
    with vm, vm.ssh() as ssh:
        yield prepare(Guest(ssh), mode, lmk_threshold_kb)
