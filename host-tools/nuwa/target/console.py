"""ConsoleTarget: a shell on a serial console, driven by pexpect.

A command is sent base64-encoded in short lines (the console shell's line
editor has a small limit), written to a file in /tmp and run by `sh` with
its output (stdout and stderr together) going to a file, not the console.
That file then comes back base64-encoded between marker lines made of a
fresh random token, with the command's exit status and the file's md5.
Kernel messages can land on the console at any moment, even mid-line; they
start with a "[  seconds]" stamp and contain spaces or brackets, which base64
never does, so they are cut out before decoding, and the md5 proves the
bytes whole (a mismatch is fetched again).  The markers are typed split by
'' and only appear whole in what the guest prints.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
import shlex
from pathlib import Path

import pexpect

from .base import Result, Target, TargetError, TargetTimeout

CHUNK = 400  # bytes of base64 per typed line
KMSG = re.compile(rb"\[\s*\d+\.\d+\][^\n]*\n")  # a kernel console line (PRINTK_TIME)
RETRIES = 3


class ConsoleTarget(Target):
    def __init__(self, child: pexpect.spawn) -> None:
        self.child = child
        self._ready = False

    def _seen(self) -> str:
        before = self.child.before
        text = before.decode(errors="replace") if isinstance(before, bytes) else str(before)
        return text[-400:]

    def _expect(self, pattern: str | bytes | re.Pattern, timeout: float,
                what: str) -> re.Match:
        try:
            self.child.expect(pattern, timeout=timeout)
        except pexpect.TIMEOUT:
            raise TargetTimeout(f"{what}: no answer in {timeout:.0f} s; last seen on the "
                                f"console:\n{self._seen()}") from None
        except pexpect.EOF:
            raise TargetError(f"{what}: the console closed (QEMU exited); last seen:\n"
                              f"{self._seen()}") from None
        return self.child.match

    def wait_ready(self) -> None:
        """Wait until the console shell answers (done before the first command)."""
        if not self._ready:
            self._setup()

    def _setup(self) -> None:
        # No echo, no prompt: the console carries only what we ask for.
        self.child.sendline("stty -echo; PS1=''; PS2=''")
        token = secrets.token_hex(6)
        self.child.sendline(f"echo ready-{token[:6]}''{token[6:]}")
        self._expect(f"ready-{token}".encode(), 60, "waiting for the console shell")
        self._ready = True

    def _send_file(self, data: bytes, path: str) -> None:
        if not self._ready:
            self._setup()
        b64 = base64.b64encode(data).decode()
        self.child.sendline(f": > {path}.b64")
        for i in range(0, len(b64), CHUNK):
            self.child.sendline(f"echo {b64[i:i + CHUNK]} >> {path}.b64")
        self.child.sendline(f"base64 -d {path}.b64 > {path}; rm -f {path}.b64")

    def _fetch(self, path: str, prefix: str, timeout: float, what: str) -> tuple[str, bytes]:
        """Run `prefix` (shell that sets $st), then bring `path` back verified.

        Returns (the value of $st, the file's bytes)."""
        tok = secrets.token_hex(8)
        line = (f"{prefix}; echo '@@B''{tok}@@'; base64 {path}; "
                f"echo \"@@E\"\"{tok}:$st:$(md5sum < {path} | cut -c1-32)@@\"")
        for attempt in range(RETRIES):
            self.child.sendline(line)
            self._expect(f"@@B{tok}@@".encode(), timeout, what)
            m = self._expect(re.compile(rf"@@E{tok}:(\S*?):([0-9a-f]{{32}})@@".encode()),
                             timeout, what)
            raw = KMSG.sub(b"", self.child.before)
            try:
                data = base64.b64decode(re.sub(rb"\s+", b"", raw), validate=True)
            except (binascii.Error, ValueError):
                data = None
            if data is not None and hashlib.md5(data).hexdigest() == m.group(2).decode():
                return m.group(1).decode(), data
            # Damaged in transit: send only the file again, not the command.
            prefix = f"st={shlex.quote(m.group(1).decode())}"
            line = (f"{prefix}; echo '@@B''{tok}@@'; base64 {path}; "
                    f"echo \"@@E\"\"{tok}:$st:$(md5sum < {path} | cut -c1-32)@@\"")
            if attempt == RETRIES - 1:
                break
        raise TargetError(f"{what}: output damaged on the console {RETRIES} times")

    def run(self, cmd: str, timeout: float = 60) -> Result:
        tok = secrets.token_hex(8)
        script, out = f"/tmp/.nuwa-{tok}", f"/tmp/.nuwa-{tok}.out"
        self._send_file(cmd.encode(), script)
        try:
            status, data = self._fetch(
                out, f"sh {script} </dev/null >{out} 2>&1; st=$?", timeout, f"running {cmd!r}")
        except TargetTimeout:
            # Interrupt it (the console is the shell's controlling tty) so the
            # next command does not queue behind it.
            self.child.sendcontrol("c")
            raise
        self.child.sendline(f"rm -f {script} {out}")
        return Result(cmd, data.decode(errors="replace"), int(status))

    def put(self, local: str | Path, remote: str) -> None:
        tmp = f"/tmp/.nuwa-put-{secrets.token_hex(6)}"
        self._send_file(Path(local).read_bytes(), tmp)
        r = self.run(f"mv {tmp} {shlex.quote(remote)}")
        if not r.ok:
            raise TargetError(f"put {local} -> {remote}: {r.stdout.strip()}")

    def get(self, remote: str, local: str | Path) -> None:
        if not self._ready:
            self._setup()
        q = shlex.quote(remote)
        status, data = self._fetch(q, f"test -r {q} && test -f {q}; st=$?", 300,
                                   f"get {remote}")
        if status != "0":
            raise TargetError(f"get {remote}: no such readable file on the target")
        Path(local).write_bytes(data)
