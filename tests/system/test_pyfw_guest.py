"""The CPython framework (libnuwapy) and the Python sample apps in the guest.

A private nuwad beside the device's runs libnuwapy on the image's CPython
3.11 (Debian's libpython3.11) with the device's sandbox (Landlock required,
own uids, seccomp): every Python sample app launches in both modes, answers
and does its periodic work; the hostile Python app (pyhostile, with ctypes
preloaded) fails every attempt the way docs/security.md says for the
guest's kernel.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from guest_nuwad import guest_ctl, private_nuwad

if not (Path(__file__).parent / "conftest.py").exists():
    pytest.skip("no guest fixture (tests/system/conftest.py) yet", allow_module_level=True)

DIR = "/tmp/nuwa-pyfw-test"
SOCK = f"{DIR}/nuwad.sock"
APPS = ["weather", "todo", "feeds", "sensorlog"]
MODES = ["template", "exec"]
HOSTILE = "pyhostile"
PRELOAD = "json,sqlite3,ssl,xml.etree.ElementTree,selectors,re,datetime,logging,hashlib,html,ctypes"
VICTIM_FILE = f"{DIR}/victim"
CONF = ("[daemon]\\nspare_delay_ms = 100\\nready_timeout_ms = 120000\\napp_uids = 20300-20399\\n"
        "landlock = required\\nlmk_threshold_kb = 0\\n"
        "[framework]\\nlibrary = /usr/lib/nuwa/libnuwapy.so\\n"
        f"args = path=/usr/lib/nuwa/py:/usr/lib/nuwa/py-tests data_dir=/usr/share/nuwa "
        f"preload={PRELOAD}\\n"
        "sandbox_read = /usr/lib/python3.11 /usr/lib/nuwa/py /usr/lib/nuwa/py-tests /etc/ssl/certs\\n"
        + "".join(f"[app {a}]\\nlibrary = /usr/lib/nuwa/libnuwapy.so\\n" for a in [*APPS, HOSTILE]))


def fields(text: str) -> dict[str, str]:
    return dict(w.split("=", 1) for w in text.split() if "=" in w)


# Per app: requests to send after launch, then the status field that shows
# its periodic work and the least value that proves it ran more than once.
WORK: dict[str, tuple[list[str], str, int]] = {
    "weather": ([], "ticks", 3),
    "todo": (["add check the boiler", "done 1"], "swept", 1),
    "feeds": ([], "refreshes", 2),
    "sensorlog": ([], "rollups", 1),
}


@pytest.fixture(scope="module")
def py_nuwad(guest: Any) -> Iterator[Any]:
    with private_nuwad(guest, DIR, CONF, cleanup=f"rm -f {VICTIM_FILE}"):
        yield guest


def call(guest: Any, pid: int, text: str) -> str:
    return str(guest_ctl(guest, SOCK, f"call {pid} '{text}'")["reply"])


def wait_until(pred: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def runs(py_nuwad: Any) -> dict[str, list[dict[str, Any]]]:
    """Each Python app launched once per mode; its status and memory, then killed."""
    out: dict[str, list[dict[str, Any]]] = {m: [] for m in MODES}
    for mode in MODES:
        pids = {}
        for app in APPS:
            res = guest_ctl(py_nuwad, SOCK, f"launch {app} --mode {mode}", timeout=300)
            pid = pids[app] = res["pid"]
            guest_ctl(py_nuwad, SOCK, f"app-ping {pid}")
            for req in WORK[app][0]:
                call(py_nuwad, pid, req)
            out[mode].append({"app": app, "pid": pid, "launch_ms": res["launch_ms"]})
        for r in out[mode]:
            _, key, least = WORK[r["app"]]
            wait_until(lambda pid=r["pid"], key=key, least=least:
                       int(fields(call(py_nuwad, pid, "status"))[key]) >= least,
                       60, f"{r['app']}'s {key}")
            r["status"] = call(py_nuwad, r["pid"], "status")
            r["random"] = call(py_nuwad, r["pid"], "random") if r["app"] in ("weather", "todo") \
                else ""
            listed = next(a for a in guest_ctl(py_nuwad, SOCK, "list") if a["pid"] == r["pid"])
            r["uss_kb"] = listed["uss_kb"]
            r["seccomp"] = py_nuwad.check(f"grep Seccomp: /proc/{r['pid']}/status").split()[1]
        guest_ctl(py_nuwad, SOCK, f"app-ping {pids['weather']}")
        for pid in pids.values():
            guest_ctl(py_nuwad, SOCK, f"kill {pid}")
    return out


@pytest.mark.parametrize("mode", MODES)
def test_python_apps_answer_and_work_in_guest(runs: dict[str, list[dict[str, Any]]],
                                              mode: str) -> None:
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


@pytest.mark.parametrize("mode", MODES)
def test_python_sandbox_probes_fail_in_guest(py_nuwad: Any, mode: str) -> None:
    """pyhostile against the device sandbox on the ARM kernel (docs/security.md
    attack table, the Python rows)."""
    g = py_nuwad
    victim = guest_ctl(g, SOCK, f"launch todo --mode {mode}")["pid"]
    hostile = guest_ctl(g, SOCK, f"launch {HOSTILE} --mode {mode}")["pid"]
    nuwad = int(g.check(f"cat {DIR}/pid").strip())
    device_nuwad = int(g.check("cat /var/run/nuwad.pid").strip())
    template = guest_ctl(g, SOCK, "template-status")["pid"]

    def probe(what: str, arg: object = "") -> str:
        return call(g, hostile, f"probe {what} {arg}".strip())

    try:
        assert call(g, hostile, "status").startswith("ctypes=True uid=203")
        g.check(f"echo original > {VICTIM_FILE} && chmod 666 {VICTIM_FILE}")
        # Read-only twice: Landlock grants no write right, and the root is squashfs.
        for what in ("create-in-stdlib", "modify-stdlib", "modify-own-module",
                     "create-beside-module"):
            assert probe(what) in ("EACCES", "EROFS"), what
        assert probe("chmod-own-module") == "EPERM"
        assert probe("create", "/tmp/nuwa-pyhostile-new") == "EACCES"
        assert probe("write", VICTIM_FILE) == "EACCES"
        assert g.check(f"cat {VICTIM_FILE}").strip() == "original"
        assert not g.run("test -e /tmp/nuwa-pyhostile-new").ok
        assert probe("read", "/etc/nuwa/nuwad.conf") == "EACCES"
        assert probe("listdir", "/") == "EACCES"
        assert probe("exec", "/bin/sh") in ("EACCES", "EPERM")
        # TCP with net = none (dropbear listens on 22): seccomp refuses the IP
        # socket itself, so also on the guest's Landlock ABI 2 (no TCP rules).
        assert probe("connect", 22) == "EACCES" and probe("bind", 0) == "EACCES"
        for pid in (nuwad, device_nuwad, template, victim):
            assert probe("kill", pid) == "EPERM", pid
            assert probe("mem", pid) in ("EACCES", "EPERM"), pid
            assert probe("ptrace", pid) == "EPERM", pid
            assert probe("process_vm_readv", pid) == "EPERM", pid
        assert probe("environ", nuwad) in ("EACCES", "EPERM")
        assert probe("kill-all") == "EPERM"
        assert probe("setuid") == "EPERM" and probe("setgid") == "EPERM"
        guest_ctl(g, SOCK, f"app-ping {victim}")
        g.run(f"nuwactl --socket {SOCK} call {hostile} 'probe forbidden'", timeout=60)
        def killed_and_named() -> bool:
            # The call is named on the kill line or, when the kernel's audit
            # record comes late, on a line of its own.
            lines = [ln for ln in g.check(f"cat {DIR}/log").splitlines()
                     if f"(pid {hostile})" in ln]
            return (any("killed by the seccomp filter (SIGSYS)" in ln for ln in lines)
                    and any("msgget" in ln for ln in lines))
        wait_until(killed_and_named, 30, "the seccomp kill, naming msgget, in the log")
        guest_ctl(g, SOCK, f"app-ping {victim}")
        assert guest_ctl(g, SOCK, "template-status")["state"] == "ready"
    finally:
        g.run(f"nuwactl --socket {SOCK} kill {hostile}; nuwactl --socket {SOCK} kill {victim}",
              timeout=30)


def test_device_configures_every_python_app(guest: Any) -> None:
    """The image's apps.d names the four Python apps on the framework python."""
    configured = {a["name"]: a for a in guest_ctl(guest, "/run/nuwa/nuwad.sock", "apps")}
    for app in APPS:
        assert configured[app]["framework"] == "python", app
        assert configured[app]["module"] == app, app
