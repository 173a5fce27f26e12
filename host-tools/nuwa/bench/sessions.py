"""A ready guest for one bench mode: a freshly booted QEMU guest, or a board over SSH."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from nuwa import board as boards
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


@contextmanager
def mode_session(board: str, mode: str, url: str | None,
                 mem: int | None = None) -> Iterator[Guest]:
    """Yield a Guest whose nuwad is ready for `mode`; the guest is powered off after."""
    if url:
        with target_from_url(url) as target:
            guest = Guest(target)
            guest.wait_ready(READY_TIMEOUT, need_template=mode == "template")
            yield guest
        return
    vm = Qemu(boards.load(board), mem=mem)
    vm.boot(timeout=BOOT_TIMEOUT)
    with vm, vm.ssh() as ssh:
        guest = Guest(ssh)
        guest.wait_ready(READY_TIMEOUT, need_template=mode == "template")
        yield guest
