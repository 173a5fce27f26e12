"""The sample apps on the real ARM guest (the session fixture `guest`).

Every sample app launches in template and in exec mode and answers ping; the
mean USS per app is lower in template mode; killing an app gives its memory
back; under real memory pressure nuwad's low-memory killer takes the oldest
app while nuwad and the template survive.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

if not (Path(__file__).parent / "conftest.py").exists():
    pytest.skip("no guest fixture (tests/system/conftest.py) yet", allow_module_level=True)

APPS = ["clock", "messages", "settings", "music", "gallery", "notes"]
MODES = ["template", "exec"]
SETTLE_S = 3  # let the apps' start-up and first periodic work land


def ctl_json(guest: Any, args: str, sock: str = "", timeout: float = 120) -> Any:
    opt = f"--socket {sock} " if sock else ""
    return json.loads(guest.check(f"nuwactl {opt}--json {args}", timeout=timeout))


def kill_all(guest: Any, sock: str = "") -> None:
    opt = f"--socket {sock} " if sock else ""
    for app in APPS:
        guest.run(f"nuwactl {opt}kill {app} >/dev/null 2>&1", timeout=60)


def wait_template_ready(guest: Any, sock: str, timeout: float = 120) -> None:
    """The template starts at boot, and framework start-up takes a while on TCG."""
    opt = f"--socket {sock} " if sock else ""
    end = time.monotonic() + timeout
    st: dict[str, Any] = {}
    while time.monotonic() < end:
        r = guest.run(f"nuwactl {opt}--json template-status")
        if r.ok:
            st = json.loads(r.stdout)
            if st.get("state") == "ready":
                return
        time.sleep(1)
    pytest.fail(f"template not ready after {timeout} s: {st}")


@pytest.fixture(scope="module")
def device(guest: Any) -> Iterator[Any]:
    """The device's own nuwad (started at boot from /etc/nuwa/nuwad.conf)."""
    res = guest.run("nuwactl ping", timeout=30)
    assert res.ok, f"nuwad is not running on the guest: {res.stdout}{res.stderr}"
    apps = {a["name"] for a in ctl_json(guest, "apps")}
    assert set(APPS) <= apps, f"sample apps not configured: {sorted(apps)}"
    wait_template_ready(guest, "")
    kill_all(guest)
    yield guest
    kill_all(guest)


@pytest.fixture(scope="module")
def runs(device: Any) -> dict[str, list[dict[str, Any]]]:
    """Per mode: all six sample apps launched, settled, listed, pinged,
    asked for their status, then killed. One launch round per mode."""
    out: dict[str, list[dict[str, Any]]] = {}
    for mode in MODES:
        launched = [ctl_json(device, f"launch {app} --mode {mode}") for app in APPS]
        time.sleep(SETTLE_S)
        pids = {r["pid"] for r in launched}
        rows = [a for a in ctl_json(device, "list") if a["pid"] in pids]
        for r in rows:
            r["launch"] = next(x for x in launched if x["pid"] == r["pid"])
            r["ping"] = ctl_json(device, f"app-ping {r['pid']}")
            r["comm"] = device.check(f"cat /proc/{r['pid']}/comm").strip()
            r["status"] = ctl_json(device, f"call {r['pid']} status")["reply"]
        out[mode] = rows
        kill_all(device)
    return out


@pytest.mark.parametrize("mode", MODES)
def test_every_app_launches_and_answers_ping(runs: dict[str, list[dict[str, Any]]],
                                             mode: str) -> None:
    rows = runs[mode]
    assert sorted(r["app"] for r in rows) == sorted(APPS)
    for r in rows:
        assert r["launch"]["mode"] == mode and r["mode"] == mode and r["state"] == "running"
        assert r["launch"]["launch_ms"] > 0
        assert r["ping"]["pid"] == r["pid"]
        assert r["comm"] == r["app"][:15]
        assert r["status"].startswith(r["app"] + " ")


def test_mean_uss_template_below_exec(runs: dict[str, list[dict[str, Any]]]) -> None:
    mean = {}
    for mode in MODES:
        for r in runs[mode]:
            assert 0 < r["uss_kb"] <= r["pss_kb"] <= r["rss_kb"], r
        mean[mode] = sum(r["uss_kb"] for r in runs[mode]) / len(runs[mode])
    assert mean["template"] < mean["exec"], mean


def mem_available(guest: Any) -> int:
    return int(re.search(r"MemAvailable:\s+(\d+)", guest.check("cat /proc/meminfo")).group(1))  # type: ignore[union-attr]


def test_killing_an_app_frees_its_memory(device: Any) -> None:
    app = ctl_json(device, "launch gallery --mode exec")
    time.sleep(SETTLE_S)
    row = next(a for a in ctl_json(device, "list") if a["pid"] == app["pid"])
    before = mem_available(device)
    device.check(f"nuwactl kill {app['pid']}", timeout=60)
    gone = device.run(f"test -e /proc/{app['pid']}")
    assert not gone.ok, "the app is still there after kill"
    after = mem_available(device)
    # Its private pages go back to the system (other processes move a little).
    assert after - before >= row["uss_kb"] // 2, (before, after, row)
    assert all(a["pid"] != app["pid"] for a in ctl_json(device, "list"))


LMK_SOCK = "/run/nuwa-lmk-test/nuwad.sock"
HOG_DIR = "/run/nuwa-lmk-test/hog"


