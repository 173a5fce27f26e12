"""A ready guest for one bench mode: a freshly booted QEMU guest, or a board over SSH.

Each mode runs with its own nuwad configuration, written to the report as `ran`:

- template: the device's config (plus the killer threshold when the device has none);
- exec: `template = off` — no template and no spare, the fair baseline;
- exec+ksm: `template = off`, `exec_mergeable = on`, and KSM switched on.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nuwa import board as boards
from nuwa.bench import killer, ksm
from nuwa.bench.guest import Guest
from nuwa.bench.results import EXEC_KSM, TEMPLATE
from nuwa.errors import NuwaError
from nuwa.target import Qemu, target_from_url

BOOT_TIMEOUT = 300.0   # TCG on a busy 2-core host boots slowly
READY_TIMEOUT = 180.0  # nuwad up, template frozen, spare forked


# The guests of the modes running now (`--parallel` runs several), so Ctrl-C or SIGTERM in
# the main thread can stop them all (kill_guests).
_live: set[Qemu] = set()
_live_lock = threading.Lock()
_stopping = threading.Event()


def kill_guests() -> None:
    """Stop every guest booted by fresh_guest, and refuse to boot more."""
    _stopping.set()
    with _live_lock:
        vms = list(_live)
    for vm in vms:
        vm.kill()


def describe_target(board: str, url: str | None, mem: int | None = None,
                    parallel: bool = False) -> dict[str, Any]:
    if url:
        return {"description": f"{url} (every mode on the same running board, one after "
                "the other)", "url": url}
    b = boards.load(board)
    mib = mem or b.memory_mib
    when = ("the modes' guests running at the same time (--parallel)" if parallel
            else "one mode after the other")
    return {"description": f"QEMU {b.name}, {mib} MiB, a fresh guest per mode, {when}",
            "board": b.name, "memory_mib": mib, "parallel": parallel}


@dataclass
class Session:
    guest: Guest
    lmk_threshold_kb: int
    lmk_source: str
    ran: dict[str, Any] = field(default_factory=dict)


def mode_keys(mode: str) -> dict[str, str]:
    """The [daemon] keys a mode's nuwad runs with on top of the device config."""
    if mode == TEMPLATE:
        return {}
    keys = {"template": "off", "spare": "0"}
    if mode == EXEC_KSM:
        keys["exec_mergeable"] = "on"
    return keys


def prepare(guest: Guest, mode: str, lmk_threshold_kb: int | None) -> Session:
    """nuwad answering with this mode's config, its killer on, the template ready (template
    mode only: the other modes run none)."""
    guest.wait_ready(READY_TIMEOUT, need_template=False)
    ran: dict[str, Any] = {"mode": mode}
    if mode == EXEC_KSM:
        ran["ksm"] = ksm.enable(guest)  # "KSM absent" before anything else changes
    mem_total = guest.meminfo()["MemTotal"]
    keys = mode_keys(mode)
    threshold, source = killer.ensure_killer(guest, lmk_threshold_kb, mem_total, keys)
    status = guest.wait_ready(READY_TIMEOUT, need_template=mode == TEMPLATE)
    ran["nuwad_config"] = killer.BENCH_CONFIG if "restarted" in source else killer.DEVICE_CONFIG
    ran["daemon_keys"] = {**keys, killer.KEY: str(threshold)}
    ran["template"] = status.get("state")
    ran["spare_enabled"] = bool(status.get("spare_enabled", False))
    return Session(guest, threshold, source, ran)


def restore(session: Session, mode: str) -> None:
    """A board that outlives the bench gets its own nuwad back, and KSM off."""
    if mode == EXEC_KSM and session.ran.get("ksm"):
        ksm.disable(session.guest)
    if "restarted" in session.lmk_source:
        killer.restore_nuwad(session.guest)


@contextmanager
def mode_session(board: str, mode: str, url: str | None, mem: int | None = None,
                 lmk_threshold_kb: int | None = None, known_hosts: Path | None = None,
                 accept_new_host_key: bool = False) -> Iterator[Session]:
    """A ready session for `mode`: a freshly booted guest (powered off after) or the board."""
    if url:
        with target_from_url(url, known_hosts=known_hosts,
                             accept_new_host_key=accept_new_host_key) as target:
            guest = Guest(target)
            try:
                session = prepare(guest, mode, lmk_threshold_kb)
            except BaseException:
                # a half-prepared board is put back too (KSM off, its own nuwad); the
                # error that stopped the preparation is the one reported
                try:
                    restore(Session(guest, 0, "restarted", {"ksm": True}), mode)
                except Exception:  # noqa: BLE001
                    pass
                raise
            try:
                yield session
            finally:
                restore(session, mode)
        return
    with fresh_guest(board, mem) as vm, vm.ssh() as ssh:
        yield prepare(Guest(ssh), mode, lmk_threshold_kb)


@contextmanager
def fresh_guest(board: str, mem: int | None = None) -> Iterator[Qemu]:
    """A freshly booted guest of `board`, powered off after; kill_guests stops it."""
    if _stopping.is_set():
        raise NuwaError("stopped before booting the guest")
    vm = Qemu(boards.load(board), mem=mem)
    with _live_lock:
        _live.add(vm)
    try:
        vm.boot(timeout=BOOT_TIMEOUT)
        with vm:
            yield vm
    finally:
        with _live_lock:
            _live.discard(vm)
