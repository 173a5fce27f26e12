"""nuwad under nuwa-supervise (restart within 2 s, survivors ended, restarts counted) and
the exec fallback while the template is not ready ([daemon] fallback = exec | wait)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from nuwad_harness import SANITIZER_ENV, Nuwad, proc_state, wait_for, write_config

SLOW_TEMPLATE = "waiters template_init_delay_ms=2500"


def test_fallback_exec_serves_a_launch_at_once_while_the_template_starts(
        start_nuwad: Callable[..., Nuwad]) -> None:
    d = start_nuwad(framework_args=SLOW_TEMPLATE, daemon="fallback = exec")
    got = d.call("launch", "echo")
    assert got["mode"] == "exec", got  # type: ignore[index]
    assert "template starting" in got["fallback"], got  # type: ignore[index]
    # At once: not after the template's 2.5 s start-up.
    assert got["launch_ms"] < 2000, got  # type: ignore[index]
    listed = [a for a in d.call("list") if a["pid"] == got["pid"]]  # type: ignore[union-attr,index]
    assert listed and "template starting" in listed[0]["fallback"], listed
    assert d.call("stats")["fallback_launches"] == 1  # type: ignore[index]
    d.wait_ready()
    again = d.call("launch", "echo", "--no-spare")
    assert again["mode"] == "template" and again["fallback"] is None, again  # type: ignore[index]


def test_fallback_exec_after_the_template_dies(start_nuwad: Callable[..., Nuwad]) -> None:
    d = start_nuwad(framework_args=SLOW_TEMPLATE, daemon="fallback = exec")
    tpid = int(d.wait_ready()["pid"])  # type: ignore[arg-type]
    os.kill(tpid, signal.SIGKILL)
    wait_for(lambda: d.template()["pid"] != tpid, 10, "template reaped")
    got = d.call("launch", "echo", "--no-spare")
    assert got["mode"] == "exec" and "template restarting" in got["fallback"], got  # type: ignore[index]
    assert got["launch_ms"] < 2000, got  # type: ignore[index]


def test_fallback_wait_keeps_waiting_for_the_template(start_nuwad: Callable[..., Nuwad]) -> None:
    d = start_nuwad(framework_args=SLOW_TEMPLATE, daemon="fallback = wait")
    got = d.call("launch", "echo")
    assert got["mode"] == "template" and got["fallback"] is None, got  # type: ignore[index]
    assert got["launch_ms"] > 1000, got  # type: ignore[index]  # it waited for the template


def test_fallback_value_is_checked(tmp_path: Path, build: Path) -> None:
    conf = write_config(tmp_path / "n.conf", build, daemon="fallback = maybe")
    res = subprocess.run([str(build / "nuwad"), "--config", str(conf)], capture_output=True,
                         text=True, timeout=30, check=False)
    assert res.returncode != 0 and f"{conf}:" in res.stderr and "'exec' or 'wait'" in res.stderr


class Supervised:
    """nuwa-supervise running nuwad of one build on a private socket and state dir."""

    def __init__(self, build: Path, work: Path, daemon: str = "") -> None:
        self.build, self.sock, self.state = build, work / "nuwad.sock", work / "state"
        self.log = work / "supervise.log"
        self.conf = conf = write_config(work / "nuwad.conf", build, daemon=daemon)
        self.env = {**os.environ, **SANITIZER_ENV}
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [str(build / "nuwa-supervise"), "--state-dir", str(self.state), "--",
                 str(build / "nuwad"), "--foreground", "--config", str(conf),
                 "--socket", str(self.sock), "--state-dir", str(self.state)],
                stdout=log, stderr=subprocess.STDOUT, env=self.env)

    def ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.build / "nuwactl"), "--socket", str(self.sock), *args],
                              capture_output=True, text=True, timeout=30, env=self.env, check=False)

    def json(self, *args: str) -> dict:  # type: ignore[type-arg]
        res = self.ctl(*args, "--json")
        assert res.returncode == 0, res.stderr + self.log.read_text()
        return json.loads(res.stdout)  # type: ignore[no-any-return]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait()


@pytest.fixture
def supervised(build: Path, tmp_path: Path) -> Iterator[Supervised]:
    s = Supervised(build, tmp_path)
    yield s
    s.stop()


def test_killed_nuwad_is_restarted_within_2s_and_ends_the_old_apps(supervised: Supervised) -> None:
    s = supervised
    wait_for(lambda: s.ctl("ping").returncode == 0, 30, "nuwad answering")
    wait_for(lambda: s.json("template-status")["state"] == "ready", 30, "template ready")
    apps = [s.json("launch", "echo", "--no-spare")["pid"], s.json("launch", "echo-exec")["pid"]]
    stats = s.json("stats")
    old_nuwad, template = stats["nuwad"]["pid"], stats["template"]["pid"]
    assert stats["supervised"] is True and stats["nuwad_restarts"] == 0, stats
    # Stopped processes cannot notice nuwad's end: they survive it unless ended.
    old = [*apps, template]
    for pid in old:
        os.kill(pid, signal.SIGSTOP)
    os.kill(old_nuwad, signal.SIGKILL)
    t0 = time.monotonic()
    wait_for(lambda: (r := s.ctl("--json", "stats")).returncode == 0
             and json.loads(r.stdout)["nuwad"]["pid"] != old_nuwad, 10, "a new nuwad")
    restart_s = time.monotonic() - t0
    assert restart_s < 2.0, f"nuwad answered {restart_s:.2f} s after kill -9"
    wait_for(lambda: all(proc_state(p) in ("gone", "Z") for p in old), 10,
             "the old template and apps ended")
    stats = s.json("stats")
    assert stats["nuwad_restarts"] == 1, stats
    assert "signal 9" in stats["nuwad_last_exit"], stats
    assert stats["survivors_ended"] >= len(old), stats
    assert "restart 1" in s.log.read_text()
    # The new nuwad launches as usual; a stop ends the supervisor, nuwad with it.
    wait_for(lambda: s.json("template-status")["state"] == "ready", 30, "new template ready")
    assert s.json("launch", "echo")["pid"] > 0
    new_nuwad = s.json("stats")["nuwad"]["pid"]
    assert s.stop() == 0
    assert proc_state(new_nuwad) in ("gone", "Z")


def test_invalid_config_is_not_restarted_into_until_sighup(build: Path, tmp_path: Path) -> None:
    """nuwad exits with EX_CONFIG on an invalid config: the supervisor logs it
    once and waits (restarting would fail the same way every second); SIGHUP
    after the fix starts nuwad."""
    s = Supervised(build, tmp_path, daemon="fallback = maybe")
    try:
        wait_for(lambda: "not restarting until SIGHUP" in s.log.read_text(), 10,
                 "the supervisor giving up on the config")
        time.sleep(2.5)  # a restart loop would have started nuwad several times by now
        log = s.log.read_text()
        assert log.count("'exec' or 'wait'") == 1, log
        assert s.proc.poll() is None, log
        assert "waiting_for_config=1" in (s.state / "supervisor").read_text()
        assert s.ctl("ping").returncode != 0
        write_config(s.conf, build)
        s.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: s.ctl("ping").returncode == 0, 30, "nuwad answering after SIGHUP")
        assert "waiting_for_config=0" in (s.state / "supervisor").read_text()
        assert s.json("stats")["nuwad_restarts"] == 0
    finally:
        assert s.stop() == 0
