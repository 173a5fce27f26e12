"""The one way to drive a nuwad in a guest: nuwactl calls, template-status polls, /proc
reads, smaps breakdowns.

It needs only a shell: any nuwa.target Target (`run(cmd, timeout) -> Result`), so the same
code drives a QEMU guest over SSH or its console, and a real board over SSH. The bench
drives the device's nuwad with it; py-bench, sandbox-bench and the system tests drive
nuwads of their own (bench/private_nuwad.py: the same Guest, its nuwactl given `--socket`).
"""
from __future__ import annotations

import json
import shlex
import time
from collections.abc import Callable
from typing import Any, Protocol

from nuwa.bench import platforms, smaps
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


class NotReady(NuwaError):
    """nuwad's template-status did not reach what was waited for in time."""


class Guest:
    """nuwactl and /proc on one target, with a timeout on every command."""

    def __init__(self, shell: Shell, timeout: float = 120.0, nuwactl: str = NUWACTL) -> None:
        self.shell = shell
        self.timeout = timeout
        self.ctl = nuwactl  # the command that runs nuwactl (may carry --socket PATH)
        # The platform measured (bench/platforms.py): whose template readiness means, and
        # an app of it that starts its template when that is first-use.
        self.framework = platforms.DEFAULT_FRAMEWORK
        self.start_app: str | None = None

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

    def poll_status(self) -> tuple[dict[str, Any] | None, str]:
        """One template-status call that never raises: the answer (None when nuwactl failed,
        {} when it answered no JSON object) and what it said."""
        r = self.shell.run(self._ctl(["template-status"]), 30)
        if r.exit_status != 0:
            return None, (r.stderr + r.stdout).strip()
        try:
            st = json.loads(r.stdout)
        except ValueError:
            st = {}
        return (st if isinstance(st, dict) else {}), r.stdout.strip()

    def wait_status(self, ready: Callable[[dict[str, Any]], bool], timeout: float,
                    must_answer: bool = False) -> dict[str, Any]:
        """template-status, polled once a second until READY holds for it; NotReady after
        TIMEOUT, with the last answer. A nuwad not answering yet is waited for too, unless
        MUST_ANSWER (a nuwad that is up already): then a failed call is an error at once."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            st, last = self.poll_status()
            if st is None and must_answer:
                raise NuwaError(f"nuwactl template-status failed: {last[:300]}")
            if st is not None and ready(st):
                return st
            time.sleep(1)
        raise NotReady(f"nuwad not ready after {timeout:.0f} s: {last[:300]}")

    def wait_ready(self, timeout: float, need_template: bool) -> dict[str, Any]:
        """Wait until nuwad answers and, when needed, the template of `framework` is frozen
        with a spare. A first-use template not started yet (state `idle`) is started by a
        template launch of `start_app`, ended at once: a bench measures a template that
        runs, and nuwad restarted by a phase starts it again only when asked."""
        deadline = time.monotonic() + timeout
        last = ""
        started = False
        while time.monotonic() < deadline:
            st, last = self.poll_status()
            if st is not None:
                if not need_template:
                    return st
                entry = platforms.framework_status(st, self.framework)
                if entry is None and st:
                    raise NuwaError(f"nuwad has no framework {self.framework!r}: "
                                    f"{last[:300]}")
                if entry is not None and platforms.spare_ready(entry):
                    return st
                if entry is not None and entry.get("state") == "idle" and self.start_app \
                        and not started:
                    self.start_template()
                    started = True
                    continue
            time.sleep(1)
        raise NotReady(f"nuwad not ready after {timeout:.0f} s: {last[:300]}")

    def start_template(self) -> None:
        """Start a first-use template: its first template launch waits for it; the app is
        ended again (nuwad reaps it before it answers)."""
        answer = self.nuwactl("launch", str(self.start_app), "--mode", "template",
                              timeout=max(self.timeout, 300.0))
        if not isinstance(answer, dict) or "pid" not in answer:
            raise NuwaError(f"starting the {self.framework} template: launch "
                            f"{self.start_app} answered {answer!r}")
        self.nuwactl("kill", str(answer["pid"]))

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
