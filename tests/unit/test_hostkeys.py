"""Host keys of real boards: trust on first use, a changed key refused, --accept-new-host-key.

The board is a small in-process SSH server (paramiko) on a local port; the client is the
real SSHTarget that `--target ssh://` uses.
"""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest
from nuwa.target import TargetError, target_from_url
from nuwa.target.hostkeys import fingerprint, host_id


class Board(paramiko.ServerInterface):
    """Accepts any public key and answers every command with "ok"."""

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        return paramiko.AUTH_SUCCESSFUL

    def get_allowed_auths(self, username: str) -> str:
        return "publickey"

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return paramiko.OPEN_SUCCEEDED

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        def answer() -> None:
            time.sleep(0.05)  # after paramiko acknowledged the request (we return first)
            channel.sendall(b"ok\n")
            channel.send_exit_status(0)
            channel.close()
        threading.Thread(target=answer, daemon=True).start()
        return True


@pytest.fixture
def board() -> Iterator[dict]:
    """A listening board; set board["key"] to change its host key between connections."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    state = {"port": listener.getsockname()[1], "key": paramiko.RSAKey.generate(1024)}

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            t = paramiko.Transport(conn)
            t.add_server_key(state["key"])
            try:
                t.start_server(server=Board())
            except (paramiko.SSHException, EOFError):
                continue

    threading.Thread(target=serve, daemon=True).start()
    yield state
    listener.close()


@pytest.fixture
def client_key(tmp_path: Path) -> Path:
    path = tmp_path / "id"
    paramiko.RSAKey.generate(1024).write_private_key_file(str(path))
    return path


def connect(board: dict, key: Path, known: Path, accept_new: bool = False) -> str:
    t = target_from_url(f"ssh://root@127.0.0.1:{board['port']}", key_file=key,
                        known_hosts=known, accept_new_host_key=accept_new)
    try:
        return t.run("true").stdout
    finally:
        t.close()


def test_first_use_is_trusted_and_stored(board: dict, client_key: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    known = tmp_path / "cache" / "ssh" / "known_hosts"
    assert connect(board, client_key, known) == "ok\n"
    err = capsys.readouterr().err
    assert "trusting its key on first use" in err and fingerprint(board["key"]) in err
    stored = paramiko.HostKeys(str(known))
    assert stored.lookup(host_id("127.0.0.1", board["port"])) is not None
    # the same key again: silent
    assert connect(board, client_key, known) == "ok\n"
    assert "first use" not in capsys.readouterr().err


def test_changed_key_is_refused_until_accepted(board: dict, client_key: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    known = tmp_path / "known_hosts"
    connect(board, client_key, known)
    old = board["key"]
    board["key"] = paramiko.RSAKey.generate(1024)
    with pytest.raises(TargetError, match="host key of .* changed") as e:
        connect(board, client_key, known)
    assert fingerprint(old) in str(e.value) and fingerprint(board["key"]) in str(e.value)
    assert "--accept-new-host-key" in str(e.value)
    capsys.readouterr()
    assert connect(board, client_key, known, accept_new=True) == "ok\n"
    assert f"replaced the host key {fingerprint(old)}" in capsys.readouterr().err
    # the new key is now the known one
    assert connect(board, client_key, known) == "ok\n"
    entry = paramiko.HostKeys(str(known)).lookup(host_id("127.0.0.1", board["port"]))
    assert entry is not None and fingerprint(next(iter(entry.values()))) == fingerprint(
        board["key"])


def test_guests_nuwa_boots_are_not_checked(board: dict, client_key: Path) -> None:
    """Qemu.ssh(): a new key each boot, no known_hosts (today's behaviour)."""
    from nuwa.target import SSHTarget

    t = SSHTarget("127.0.0.1", board["port"], "root", client_key)
    assert t.run("true").stdout == "ok\n"
    t.close()
    board["key"] = paramiko.RSAKey.generate(1024)
    t = SSHTarget("127.0.0.1", board["port"], "root", client_key)
    assert t.run("true").stdout == "ok\n"
    t.close()
