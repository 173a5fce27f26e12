"""nuwa snapshot APP -o FILE: a memory snapshot of a running app, copied to the host.

With --target ssh://USER@HOST:PORT the app must already run there (launched
by you or the device); the file comes over SSH.  Without --target a fresh
guest is booted, APP is launched in it (--mode), snapshotted, and the file
comes over the serial console (the guest needs no network); --via ssh uses
the guest's forwarded SSH port instead.
"""
from __future__ import annotations

import argparse
import json
import shlex

from .. import board
from ..errors import NuwaError
from ..target import Qemu, Target, target_from_url
from ..target.snapshot import fetch
from . import add_board_arg, add_mem_arg, add_target_arg


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("snapshot", help="memory snapshot of an app, copied to the host",
                       description=__doc__)
    p.add_argument("app", help="app name or pid on the target")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="where to write it")
    add_target_arg(p)
    p.add_argument("--mode", choices=["template", "exec"],
                   help="fresh guest only: launch mode of APP (default: the app's)")
    p.add_argument("--via", choices=["console", "ssh"], default="console",
                   help="fresh guest only: how the file is copied (default console)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    add_board_arg(p)
    add_mem_arg(p)
    p.set_defaults(func=run)


def launch(t: Target, app: str, mode: str | None) -> None:
    cmd = f"nuwactl launch {shlex.quote(app)}" + (f" --mode {mode}" if mode else "")
    r = t.run(cmd + " 2>&1", timeout=120)
    if not r.ok:
        raise NuwaError(f"cannot launch {app} in the guest: {r.stdout.strip()[-300:]}")


def run(args: argparse.Namespace) -> int:
    if args.target:
        if args.mode:
            raise NuwaError("--mode applies to a fresh guest only; launch the app on the target")
        with target_from_url(args.target,
                             accept_new_host_key=args.accept_new_host_key) as t:
            snap = fetch(t, args.app, args.output)
    else:
        with Qemu(board.load(args.board), mem=args.mem) as vm:
            launch(vm.console, args.app, args.mode)
            if args.via == "ssh":
                with vm.ssh() as t:
                    snap = fetch(t, args.app, args.output)
            else:
                snap = fetch(vm.console, args.app, args.output)
    if args.json:
        print(json.dumps({"id": snap.id, "app": snap.app, "pid": snap.pid, "mode": snap.mode,
                          "remote_path": snap.remote_path, "bytes": snap.bytes,
                          "write_ms": snap.write_ms, "peak_rss_kb": snap.peak_rss_kb,
                          "output": str(snap.local_path)}))
    else:
        print(f"snapshot {snap.id} of {snap.app} (pid {snap.pid}, {snap.mode}): "
              f"{snap.bytes} bytes -> {snap.local_path}")
    return 0
