"""The CPython framework (libnuwapy) and the Python sample apps in the guest.

A private nuwad beside the device's runs libnuwapy on the image's CPython
3.11 (Debian's libpython3.11) with the device's sandbox (Landlock required,
own uids, seccomp); both Python apps launch in both modes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from guest_nuwad import guest_ctl, private_nuwad

if not (Path(__file__).parent / "conftest.py").exists():
    pytest.skip("no guest fixture (tests/system/conftest.py) yet", allow_module_level=True)

DIR = "/tmp/nuwa-pyfw-test"
SOCK = f"{DIR}/nuwad.sock"
APPS = ["weather", "todo"]
MODES = ["template", "exec"]
CONF = ("[daemon]\\nspare_delay_ms = 100\\nready_timeout_ms = 120000\\napp_uids = 20300-20399\\n"
        "landlock = required\\nlmk_threshold_kb = 0\\n"
        "[framework]\\nlibrary = /usr/lib/nuwa/libnuwapy.so\\nargs = data_dir=/usr/share/nuwa\\n"
        "sandbox_read = /usr/lib/python3.11 /usr/lib/nuwa/py /etc/ssl/certs\\n"
        + "".join(f"[app {a}]\\nlibrary = /usr/lib/nuwa/libnuwapy.so\\n" for a in APPS))


@pytest.fixture(scope="module")
def py_nuwad(guest: Any) -> Iterator[Any]:
    with private_nuwad(guest, DIR, CONF):
        yield guest


@pytest.fixture(scope="module")
def runs(py_nuwad: Any) -> dict[str, list[dict[str, Any]]]:
    """Each Python app launched once per mode; its status and memory, then killed."""
    out: dict[str, list[dict[str, Any]]] = {m: [] for m in MODES}
    for mode in MODES:
        for app in APPS:
            res = guest_ctl(py_nuwad, SOCK, f"launch {app} --mode {mode}", timeout=300)
            pid = res["pid"]
            guest_ctl(py_nuwad, SOCK, f"app-ping {pid}")
            status = guest_ctl(py_nuwad, SOCK, f"call {pid} status")["reply"]
            rand = guest_ctl(py_nuwad, SOCK, f"call {pid} random")["reply"]
            listed = next(a for a in guest_ctl(py_nuwad, SOCK, "list") if a["pid"] == pid)
            seccomp = py_nuwad.check(f"grep Seccomp: /proc/{pid}/status").split()[1]
            out[mode].append({"app": app, "launch_ms": res["launch_ms"], "status": status,
                              "random": rand, "uss_kb": listed["uss_kb"], "seccomp": seccomp})
    for a in guest_ctl(py_nuwad, SOCK, "list"):
        guest_ctl(py_nuwad, SOCK, f"kill {a['pid']}")
    return out


@pytest.mark.parametrize("mode", MODES)
def test_python_apps_answer_in_guest(runs: dict[str, list[dict[str, Any]]], mode: str) -> None:
    assert [r["app"] for r in runs[mode]] == APPS
    for r in runs[mode]:
        assert f"mode={mode}" in r["status"] and r["launch_ms"] > 0
        assert r["seccomp"] == "2"


def test_python_template_children_share_memory(runs: dict[str, list[dict[str, Any]]]) -> None:
    """Sanity only (figures: docs/benchmarks.md): the forked app's USS is below
    the exec'd one's, whose interpreter and imports are all its own."""
    mean = {m: sum(r["uss_kb"] for r in runs[m]) / len(runs[m]) for m in MODES}
    assert mean["template"] < mean["exec"], mean
    assert runs["template"][0]["random"] != runs["template"][1]["random"]
