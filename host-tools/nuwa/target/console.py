"""ConsoleTarget: a shell on a serial console, driven by pexpect.

Each command is sent base64-encoded in short lines (the console shell's line
editor has a small limit), written to a file in /tmp and run by `sh`; its
output is framed by marker lines made of a fresh random token, and the end
marker carries the exit status.  Because the markers are only ever produced
by the guest (the typed text never contains them whole), kernel messages or
echo on the console cannot fake a frame; kernel log lines that land inside
a frame are dropped from the output.
"""
from __future__ import annotations

import base64
import re
import secrets
import shlex
from pathlib import Path

import pexpect

from .base import Result, Target, TargetError, TargetTimeout

CHUNK = 400  # bytes of base64 per typed line
KMSG = re.compile(r"^\[\s*\d+\.\d+\] .*$\n?", re.M)


class ConsoleTarget(Target):
    def __init__(self, child: pexpect.spawn) -> None:
        self.child = child
        self._ready = False

    def _seen(self) -> str:
        before = self.child.before
        text = before.decode(errors="replace") if isinstance(before, bytes) else str(before)
        return text[-400:]

    def _expect(self, pattern: str | bytes, timeout: float, what: str) -> re.Match:
        try:
            self.child.expect(pattern, timeout=timeout)
        except pexpect.TIMEOUT:
            raise TargetTimeout(f"{what}: no answer in {timeout:.0f} s; last seen on the "
                                f"console:\n{self._seen()}") from None
        except pexpect.EOF:
            raise TargetError(f"{what}: the console closed (QEMU exited); last seen:\n"
                              f"{self._seen()}") from None
        return self.child.match

    def _setup(self) -> None:
        # No echo, no prompt: the console carries only what commands print.
        self.child.sendline("stty -echo; PS1=''; PS2=''")
        token = secrets.token_hex(6)
        self.child.sendline(f"echo ready-{token[:6]}''{token[6:]}")
        self._expect(f"ready-{token}".encode(), 30, "waiting for the console shell")
        self._ready = True

    def _send_file(self, data: bytes, path: str) -> None:
        b64 = base64.b64encode(data).decode()
        self.child.sendline(f": > {path}.b64")
        for i in range(0, len(b64), CHUNK):
            self.child.sendline(f"echo {b64[i:i + CHUNK]} >> {path}.b64")
        self.child.sendline(f"base64 -d {path}.b64 > {path}; rm -f {path}.b64")

    def run(self, cmd: str, timeout: float = 60) -> Result:
        if not self._ready:
            self._setup()
        tok = secrets.token_hex(8)
        script = f"/tmp/.nuwa-{tok}"
        self._send_file(cmd.encode(), script)
        # The markers are split by '' in what we type, whole only in the output.
        self.child.sendline(
            f"echo '@@B''{tok}@@'; sh {script} </dev/null 2>&1; "
            f'echo "@@E""{tok}:$?@@"; rm -f {script}')
        begin = f"@@B{tok}@@\r*\n".encode()  # guest and host ptys both add \r
        self._expect(begin, timeout, f"starting {cmd!r}")
        m = self._expect(re.compile(rf"@@E{tok}:(\d+)@@".encode()), timeout, f"running {cmd!r}")
        out = re.sub(r"\r+\n", "\n", self.child.before.decode(errors="replace"))
        return Result(cmd, KMSG.sub("", out), int(m.group(1)))

    def put(self, local: str | Path, remote: str) -> None:
        if not self._ready:
            self._setup()
        tmp = f"/tmp/.nuwa-put-{secrets.token_hex(6)}"
        self._send_file(Path(local).read_bytes(), tmp)
        r = self.run(f"mv {tmp} {shlex.quote(remote)}")
        if not r.ok:
            raise TargetError(f"put {local} -> {remote}: {r.stdout.strip()}")

    def get(self, remote: str, local: str | Path) -> None:
        r = self.run(f"base64 {shlex.quote(remote)}", timeout=120)
        if not r.ok:
            raise TargetError(f"get {remote}: {r.stdout.strip()}")
        Path(local).write_bytes(base64.b64decode("".join(r.stdout.split())))
