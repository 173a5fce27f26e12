"""The fd inventory at freeze: an fd the template cannot account for fails the freeze,
named with its target; fd_allow entries are checked; nuwad drops inherited fds."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from nuwad_harness import SANITIZER_ENV, Nuwad, wait_for, write_config


def test_socket_opened_by_a_library_fails_the_freeze_naming_fd_and_peer(
        start_nuwad: Callable[..., Nuwad], build: Path) -> None:
    d = start_nuwad(framework_extra=f"preload = {build}/libnuwa-test-threadlib.so:"
                                    "threadlib_socket_init\n")
    status = wait_for(lambda: (t := d.template())["last_error"] and t, 30, "freeze failure")
    error = str(status["last_error"])  # type: ignore[index]
    assert "fd inventory" in error and "socket:[" in error, error
    assert "inet dgram" in error and "peer 127.0.0.1:514" in error, error
    assert "fd_allow" in error, error
    assert d.request("ping")[0] == 0


def test_fd_allow_entry_that_names_nothing_is_a_config_error(tmp_path: Path, build: Path) -> None:
    for entry, why in (("nonsense", "names nothing"), ("/no/such/file", "names nothing")):
        conf = write_config(tmp_path / "n.conf", build, framework_extra=f"fd_allow = {entry}\n")
        res = subprocess.run([str(build / "nuwad"), "--config", str(conf)], capture_output=True,
                             text=True, timeout=30, check=False)
        assert res.returncode != 0, res.stderr
        assert f"{conf}:" in res.stderr and why in res.stderr and entry in res.stderr, res.stderr


def test_nuwad_closes_inherited_fds(build: Path, tmp_path: Path) -> None:
    r, w = os.pipe()
    conf = write_config(tmp_path / "nuwad.conf", build)
    sock = tmp_path / "nuwad.sock"
    env = {**os.environ, **SANITIZER_ENV}
    with open(tmp_path / "log", "wb") as log:
        proc = subprocess.Popen([str(build / "nuwad"), "--foreground", "--config", str(conf),
                                 "--socket", str(sock), "--state-dir", str(tmp_path / "state")],
                                stdout=log, stderr=subprocess.STDOUT, env=env, pass_fds=(r, w))
    try:
        leaked = os.readlink(f"/proc/self/fd/{w}")
        wait_for(lambda: sock.exists(), 20, "nuwad socket")
        targets = [os.readlink(f"/proc/{proc.pid}/fd/{fd}")
                   for fd in os.listdir(f"/proc/{proc.pid}/fd")]
        assert leaked not in targets, targets
    finally:
        os.close(r)
        os.close(w)
        proc.terminate()
        proc.wait(timeout=20)
