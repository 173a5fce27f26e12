"""The cross-compiled runtime in the real guest (session fixture `guest`).

The device's own nuwad (started by /etc/init.d/S50nuwad) answers; a private
nuwad on its own socket launches the runtime's test app in both modes,
survives kill -9 of its template, and is stopped again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from guest_nuwad import guest_ctl
from guest_nuwad import private_nuwad as start_private_nuwad
from guest_nuwad import wait_template as wait_nuwad_template

if not (Path(__file__).parent / "conftest.py").exists():
    pytest.skip("no guest fixture (tests/system/conftest.py) yet", allow_module_level=True)

DIR = "/tmp/nuwa-runtime-test"
SOCK = f"{DIR}/nuwad.sock"
# One line with printf escapes: the console driver sends commands line by line.
CONF = ("[daemon]\\nspare_delay_ms = 100\\nready_timeout_ms = 60000\\napp_uids = 20100-20199\\n"
        "[framework]\\nlibrary = /usr/lib/nuwa/libnuwa-minifw.so\\nargs = waiters\\n"
        "[app echo]\\nlibrary = /usr/lib/nuwa/app-echo.so\\n")


def ctl(guest: Any, args: str, timeout: float = 120) -> Any:
    return guest_ctl(guest, SOCK, args, timeout)


def wait_template(guest: Any, timeout: float = 120, not_pid: int = 0) -> dict[str, Any]:
    return wait_nuwad_template(guest, SOCK, timeout, not_pid)


@pytest.fixture(scope="module")
def private_nuwad(guest: Any) -> Iterator[Any]:
    with start_private_nuwad(guest, DIR, CONF):
        yield guest


def test_runtime_is_installed_and_device_nuwad_answers(guest: Any, guest_machine: str) -> None:
    for path in ("/usr/bin/nuwad", "/usr/bin/nuwactl", "/usr/libexec/nuwa/nuwa-template",
                 "/usr/libexec/nuwa/nuwa-exec-host", "/usr/lib/nuwa/libnuwa.so"):
        assert guest.run(f"test -x {path} || test -f {path}").ok, path
    assert guest.check("uname -m").strip() == guest_machine
    res = guest.run("nuwactl --json ping", timeout=60)
    assert res.ok, f"device nuwad (S50nuwad) not answering: {res.stdout}"
    assert json.loads(res.stdout)["pong"] is True


@pytest.mark.parametrize("mode", ["template", "exec"])
def test_launch_in_guest(private_nuwad: Any, mode: str) -> None:
    app = ctl(private_nuwad, f"launch echo --mode {mode}")
    assert app["mode"] == mode and app["pid"] > 0 and app["launch_ms"] > 0
    reply = ctl(private_nuwad, f"call {app['pid']} fw:waiters")["reply"]
    for kind in ("cond", "epoll", "poll", "read", "sleep"):
        assert f"{kind}=ok" in reply, reply
    assert "processed=pre1,pre2,req" in reply
    comm = private_nuwad.check(f"cat /proc/{app['pid']}/comm").strip()
    assert comm == "echo"
    listed = {a["pid"]: a for a in ctl(private_nuwad, "list")}
    assert listed[app["pid"]]["uss_kb"] > 0
    assert ctl(private_nuwad, f"kill {app['pid']}")["killed"] == [app["pid"]]


def test_template_death_in_guest(private_nuwad: Any) -> None:
    old = wait_template(private_nuwad)
    app = ctl(private_nuwad, "launch echo --no-spare")
    private_nuwad.check(f"kill -9 {old['pid']}")
    new = wait_template(private_nuwad, not_pid=old["pid"])
    assert new["restarts"] >= 1
    assert ctl(private_nuwad, f"app-ping {app['pid']}")["pid"] == app["pid"]
    fresh = ctl(private_nuwad, "launch echo")
    assert fresh["pid"] > 0
    for pid in (app["pid"], fresh["pid"]):
        ctl(private_nuwad, f"kill {pid}")
    stats = ctl(private_nuwad, "stats")
    assert stats["apps"] == [] and stats["mem_available_kb"] > 0
