"""labgrid: a coordinator and an exporter on loopback exporting the session guest's SSH as a
NetworkService; `nuwa exec --target labgrid://PLACE`; the system tests through labgrid's
pytest plugin (`--lg-env`) with an environment from `nuwa labgrid-env`; bad input.

Every labgrid process started here is bounded (timeouts) and ended at the end.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from nuwa.target import Qemu, SSHTarget
from nuwa.target.qemu import free_port

BIN = Path(sys.executable).parent
NUWA = str(BIN / "nuwa")
PLACE = "nuwa-guest"
EXPORTER = "nuwa-test-exporter"
GROUP = "nuwa-guest-group"
TOP = Path(__file__).resolve().parents[2]


def wait_port(port: int, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def stop(p: subprocess.Popen[Any]) -> None:
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=10)


class Lab:
    """A labgrid-coordinator and a labgrid-exporter on loopback, and a place."""

    def __init__(self, workdir: Path, ssh_port: int) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.ssh_port = ssh_port

    def start(self) -> Lab:
        log = (self.workdir / "coordinator.log").open("wb")
        self.procs.append(subprocess.Popen(
            [str(BIN / "labgrid-coordinator"), "-l", self.address], cwd=self.workdir,
            stdout=log, stderr=subprocess.STDOUT))
        wait_port(self.port)
        config = self.workdir / "exporter.yaml"
        config.write_text(f"{GROUP}:\n  NetworkService:\n    address: 127.0.0.1\n"
                          f"    port: {self.ssh_port}\n    username: root\n")
        log = (self.workdir / "exporter.log").open("wb")
        self.procs.append(subprocess.Popen(
            [str(BIN / "labgrid-exporter"), "-c", self.address, "-n", EXPORTER,
             "--hostname", "127.0.0.1", str(config)], cwd=self.workdir,
            stdout=log, stderr=subprocess.STDOUT))
        self.client("create")
        self.client("add-match", f"{EXPORTER}/{GROUP}/NetworkService")
        end = time.monotonic() + 30
        while "NetworkService" not in self.client("resources", place=None).stdout:
            assert time.monotonic() < end, "the exporter's NetworkService never appeared"
            time.sleep(0.5)
        return self

    def client(self, *args: str, place: str | None = PLACE, user: str | None = None,
               check: bool = True) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ)
        if user:
            env["LG_USERNAME"] = user
        cmd = [str(BIN / "labgrid-client"), "-x", self.address,
               *(["-p", place] if place else []), *args]
        p = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=60,
                           env=env)
        if check:
            assert p.returncode == 0, f"{cmd}: {p.stdout}{p.stderr}"
        return p

    def acquired_by(self) -> str:
        for line in self.client("show").stdout.splitlines():
            if line.strip().startswith("acquired:"):
                return line.split(":", 1)[1].strip()
        raise AssertionError("labgrid-client show printed no 'acquired:' line")

    def nuwa(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, LG_COORDINATOR=self.address)
        return subprocess.run([NUWA, *args], check=False, capture_output=True, text=True,
                              env=env, timeout=timeout)

    def close(self) -> None:
        for p in reversed(self.procs):
            stop(p)


@pytest.fixture(scope="module")
def lab(guest_vm: Qemu, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    lab = Lab(tmp_path_factory.mktemp("labgrid"), guest_vm.ssh_port)
    try:
        yield lab.start()
    finally:
        lab.close()


def test_exec_on_a_place_acquires_and_releases_it(lab: Lab, guest_machine: str) -> None:
    r = lab.nuwa("exec", "--target", f"labgrid://{PLACE}", "--", "uname", "-m")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == guest_machine
    assert lab.acquired_by() == "None"


def test_failing_command_keeps_its_status_and_releases(lab: Lab) -> None:
    r = lab.nuwa("exec", "--target", f"labgrid://{PLACE}", "--", "sh", "-c", "exit 3")
    assert r.returncode == 3
    assert lab.acquired_by() == "None"


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_releases_the_place(lab: Lab, guest_ssh: SSHTarget, signum: int,
                                              status: int) -> None:
    env = dict(os.environ, LG_COORDINATOR=lab.address)
    pidfile = "/tmp/nuwa-labgrid-ctrl-c.pid"
    p = subprocess.Popen([NUWA, "exec", "--target", f"labgrid://{PLACE}", "--", "sh", "-c",
                          f"echo $$ > {pidfile}; exec sleep 60"],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        end = time.monotonic() + 60
        while lab.acquired_by() == "None":
            assert time.monotonic() < end and p.poll() is None, "the place was never acquired"
            time.sleep(0.3)
        time.sleep(1)  # into the command
        p.send_signal(signum)
        t0 = time.monotonic()
        _, err = p.communicate(timeout=60)
        waited = time.monotonic() - t0
        # and the command ended on the board too (the SSH server would leave it running)
        end = time.monotonic() + 15
        while (alive := guest_ssh.run(f"kill -0 $(cat {pidfile})").ok) and \
                time.monotonic() < end:
            time.sleep(0.5)
    finally:
        stop(p)
        guest_ssh.run(f"kill $(cat {pidfile}) 2>/dev/null; rm -f {pidfile}")
    assert p.returncode == status, err
    assert waited < 30, f"signal {signum} took {waited:.0f} s (the command runs 60 s)"
    assert lab.acquired_by() == "None"
    assert not alive, "the interrupted command still runs on the board"


def test_snapshot_through_a_place(lab: Lab, guest_ssh: SSHTarget, tmp_path: Path) -> None:
    launched = json.loads(guest_ssh.check("nuwactl --json launch settings", timeout=120))
    try:
        out = tmp_path / "settings.snap"
        r = lab.nuwa("snapshot", str(launched["pid"]), "-o", str(out), "--json",
                     "--target", f"labgrid://{PLACE}")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["bytes"] == out.stat().st_size > 0
    finally:
        guest_ssh.run(f"nuwactl kill {launched['pid']}", timeout=60)
    assert lab.acquired_by() == "None"


def test_exec_on_an_environment_file_boots_it(tmp_path: Path, board_name: str,
                                               guest_machine: str) -> None:
    """`--target labgrid:ENV.yaml` boots the environment's QEMUDriver, runs, powers off."""
    env_file = tmp_path / "env.yaml"
    r = subprocess.run([NUWA, "labgrid-env", "--board", board_name, "-o", str(env_file)],
                       check=False, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([NUWA, "exec", "--target", f"labgrid:{env_file}", "--", "uname", "-m"],
                       check=False, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == guest_machine
    # Its QEMU is gone (powered off at the end).
    port = yaml.safe_load(env_file.read_text())["targets"]["main"]["resources"][
        "NetworkService"]["port"]
    assert f"hostfwd=tcp:127.0.0.1:{port}-" not in subprocess.run(
        ["ps", "-eo", "args"], check=True, capture_output=True, text=True).stdout


def test_a_taken_place_is_one_clear_error(lab: Lab) -> None:
    lab.client("acquire", user="someone-else")
    try:
        r = lab.nuwa("exec", "--target", f"labgrid://{PLACE}", "--", "true")
    finally:
        lab.client("release", user="someone-else")
    assert r.returncode == 1
    assert r.stderr.count("nuwa: error:") == 1 and "acquired by" in r.stderr, r.stderr
    assert r.stderr.strip().count("\n") == 0, r.stderr


def test_a_missing_place_is_one_clear_error(lab: Lab) -> None:
    r = lab.nuwa("exec", "--target", "labgrid://no-such-place", "--", "true")
    assert r.returncode == 1
    assert r.stderr.count("nuwa: error:") == 1 and "no-such-place" in r.stderr, r.stderr
    assert "matches nothing" in r.stderr


def test_a_silent_coordinator_times_out_clearly(tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        env = dict(os.environ, LG_COORDINATOR=address, NUWA_LABGRID_TIMEOUT="3")
        t0 = time.monotonic()
        r = subprocess.run([NUWA, "exec", "--target", f"labgrid://{PLACE}", "--", "true"],
                           check=False, capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 1
    assert time.monotonic() - t0 < 30
    assert r.stderr.count("nuwa: error:") == 1, r.stderr
    assert "no answer in 3 s" in r.stderr and address in r.stderr, r.stderr


def test_a_system_test_runs_through_labgrids_pytest_plugin(tmp_path: Path,
                                                            board_name: str) -> None:
    """`nuwa labgrid-env` writes an environment; one system test runs with --lg-env on it
    (labgrid's QEMUDriver boots a second guest for it)."""
    env_file = tmp_path / "env.yaml"
    r = subprocess.run([NUWA, "labgrid-env", "--board", board_name, "-o", str(env_file)],
                       check=False, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([str(BIN / "pytest"), "-q", "-p", "no:cacheprovider", "--lg-env",
                        str(env_file), "tests/system/test_guest_basics.py",
                        "-k", "machine_is_the_boards or ssh_answers_through_fabric"],
                       check=False, capture_output=True, text=True, timeout=600, cwd=TOP)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "2 passed" in r.stdout, r.stdout[-2000:]