@contextmanager
def second_nuwad(guest: Any, name: str, daemon_keys: list[str]) -> Iterator[str]:
    """A second nuwad with the device's apps and framework and its own
    [daemon] keys (the device's stays as configured), socket and state dir;
    yields its socket and ends it (and the tmpfs hog) after."""
    run, sock = f"/run/{name}", f"/run/{name}/nuwad.sock"
    conf = "\n".join([
        "[daemon]",
        "template = /usr/libexec/nuwa/nuwa-template",
        "exec_host = /usr/libexec/nuwa/nuwa-exec-host",
        "include = /etc/nuwa/apps.d",
        *daemon_keys,
        "[framework]",
        "library = /usr/lib/nuwa/libnuwafw.so",
        "args = data_dir=/usr/share/nuwa",
        "",
    ])
    guest.check(f"mkdir -p {run}/state " + HOG_DIR)
    guest.check(f"cat > {run}/nuwad.conf <<'EOF'\n{conf}EOF")
    guest.check(f"nuwad --config {run}/nuwad.conf --socket {sock} --state-dir {run}/state"
                f" </dev/null >{run}/nuwad.log 2>&1 &")
    wait_template_ready(guest, sock)
    try:
        yield sock
    finally:
        guest.run(f"rm -f {HOG_DIR}/fill; umount {HOG_DIR}")
        st = guest.run(f"nuwactl --socket {sock} --json stats")
        if st.ok:
            pid = json.loads(st.stdout)["nuwad"]["pid"]
            guest.run(f"kill {pid}; i=0; while [ -e /proc/{pid} ] && [ $i -lt 50 ]; do "
                      "sleep 0.2; i=$((i+1)); done")


@pytest.fixture
def lmk_nuwad(guest: Any) -> Iterator[tuple[str, int]]:
    threshold = 24 * 1024
    with second_nuwad(guest, "nuwa-lmk-test",
                      ["tick_ms = 200", f"lmk_threshold_kb = {threshold}"]) as sock:
        yield sock, threshold


def test_low_memory_killer_takes_the_oldest_app(guest: Any,
                                                lmk_nuwad: tuple[str, int]) -> None:
    sock, threshold = lmk_nuwad
    order = ["gallery", "music", "messages"]
    pids = [ctl_json(guest, f"launch {app} --mode exec", sock)["pid"] for app in order]
    # The newest is in use: the foreground app, with the higher CPU share and
    # the lower oom_score_adj (nuwad is root here).
    guest.check(f"nuwactl --socket {sock} foreground messages")
    time.sleep(SETTLE_S)
    listed = {a["pid"]: a for a in ctl_json(guest, "list", sock)}
    assert listed[pids[2]]["importance"] == "foreground"
    assert listed[pids[0]]["importance"] == "background"
    assert int(guest.check(f"cat /proc/{pids[2]}/oom_score_adj")) < \
        int(guest.check(f"cat /proc/{pids[0]}/oom_score_adj"))
    fg_share = (listed[pids[2]]["cpu_control"], listed[pids[2]]["cpu_value"])
    bg_share = (listed[pids[0]]["cpu_control"], listed[pids[0]]["cpu_value"])
    assert fg_share[0] == bg_share[0] and fg_share[1] != bg_share[1], (fg_share, bg_share)
    st = ctl_json(guest, "stats", sock)
    assert st["lmk_kills"] == 0
    # The guest's kernel has PSI: the killer's triggers are in place, on the
    # memory.pressure of this nuwad's apps' cgroup.
    assert st["psi"] is not None, st
    assert st["psi"]["file"] == "/sys/fs/cgroup/nuwa-_run_nuwa-lmk-test_state/memory.pressure", st
    template_pid, nuwad_pid = st["template"]["pid"], st["nuwad"]["pid"]

    # Real pressure: tmpfs pages cannot be reclaimed without swap. Fill until
    # MemAvailable is just under the threshold.
    hog_mib = max(1, (mem_available(guest) - threshold) // 1024 + 2)
    guest.check(f"mount -t tmpfs -o size={hog_mib + 8}m nuwa-hog {HOG_DIR} && "
                f"dd if=/dev/zero of={HOG_DIR}/fill bs=1M count={hog_mib} 2>/dev/null",
                timeout=120)
    end = time.monotonic() + 30
    while time.monotonic() < end and ctl_json(guest, "stats", sock)["lmk_kills"] < 1:
        time.sleep(0.5)
    guest.check(f"rm -f {HOG_DIR}/fill")
    log = guest.check("cat /run/nuwa-lmk-test/nuwad.log")
    killed = [int(p) for p in re.findall(r"lmk: killed \S+ \(pid (\d+)\)", log)]
    assert killed, f"no low-memory kill:\n{log[-2000:]}"
    assert killed == pids[:len(killed)], f"not oldest first: killed {killed}, launched {pids}"
    # Trimmed before the first kill, the oldest background app first; the
    # foreground app outlives the background ones.
    first_kill = log.index("lmk: killed ")
    trims = re.findall(r"lmk: asked (\S+) \(pid", log[:first_kill])
    assert trims[:2] == ["gallery", "music"], log[-3000:]
    assert pids[2] not in killed[:2]
    after = ctl_json(guest, "stats", sock)
    assert after["lmk_kills"] == len(killed)
    assert after["template"]["pid"] == template_pid and after["nuwad"]["pid"] == nuwad_pid
    assert guest.run(f"test -e /proc/{template_pid} && test -e /proc/{nuwad_pid}").ok
    assert ctl_json(guest, "template-status", sock)["state"] == "ready"
    adj = {p: int(guest.check(f"cat /proc/{p}/oom_score_adj")) for p in (nuwad_pid, template_pid)}
    assert adj[nuwad_pid] < 0 and adj[template_pid] < 0, adj

