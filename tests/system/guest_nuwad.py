"""A nuwad of a test's own in the guest, beside the device's: own config,
socket and state directory under DIRECTORY, stopped and removed afterwards.

The tests' side of nuwa.bench.private_nuwad (the one helper for a private nuwad,
also py-bench's and sandbox-bench's) and nuwa.bench.guest (the one way to drive a
nuwad in a guest)."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from nuwa.bench.private_nuwad import PrivateNuwad, socket_guest, template_ready


def guest_ctl(guest: Any, sock: str, args: str, timeout: float = 120) -> Any:
    """`nuwactl --json ARGS` (shell words) against SOCK in the guest, parsed."""
    return socket_guest(guest, sock, timeout).nuwactl(*shlex.split(args))


def wait_template(guest: Any, sock: str, timeout: float = 120,
                  not_pid: int = 0) -> dict[str, Any]:
    """The template status once it is ready (and, with NOT_PID, a new one); nuwad
    must answer every poll."""
    return socket_guest(guest, sock).wait_status(
        lambda st: template_ready(st) and st["pid"] != not_pid, timeout, must_answer=True)


def printf_text(conf: str) -> str:
    """A config written with printf escapes (the tests' one-line form) as its text."""
    return conf.replace("\\n", "\n")


@contextmanager
def private_nuwad(guest: Any, directory: str, conf: str, cleanup: str = "") -> Iterator[str]:
    """Start nuwad with CONF (one line, `\\n` for each newline) in DIRECTORY;
    yield its socket once the template is ready. CLEANUP is a shell command run
    before DIRECTORY is removed."""
    with PrivateNuwad(guest, directory, printf_text(conf), ready=template_ready,
                      ready_timeout=120, cleanup=cleanup) as nuwad:
        yield nuwad.sock
