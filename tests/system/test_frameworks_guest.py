"""One template per framework in the guest: the image's apps.d runs a C app
(on the default framework, libnuwafw) and a Python app (on [framework
python], libnuwapy) side by side, each forked from its own template.

A private nuwad with the device's framework and apps.d (so the Python
template it starts on first use goes away with it, not staying in the
device's nuwad for the rest of the session).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from guest_nuwad import guest_ctl, private_nuwad

if not (Path(__file__).parent / "conftest.py").exists():
    pytest.skip("no guest fixture (tests/system/conftest.py) yet", allow_module_level=True)

DIR = "/tmp/nuwa-frameworks-test"
CONF = ("[daemon]\\ntemplate = /usr/libexec/nuwa/nuwa-template\\n"
        "exec_host = /usr/libexec/nuwa/nuwa-exec-host\\ninclude = /etc/nuwa/apps.d\\n"
        "spare_delay_ms = 100\\nready_timeout_ms = 120000\\napp_uids = 20400-20499\\n"
        "landlock = required\\nlmk_threshold_kb = 0\\n"
        "[framework]\\nlibrary = /usr/lib/nuwa/libnuwafw.so\\nargs = data_dir=/usr/share/nuwa\\n"
        "sandbox_read = /etc/ssl/certs\\n")


@pytest.fixture(scope="module")
def sock(guest: Any) -> Iterator[str]:
    with private_nuwad(guest, DIR, CONF) as s:
        yield s


def frameworks(guest: Any, sock: str) -> dict[str, dict[str, Any]]:
    return {f["framework"]: f for f in guest_ctl(guest, sock, "template-status")["frameworks"]}


def ppid(guest: Any, pid: int) -> int:
    return int(guest.check(f"grep PPid: /proc/{pid}/status").split()[1])


def test_c_and_python_app_from_their_own_templates(guest: Any, sock: str) -> None:
    configured = {a["name"]: a for a in guest_ctl(guest, sock, "apps")}
    assert configured["weather"]["framework"] == "python"
    assert configured["weather"]["module"] == "weather"
    assert configured["clock"]["framework"] == "default"
    # start = first-use: no Python template before the first Python launch.
    assert frameworks(guest, sock)["python"]["state"] == "idle"
    c_app = guest_ctl(guest, sock, "launch clock --mode template")
    py_app = guest_ctl(guest, sock, "launch weather --mode template", timeout=300)
    try:
        fws = frameworks(guest, sock)
        assert fws["python"]["state"] == "ready"
        assert fws["default"]["pid"] != fws["python"]["pid"]
        assert ppid(guest, c_app["pid"]) == fws["default"]["pid"]
        assert ppid(guest, py_app["pid"]) == fws["python"]["pid"]
        for app in (c_app, py_app):
            guest_ctl(guest, sock, f"app-ping {app['pid']}")
        status = guest_ctl(guest, sock, f"call {py_app['pid']} status")["reply"]
        assert "mode=template" in status
        stats = {f["framework"]: f for f in guest_ctl(guest, sock, "stats")["frameworks"]}
        assert stats["python"]["apps"] == 1 and stats["default"]["apps"] == 1
        assert stats["python"]["template"]["uss_kb"] > 0
    finally:
        for app in (c_app, py_app):
            guest_ctl(guest, sock, f"kill {app['pid']}")
