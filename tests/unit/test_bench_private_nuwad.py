"""bench.private_nuwad over a scripted shell: the config goes in as written, nuwad starts
beside the device's, is waited for through its own socket, and is stopped and removed."""
from __future__ import annotations

import json

import pytest
from nuwa.bench import guest as guest_module
from nuwa.bench.private_nuwad import PrivateNuwad, template_ready
from nuwa.errors import NuwaError
from nuwa.target.base import Result

CONF = "[daemon]\nspare_delay_ms = 300\n\n[app it's]\nlibrary = /L/app.so"


class Shell:
    """Answers template-status with STATUSES in turn (None: nuwactl fails)."""

    def __init__(self, *statuses: dict | None) -> None:
        self.statuses = list(statuses)
        self.commands: list[str] = []

    def run(self, cmd: str, timeout: float = 60) -> Result:
        self.commands.append(cmd)
        if "template-status" in cmd:
            st = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
            return Result(cmd, "", 1, "no socket") if st is None else Result(cmd, json.dumps(st), 0)
        if cmd.startswith("tail "):
            return Result(cmd, "nuwad: the template failed\n", 0)
        return Result(cmd, "{}" if "nuwactl" in cmd else "", 0)


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guest_module.time, "sleep", lambda s: None)


def test_starts_waits_for_the_spare_and_stops() -> None:
    shell = Shell(None, {"state": "ready", "spare_pid": 0}, {"state": "ready", "spare_pid": 7})
    with PrivateNuwad(shell, "/tmp/p", CONF, cleanup="umount /tmp/p/s") as nuwad:
        assert nuwad.sock == "/tmp/p/nuwad.sock"
        nuwad.guest.nuwactl("launch", "clock")
    write, start, *polls, launch, stop = shell.commands
    assert write.startswith("rm -rf /tmp/p && mkdir -p /tmp/p && cat > /tmp/p/nuwad.conf <<")
    assert f"\n{CONF}\nNUWA_CONF_EOF" in write  # the text as written, quotes and all
    assert start == ("nuwad --foreground --config /tmp/p/nuwad.conf --socket "
                     "/tmp/p/nuwad.sock --state-dir /tmp/p >/tmp/p/log 2>&1 & "
                     "echo $! > /tmp/p/pid")
    assert len(polls) == 3 and all("--socket /tmp/p/nuwad.sock" in p for p in polls)
    assert launch == "nuwactl --socket /tmp/p/nuwad.sock launch clock --json"
    assert stop == "kill $(cat /tmp/p/pid); sleep 1; umount /tmp/p/s; rm -rf /tmp/p"


def test_one_that_never_gets_ready_is_stopped_with_its_log_in_the_error() -> None:
    shell = Shell({"state": "starting"})
    nuwad = PrivateNuwad(shell, "/tmp/p", CONF, name="py nuwad", ready=template_ready,
                         ready_timeout=0.01)
    with pytest.raises(NuwaError, match="py nuwad not ready: nuwad: the template failed"):
        nuwad.start()
    assert shell.commands[-1].startswith("kill $(cat /tmp/p/pid)")


def test_a_nuwad_that_must_answer_fails_at_the_first_failed_call() -> None:
    nuwad = PrivateNuwad(Shell(None), "/tmp/p", CONF)
    with pytest.raises(NuwaError, match="template-status failed: no socket"):
        nuwad.guest.wait_status(template_ready, 60, must_answer=True)
