"""A nuwad of one's own in a guest, beside the device's: its config, socket, state, log and
pid file under one directory; started, waited for, stopped and removed again.

py-bench, sandbox-bench and the system tests run their apps under one, so the device's
nuwad, its apps and its template are left alone. It is driven like the device's, through
bench.guest.Guest (`.guest`, whose nuwactl carries `--socket`). The config is written with
a quoted here-document: one command, the same over a serial console and over SSH.

    with PrivateNuwad(target, "/tmp/nuwa-x", conf_text) as nuwad:
        pid = nuwad.guest.nuwactl("launch", "clock")["pid"]
"""
from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any

from nuwa.bench.guest import NUWACTL, Guest, NotReady, Shell
from nuwa.errors import NuwaError

CONF_EOF = "NUWA_CONF_EOF"  # ends the config's here-document; no config line is this
STOP_TIMEOUT = 60.0


def spare_forked(status: dict[str, Any]) -> bool:
    """template-status: the (default framework's) spare is forked, so a launch uses one."""
    return bool(status.get("spare_pid"))


def template_ready(status: dict[str, Any]) -> bool:
    """template-status: the (default framework's) template is ready, spare or not."""
    return status.get("state") == "ready"


def socket_guest(shell: Shell, sock: str, timeout: float = 120.0) -> Guest:
    """A Guest whose nuwactl talks to the nuwad at SOCK."""
    return Guest(shell, timeout, nuwactl=f"{NUWACTL} --socket {shlex.quote(sock)}")


class PrivateNuwad:
    """nuwad started in DIRECTORY with CONFIG (the file's text), ready once READY holds for
    its template-status; CLEANUP is a shell command run after it stops, before DIRECTORY is
    removed."""

    def __init__(self, shell: Shell, directory: str, config: str, *,
                 name: str = "private nuwad",
                 ready: Callable[[dict[str, Any]], bool] = spare_forked,
                 ready_timeout: float = 180.0, timeout: float = 120.0,
                 cleanup: str = "") -> None:
        self.shell = shell
        self.directory = directory
        self.config = config
        self.name = name  # how errors name it
        self.ready = ready
        self.ready_timeout = ready_timeout
        self.cleanup = cleanup
        self.sock = f"{directory}/nuwad.sock"
        self.guest = socket_guest(shell, self.sock, timeout)

    def spawn(self) -> None:
        """A fresh DIRECTORY with the config in it, and nuwad started in the background."""
        d = self.directory
        text = self.config if self.config.endswith("\n") else self.config + "\n"
        self.guest.sh(f"rm -rf {d} && mkdir -p {d} && cat > {d}/nuwad.conf <<'{CONF_EOF}'\n"
                      f"{text}{CONF_EOF}")
        self.guest.sh(f"nuwad --foreground --config {d}/nuwad.conf --socket {self.sock} "
                      f"--state-dir {d} >{d}/log 2>&1 & echo $! > {d}/pid")

    def wait_ready(self) -> dict[str, Any]:
        """Its template-status once READY holds; after READY_TIMEOUT one error with the end
        of nuwad's log."""
        try:
            return self.guest.wait_status(self.ready, self.ready_timeout)
        except NotReady as e:
            log = self.shell.run(f"tail {self.directory}/log").stdout
            raise NuwaError(f"{self.name} not ready: {log}") from e

    def start(self) -> PrivateNuwad:
        """spawn, then wait_ready; a nuwad that does not get ready is stopped again."""
        self.spawn()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """nuwad ended (SIGTERM: it ends its apps and template), CLEANUP run, DIRECTORY
        removed, whatever each step answers: it follows failures too."""
        d = self.directory
        self.shell.run(f"kill $(cat {d}/pid); sleep 1; "
                       f"{self.cleanup + '; ' if self.cleanup else ''}rm -rf {d}",
                       timeout=STOP_TIMEOUT)

    def __enter__(self) -> PrivateNuwad:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
