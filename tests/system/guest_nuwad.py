"""A nuwad of a test's own in the guest, beside the device's: own config,
socket and state directory under DIRECTORY, stopped and removed afterwards."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def guest_ctl(guest: Any, sock: str, args: str, timeout: float = 120) -> Any:
    """`nuwactl --json ARGS` against SOCK in the guest, parsed."""
    return json.loads(guest.check(f"nuwactl --socket {sock} --json {args}", timeout=timeout))


def wait_template(guest: Any, sock: str, timeout: float = 120,
                  not_pid: int = 0) -> dict[str, Any]:
    """The template status once it is ready (and, with NOT_PID, a new one)."""
    deadline = time.monotonic() + timeout
    while True:
        st = guest_ctl(guest, sock, "template-status")
        if st["state"] == "ready" and st["pid"] != not_pid:
            return st
        assert time.monotonic() < deadline, f"template not ready: {st}"
        time.sleep(1)


@contextmanager
def private_nuwad(guest: Any, directory: str, conf: str, cleanup: str = "") -> Iterator[str]:
    """Start nuwad with CONF (one line, printf escapes: the console sends
    commands line by line) in DIRECTORY; yield its socket once the template
    is ready. CLEANUP is a shell command run before DIRECTORY is removed."""
    sock = f"{directory}/nuwad.sock"
    guest.check(f"mkdir -p {directory} && printf '{conf}' > {directory}/nuwad.conf")
    guest.check(f"nuwad --foreground --config {directory}/nuwad.conf --socket {sock} "
                f"--state-dir {directory} >{directory}/log 2>&1 & echo $! > {directory}/pid")
    try:
        wait_template(guest, sock)
        yield sock
    finally:
        guest.run(f"kill $(cat {directory}/pid)", timeout=30)
        time.sleep(1)
        guest.run(f"{cleanup + '; ' if cleanup else ''}rm -rf {directory}", timeout=30)
