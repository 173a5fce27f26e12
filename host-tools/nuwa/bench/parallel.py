"""`nuwa bench --parallel`: the modes of one repeat, each on its own guest, at the same time.

Each mode runs in a thread of its own (the work is waiting on guests over SSH, so the GIL
is no bottleneck; every figure is measured inside the guests). Both guests then share the
host's load alike, instead of one mode running while the host is busy and the other while
it is quiet. Ctrl-C or SIGTERM reaches the main thread only: it stops every guest, so the
threads' SSH calls fail and they end, and then re-raises.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

R = TypeVar("R")

JOIN_SECONDS = 60.0  # how long the threads get to end once their guests are stopped


def run_concurrently(modes: Sequence[str], measure_one: Callable[[str], R],
                     stop_all: Callable[[], None]) -> dict[str, R]:
    """measure_one(mode) for every mode at once; {mode: result}. measure_one must return
    its failures as results (measure_mode does): a thread that raised has no result, and
    that is reported as an error here."""
    results: dict[str, R] = {}
    failures: dict[str, BaseException] = {}

    def work(mode: str) -> None:
        try:
            results[mode] = measure_one(mode)
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            failures[mode] = e

    threads = [threading.Thread(target=work, args=(m,), name=f"bench-{m}", daemon=True)
               for m in modes]
    try:
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():
                t.join(0.5)  # short waits: the main thread must see Ctrl-C/SIGTERM promptly
    except BaseException:
        stop_all()
        for t in threads:
            if t.ident is not None:  # started
                t.join(JOIN_SECONDS)
        raise
    if failures:
        mode, e = next(iter(failures.items()))
        raise RuntimeError(f"{mode}: {type(e).__name__}: {e}") from e
    return results
