"""The bench's view of a booted guest: nuwactl calls, /proc reads, smaps breakdowns.

It needs only a shell: any nuwa.target Target (`run(cmd, timeout) -> Result`), so the same
code drives a QEMU guest over SSH or its console, and a real board over SSH.
"""
from __future__ import annotations

import json
import shlex
import time
from typing import Any, Protocol

from nuwa.bench import smaps
from nuwa.errors import NuwaError
from nuwa.target.base import Result

NUWACTL = "nuwactl"
_DOC_MARK = "@@nuwa-bench-doc@@"


class Shell(Protocol):
    def run(self, cmd: str, timeout: float = 60) -> Result:
        """Run a shell command on the target; never raises on a nonzero status."""
        ...


def parse_meminfo(text: str) -> dict[str, int]:
    """/proc/meminfo as {field: KiB}."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        fields = rest.split()
        if fields and fields[0].isdigit():
            out[key.strip()] = int(fields[0])
    if "MemAvailable" not in out:
        raise NuwaError("no MemAvailable in /proc/meminfo output")
    return out


def parse_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as e:
        raise NuwaError(f"{what}: not JSON: {text.strip()[:200]!r}") from e


class Guest:
    """nuwactl and /proc on one target, with a timeout on every command."""

    def __init__(self, shell: Shell, timeout: float = 120.0, nuwactl: str = NUWACTL) -> None:
        self.shell = shell
        self.timeout = timeout
        self.ctl = nuwactl  # the command that runs nuwactl (may carry --socket PATH)

    def _ctl(self, args: tuple[str, ...] | list[str]) -> str:
        return " ".join([self.ctl, *(shlex.quote(a) for a in (*args, "--json"))])

    def sh(self, command: str, timeout: float | None = None) -> str:
        r = self.shell.run(command, timeout or self.timeout)
        if r.exit_status != 0:
            said = (r.stderr + r.stdout).strip()[:300]
            raise NuwaError(f"guest command failed ({r.exit_status}): {command}: {said}")
        return r.stdout

    def nuwactl(self, *args: str, timeout: float | None = None) -> Any:
        cmd = self._ctl(args)
        return parse_json(self.sh(cmd, timeout), cmd)

    def nuwactl_many(self, calls: list[list[str]], timeout: float | None = None) -> list[Any]:
        """Several nuwactl calls in one round trip; a failing call fails the whole batch."""
        parts = []
        for args in calls:
            cmd = self._ctl(args)
            parts.append(f"echo {_DOC_MARK}; {cmd} || exit $?")
        out = self.sh("; ".join(parts), timeout)
        docs = out.split(_DOC_MARK + "\n")[1:]
        if len(docs) != len(calls):
            raise NuwaError(f"expected {len(calls)} nuwactl answers, got {len(docs)}")
        return [parse_json(d, " ".join(a)) for d, a in zip(docs, calls, strict=True)]

    def wait_ready(self, timeout: float, need_template: bool) -> dict[str, Any]:
        """Wait until nuwad answers (and, when needed, the template is frozen with a spare)."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            r = self.shell.run(self._ctl(["template-status"]), 30)
            out = r.stdout
            if r.exit_status == 0:
                try:
                    st = json.loads(out)
                except ValueError:
                    st = {}
                if not need_template or template_ready(st):
                    return st
                last = out.strip()
            else:
                last = (r.stderr + out).strip()
            time.sleep(1)
        raise NuwaError(f"nuwad not ready after {timeout:.0f} s: {last[:300]}")

    def meminfo(self) -> dict[str, int]:
        return parse_meminfo(self.sh("cat /proc/meminfo"))

    def breakdowns(self, pids: list[int]) -> dict[int, smaps.Breakdown]:
        """smaps of every pid, read in one command, parsed here."""
        if not pids:
            return {}
        out = self.sh(smaps.smaps_command(pids))
        return {
            pid: smaps.breakdown(smaps.parse_smaps(text))
            for pid, text in smaps.split_processes(out)
            if text.strip()
        }


def template_ready(status: dict[str, Any]) -> bool:
    """`nuwactl template-status`: template ready and, when the spare is on, a spare forked."""
    if status.get("state") != "ready":
        return False
    return status.get("spare_pid") is not None or not status.get("spare_enabled", True)
