"""Start a private nuwad on a build of the runtime and talk to it.

Used by the runtime tests; every test config is written by the test itself so
the daemon, the template and the apps are the real binaries of one build
(`host`, `asan` or `musl`), never mocks.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
_BUILD_DIR = TOP / "runtime" / "build"
# Every runtime build: libnuwa, minifw, nuwad, nuwactl and the test apps.
BUILDS = {name: _BUILD_DIR / name for name in ("host", "asan", "musl")}
# The builds with the app framework and the sample apps: glibc's (make -C runtime
# CC=musl-gcc leaves the framework out, docs/runtime.md).
FRAMEWORK_BUILDS = {name: BUILDS[name] for name in ("host", "asan")}
SANITIZER_ENV = {
    # Memory errors and UB abort. Leak checking is off by default: apps end
    # by signal, and sandboxed processes forbid the ptrace LeakSanitizer needs.
    "ASAN_OPTIONS": "detect_leaks=0:halt_on_error=1:abort_on_error=0",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
}
# For processes that exit normally and are not sandboxed (nuwad on SIGTERM,
# nuwactl, nuwa-libcheck): LeakSanitizer on.
LEAK_CHECK_ENV = {**SANITIZER_ENV,
                  "ASAN_OPTIONS": "detect_leaks=1:halt_on_error=1:abort_on_error=0"}
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer")


def frame(words: list[str], text: bool = False, version: int = 1) -> bytes:
    """One control request: u32 length, u16 version, u16 flags, NUL-ended words."""
    payload = b"".join(w.encode() + b"\0" for w in words)
    return struct.pack(">IHH", len(payload), version, 1 if text else 0) + payload


def recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def read_answer(sock: socket.socket) -> tuple[int, bytes]:
    length, status, _flags = struct.unpack(">IHH", recv_exact(sock, 8))
    return status, recv_exact(sock, length)


def wait_for(pred: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def write_config(path: Path, build: Path, *, daemon: str = "", framework_args: str = "waiters",
                 framework_extra: str = "", apps: str = "",
                 app_uids: str = "61000-61999") -> Path:
    """A config naming BUILD's binaries, the minimal framework and the echo test
    apps (which name no uid: they get one of APP_UIDS; "" leaves the key out)."""
    uids = f"app_uids = {app_uids}" if app_uids else ""
    path.write_text(f"""\
[daemon]
template = {build}/nuwa-template
exec_host = {build}/nuwa-exec-host
spare_delay_ms = 50
{uids}
{daemon}

[framework]
library = {build}/libnuwa-minifw.so
args = {framework_args}
{framework_extra}

[app echo]
library = {build}/app-echo.so

[app echo-exec]
library = {build}/app-echo.so
mode = exec

[app broken]
library = {build}/app-echo.so
args = --fail
{apps}
""")
    return path


class Nuwad:
    """A nuwad process of one build with its own socket, state dir and log."""

    def __init__(self, build: Path, workdir: Path, config: Path,
                 sanitizer_env: dict[str, str] | None = None) -> None:
        self.build = build
        self.sock = workdir / "nuwad.sock"
        self.state = workdir / "state"
        self.log = workdir / "nuwad.log"
        self.config = config
        self.env = {**os.environ, **(sanitizer_env or SANITIZER_ENV)}
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [str(build / "nuwad"), "--foreground", "--config", str(config),
                 "--socket", str(self.sock), "--state-dir", str(self.state)],
                stdout=log, stderr=subprocess.STDOUT, env=self.env)
        wait_for(lambda: self.sock.exists() or self.proc.poll() is not None, 20, "nuwad socket")
        if self.proc.poll() is not None:
            raise AssertionError(f"nuwad exited: {self.log.read_text()}")

    # -- nuwactl, the real CLI ------------------------------------------------
    def ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.build / "nuwactl"), "--socket", str(self.sock), *args]
        res = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=60,
                             env=self.env)
        if check and res.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({res.returncode}): {res.stderr}\n"
                                 f"--- nuwad log ---\n{self.log_tail()}")
        return res

    def json(self, *args: str) -> object:
        return json.loads(self.ctl(*args, "--json").stdout)

    # -- the raw protocol, for loops and abuse -------------------------------
    def connect(self) -> socket.socket:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(str(self.sock))
        return s

    def request(self, *words: str) -> tuple[int, bytes]:
        with self.connect() as s:
            s.sendall(frame(list(words)))
            return read_answer(s)

    def call(self, *words: str) -> object:
        status, body = self.request(*words)
        assert status == 0, f"{words}: {body.decode()}\n{self.log_tail()}"
        return json.loads(body)

    # -- state ----------------------------------------------------------------
    def template(self) -> dict[str, object]:
        return self.call("template-status")  # type: ignore[return-value]

    def wait_ready(self, timeout: float = 30, spare: bool = False) -> dict[str, object]:
        def ready() -> dict[str, object] | None:
            t = self.template()
            if t["state"] != "ready" or (spare and t["spare_pid"] is None):
                return None
            return t
        return wait_for(ready, timeout, "template ready")  # type: ignore[return-value]

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        text = self.log.read_text(errors="replace")
        for mark in SANITIZER_MARKS:
            assert mark not in text, f"sanitizer report in nuwad log:\n{text[-8000:]}"


def children(pid: int) -> list[int]:
    """Direct children of PID, from /proc."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            out.append(int(entry.name))
    return sorted(out)


def proc_state(pid: int) -> str:
    """The one-letter state of PID ("Z" zombie), or "gone"."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "gone"
    return stat[stat.rindex(")") + 2:].split()[0]


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def fd_target(pid: int, fd: int) -> str:
    return os.readlink(f"/proc/{pid}/fd/{fd}")


def assert_refused_config(build: Path, tmp_path: Path, text: str, line: int,
                          message: str) -> None:
    """nuwad refuses config TEXT with exactly one line naming bad.conf:LINE and MESSAGE,
    a nonzero exit and no control socket."""
    conf = tmp_path / "bad.conf"
    conf.write_text(text)
    res = subprocess.run([str(build / "nuwad"), "--foreground", "--config", str(conf),
                          "--socket", str(tmp_path / "s"), "--state-dir", str(tmp_path / "st")],
                         check=False, capture_output=True, text=True, timeout=30,
                         env={**SANITIZER_ENV})
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert f"bad.conf:{line}:" in lines[0] and message in lines[0], lines[0]
    assert not (tmp_path / "s").exists()
