"""Fetch an app's memory snapshot from a target (docs/security.md).

nuwad on the target writes the snapshot into its own snapshot directory
(`nuwactl snapshot APP --json` answers its id and path); the file is then
copied to the host with the target's `get` (SFTP-like over SSH, base64 over
the serial console when the guest has no network), checked, and renamed into
place so a failed fetch never leaves a partial file where a good one was.
"""
from __future__ import annotations

import json
import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from ..errors import NuwaError
from .base import Target

MAGIC = b"NUWA-SNAPSHOT 1\n"
NUWACTL = "nuwactl"


@dataclass(frozen=True)
class Snapshot:
    """What nuwad answered, and where the copy on the host is."""
    id: int
    app: str
    pid: int
    mode: str
    remote_path: str
    bytes: int
    write_ms: float
    peak_rss_kb: int | None
    local_path: Path


def request(target: Target, app: str, nuwactl: str = NUWACTL) -> dict[str, object]:
    """Ask nuwad on TARGET for a snapshot of APP (a name or a pid)."""
    r = target.run(f"{nuwactl} snapshot {shlex.quote(app)} --json 2>&1", timeout=120)
    if not r.ok:
        raise NuwaError(f"snapshot of {app} failed on the target: {r.stdout.strip()[-400:]}")
    try:
        info = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError) as e:
        raise NuwaError(f"nuwactl snapshot did not answer JSON: {r.stdout[-200:]!r}") from e
    for key in ("id", "path", "bytes"):
        if key not in info:
            raise NuwaError(f"nuwactl snapshot answer lacks {key!r}: {info}")
    return info


def verify(data: bytes, expected_bytes: int) -> None:
    """A complete snapshot: right size, header first, trailer counting the body."""
    if len(data) != expected_bytes:
        raise NuwaError(f"fetched {len(data)} bytes, nuwad wrote {expected_bytes}")
    if not data.startswith(MAGIC):
        raise NuwaError("fetched file is not a Nuwa snapshot (no header)")
    body, sep, tail = data.rpartition(b"== end bytes=")
    if not sep or not tail.strip().isdigit() or int(tail.strip()) != len(body):
        raise NuwaError("fetched snapshot is cut short (trailer missing or wrong)")


def fetch(target: Target, app: str, out: Path, nuwactl: str = NUWACTL) -> Snapshot:
    """Snapshot APP on TARGET and copy it to OUT (atomically)."""
    info = request(target, app, nuwactl)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.part")
    try:
        target.get(str(info["path"]), tmp)
        verify(tmp.read_bytes(), int(info["bytes"]))  # type: ignore[call-overload]
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    peak = info.get("peak_rss_kb")
    return Snapshot(id=int(info["id"]), app=str(info.get("app", app)),  # type: ignore[call-overload]
                    pid=int(info.get("pid", 0)), mode=str(info.get("mode", "?")),  # type: ignore[call-overload]
                    remote_path=str(info["path"]), bytes=int(info["bytes"]),  # type: ignore[call-overload]
                    write_ms=float(info.get("write_ms", 0.0)),  # type: ignore[arg-type]
                    peak_rss_kb=int(peak) if peak is not None else None,  # type: ignore[call-overload]
                    local_path=out)
