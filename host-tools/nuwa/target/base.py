"""The target interface every transport implements."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from ..errors import NuwaError


class TargetError(NuwaError):
    """A target could not be reached or a transfer failed."""


class TargetTimeout(TargetError):
    """A command or boot did not finish in time; the message says what was last seen."""


@dataclass(frozen=True)
class Result:
    command: str
    stdout: str
    exit_status: int
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_status == 0


class Target(ABC):
    """A Linux system that runs shell commands and takes and gives files."""

    @abstractmethod
    def run(self, cmd: str, timeout: float = 60) -> Result:
        """Run `cmd` with /bin/sh; its output and exit status (never raises on status)."""

    @abstractmethod
    def put(self, local: str | Path, remote: str) -> None:
        """Copy the host file `local` to `remote` on the target."""

    @abstractmethod
    def get(self, remote: str, local: str | Path) -> None:
        """Copy the target file `remote` to `local` on the host."""

    def check(self, cmd: str, timeout: float = 60) -> str:
        """Run `cmd`, raise TargetError unless it exits 0; return its stdout."""
        r = self.run(cmd, timeout)
        if not r.ok:
            raise TargetError(f"{cmd!r} exited {r.exit_status}: {(r.stdout + r.stderr)[-500:]}")
        return r.stdout

    def close(self) -> None:  # noqa: B027 - optional for transports with no session
        """Release the connection (the target itself keeps running)."""

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
