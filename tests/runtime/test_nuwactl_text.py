"""nuwactl's text mode prints nothing a terminal would obey (issue 20 item
8): an answer that carries an app's bytes (a reply, a log line, a crash
frame) has its control characters shown as '?', newlines and tabs kept.
nuwad's door cleans them first; this checks nuwactl's own second line, with
a hostile peer in nuwad's place on the socket."""

from __future__ import annotations

import socket
import struct
import subprocess
import threading
from pathlib import Path

from nuwad_harness import LEAK_CHECK_ENV

HOSTILE = b"all apps healthy\x1b]0;owned\x07\x1b[2K\rline\ttab\nnext\x7f"


def answer_once(path: Path, status: int, body: bytes) -> threading.Thread:
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    srv.listen(1)

    def serve() -> None:
        conn, _ = srv.accept()
        with conn, srv:
            conn.recv(4096)
            conn.sendall(struct.pack(">IBBBB", len(body), 0, status, 0, 0) + body)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return t


def run(build: Path, sock: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(build / "nuwactl"), "--socket", str(sock), *args], capture_output=True,
                          timeout=10, env=LEAK_CHECK_ENV if build.name == "asan" else None, check=False)


def test_text_answers_reach_the_terminal_without_control_characters(build: Path, tmp_path: Path) -> None:
    sock = tmp_path / "s"
    t = answer_once(sock, 0, HOSTILE)
    out = run(build, sock, "call", "echo", "x")
    t.join(5)
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"all apps healthy?]0;owned??[2K?line\ttab\nnext?\n"


def test_error_answers_too(build: Path, tmp_path: Path) -> None:
    sock = tmp_path / "s"
    t = answer_once(sock, 1, HOSTILE)
    out = run(build, sock, "call", "echo", "x")
    t.join(5)
    assert out.returncode == 1
    assert b"\x1b" not in out.stderr and b"\x07" not in out.stderr and b"\r" not in out.stderr
    assert b"all apps healthy" in out.stderr
