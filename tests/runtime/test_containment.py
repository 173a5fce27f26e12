"""Containment (docs/security.md "Attacks and what stops them"), natively with
a real nuwad on both builds: the hostile test app plays each attack of the
threat table and must fail; nuwad stays up and every other app untouched."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from nuwad_harness import LEAK_CHECK_ENV, Nuwad, proc_state, wait_for, write_config

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="ids, groups and capabilities change only as root "
                                "(CI runs the tests as root)")
MAGIC = b"NUWA-SNAPSHOT 1\n"


def hostile(build: Path, extra: str = "") -> str:
    return f"""
[app hostile]
library = {build}/app-hostile.so
{extra}
[app hostile-exec]
library = {build}/app-hostile.so
mode = exec
{extra}
"""


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A work dir other uids can search (pytest's is 0700 under root): the
    control socket must be reachable, so that nuwad's own check is tested."""
    path = Path(tempfile.mkdtemp(prefix="nuwa-contain-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def start(build: Path, open_dir: Path) -> Iterator[Callable[..., Nuwad]]:
    started: list[Nuwad] = []

    def go(**parts: str) -> Nuwad:
        work = open_dir / f"n{len(started)}"
        work.mkdir()
        work.chmod(0o755)
        conf = write_config(work / "nuwad.conf", build, **parts)
        d = Nuwad(build, work, conf, LEAK_CHECK_ENV)
        started.append(d)
        d.wait_ready()
        return d

    yield go
    for d in started:
        d.stop()


def call(d: Nuwad, pid: int, request: str) -> str:
    return str(d.call("call", str(pid), request)["reply"])


def launch(d: Nuwad, app: str) -> int:
    return int(d.call("launch", app)["pid"])  # type: ignore[arg-type]


# ---- identity -------------------------------------------------------------

@needs_root
@pytest.mark.parametrize("app", ["hostile", "hostile-exec"])
def test_app_without_uid_runs_with_a_uid_of_the_range_and_no_capabilities(
        start: Callable[..., Nuwad], build: Path, app: str) -> None:
    d = start(apps=hostile(build))
    pid = launch(d, app)
    status = dict(kv.split("=", 1) for kv in call(d, pid, "status").split())
    assert 61000 <= int(status["uid"]) <= 61999, status
    for cap in ("capeff", "capprm", "capbnd", "capinh", "capamb"):
        assert int(status[cap], 16) == 0, (cap, status)
    record = (d.state / "app-uids").read_text()
    assert f"{app} {status['uid']}\n" in record, record


@needs_root
def test_assigned_uid_is_stable_across_restarts(start: Callable[..., Nuwad], build: Path,
                                                open_dir: Path) -> None:
    d = start(apps=hostile(build))
    uid = call(d, launch(d, "hostile"), "status").split()[0]
    d.stop()
    conf = write_config(open_dir / "again.conf", build, apps=hostile(build))
    again = Nuwad(build, d.sock.parent, conf, LEAK_CHECK_ENV)
    try:
        again.wait_ready()
        assert call(again, launch(again, "hostile"), "status").split()[0] == uid
    finally:
        again.stop()


@needs_root
def test_app_without_uid_and_no_range_is_refused(start: Callable[..., Nuwad], build: Path) -> None:
    d = start(apps=hostile(build), app_uids="")
    for app in ("hostile", "hostile-exec", "echo"):
        res = d.ctl("launch", app, check=False)
        assert res.returncode != 0 and "refusing to run it as root" in res.stderr, res.stderr
    assert d.call("list") == []
    assert d.call("ping")["pong"] is True


def refused_config_line(build: Path, tmp_path: Path, conf: Path) -> str:
    """nuwad refuses CONF with exactly one `file:line` message; returns it."""
    res = subprocess.run([str(build / "nuwad"), "--config", str(conf), "--socket",
                          str(tmp_path / "s"), "--state-dir", str(tmp_path / "st")],
                         check=False, capture_output=True, text=True, timeout=30,
                         env={**os.environ, **LEAK_CHECK_ENV})
    assert res.returncode != 0
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and f"{conf}:" in lines[0], res.stderr
    return lines[0]


@pytest.mark.parametrize("bad", ["app_uids = 10000", "app_uids = 0-100", "app_uids = 20-10",
                                 "app_uids = a-b", "control_group = no such group!",
                                 "control_group = nosuchgroupxyz", "status_group = "])
def test_bad_identity_keys_are_a_file_line_error(build: Path, tmp_path: Path, bad: str) -> None:
    conf = write_config(tmp_path / "bad.conf", build, daemon=bad)
    refused_config_line(build, tmp_path, conf)


@pytest.mark.parametrize("bad", ["net = connect", "net = connect:", "net = connect:0",
                                 "net = connect:70000", "net = listen:80", "net = none connect:443",
                                 "net = connect:443,x", "groups = nosuchgroupxyz"])
def test_bad_app_net_and_groups_are_a_file_line_error(build: Path, tmp_path: Path, bad: str) -> None:
    conf = write_config(tmp_path / "bad.conf", build, apps=f"[app x]\nlibrary = /x.so\n{bad}\n")
    line = refused_config_line(build, tmp_path, conf)
    assert "net" in line or "group" in line, line


# ---- the control socket ---------------------------------------------------

@needs_root
@pytest.mark.parametrize("app", ["hostile", "hostile-exec"])
def test_app_on_the_control_socket_is_refused_and_logged(start: Callable[..., Nuwad], build: Path,
                                                        app: str) -> None:
    """Even in the socket's group and in control_group, an app is refused:
    nuwad knows its pid (and its group's)."""
    d = start(daemon="socket_group = nogroup\ncontrol_group = nogroup",
              apps=hostile(build, "groups = 65534"))
    victim = launch(d, "echo")
    pid = launch(d, app)
    for req in ("launch echo", f"kill {victim}", "list", "ping"):
        reply = call(d, pid, f"probe control {d.sock} {req}")
        assert reply == "answer=1 permission denied", (req, reply)
    wait_for(lambda: f"pid {pid} uid" in d.log.read_text(), 10, "the refusal in nuwad's log")
    assert d.log.read_text().count(f"permission denied for 'launch' to pid {pid}") == 1
    assert proc_state(victim) not in ("gone", "Z")
    assert d.call("ping")["pong"] is True
    assert sorted(a["app"] for a in d.call("list")) == sorted(["echo", app])  # type: ignore[union-attr]


@needs_root
def test_peer_credentials_decide_what_a_user_may_do(start: Callable[..., Nuwad], build: Path) -> None:
    d = start(daemon="socket_group = nogroup\nstatus_group = nogroup")
    ctl = [str(build / "nuwactl"), "--socket", str(d.sock)]

    def as_user(groups: list[int], *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*ctl, *args], check=False, capture_output=True, text=True, timeout=30,
                              user=65533, group=65533, extra_groups=groups,
                              env={**os.environ, **LEAK_CHECK_ENV})

    assert as_user([65534], "list").returncode == 0
    assert as_user([65534], "ping").returncode == 0
    res = as_user([65534], "launch", "echo")
    assert res.returncode != 0 and "permission denied" in res.stderr, res.stderr
    assert d.call("list") == []
    # Outside status_group: not even read-only commands.
    res = as_user([], "ping")
    assert res.returncode != 0 and ("permission denied" in res.stderr or "ermission" in res.stderr)
    assert "uid 65533" in d.log.read_text()
    assert d.call("ping")["pong"] is True


# ---- signals and scheduling of other processes -----------------------------

@pytest.fixture
def victim() -> Iterator[int]:
    proc = subprocess.Popen(["sleep", "120"])
    yield proc.pid
    proc.kill()
    proc.wait()


@pytest.mark.parametrize("app", ["hostile", "hostile-exec"])
def test_no_signal_or_scheduling_of_another_process(start: Callable[..., Nuwad], build: Path,
                                                   app: str, victim: int) -> None:
    """F_SETOWN + F_SETSIG + O_ASYNC and FIOSETOWN would have the kernel
    signal the victim; prlimit64, setpriority and sched_setscheduler would
    change it. Each is refused, even towards a process of the app's own uid
    (natively without root, every process is)."""
    d = start(apps=hostile(build))
    pid = launch(d, app)
    for target in (victim, d.proc.pid, int(d.template()["pid"])):  # type: ignore[arg-type]
        for probe in ("setown", "fiosetown", "prlimit", "setpriority", "sched"):
            assert call(d, pid, f"probe {probe} {target}") == "EPERM", (probe, target)
    assert proc_state(victim) not in ("gone", "Z")
    # On itself they work.
    for probe in ("prlimit", "setpriority", "sched"):
        assert call(d, pid, f"probe {probe} {pid}") == "ok", probe


# ---- the seccomp allowlist --------------------------------------------------

@pytest.mark.parametrize("app", ["hostile", "hostile-exec"])
def test_syscall_outside_the_allowlist_kills_and_is_named(start: Callable[..., Nuwad], build: Path,
                                                          app: str) -> None:
    d = start(apps=hostile(build))
    other = launch(d, "echo")
    pid = launch(d, app)
    res = d.ctl("call", str(pid), "probe forbidden", check=False)
    assert res.returncode != 0
    wait_for(lambda: proc_state(pid) == "gone", 10, "the app killed")
    def named() -> bool:
        return any(f"(pid {pid})" in ln and "seccomp" in ln and ("msgget" in ln or "ipc" in ln)
                   for ln in d.log.read_text().splitlines())
    wait_for(named, 10, "the filter kill, with the call's name, in nuwad's log")
    assert d.call("app-ping", str(other))["pid"] == other


# ---- process groups ---------------------------------------------------------

@pytest.mark.parametrize("cgroups", ["yes", "no"])
@pytest.mark.parametrize("app", ["hostile", "hostile-exec"])
def test_forked_child_dies_with_its_app_on_kill(start: Callable[..., Nuwad], build: Path,
                                                app: str, cgroups: str) -> None:
    """In its cgroup (where cgroup2 is there to use) or else its process group."""
    d = start(daemon=f"app_cgroups = {cgroups}", apps=hostile(build))
    if cgroups == "yes" and ROOT:
        assert "apps get their own cgroup" in d.log.read_text()
    pid = launch(d, app)
    child = int(call(d, pid, "fork-child"))
    assert proc_state(child) not in ("gone", "Z")
    d.ctl("kill", app)
    wait_for(lambda: proc_state(child) == "gone", 10, f"child {child} gone")
    entries = d.call("list")
    assert entries == [], entries


@pytest.mark.parametrize("cgroups", ["yes", "no"])
def test_forked_child_dies_with_its_app_on_a_low_memory_kill(start: Callable[..., Nuwad],
                                                            build: Path, cgroups: str) -> None:
    """A threshold above the machine's memory: the killer ends the oldest
    app at its next tick, and the app's child with it."""
    d = start(daemon=f"lmk_threshold_kb = 2000000000\ntick_ms = 200\napp_cgroups = {cgroups}",
              apps=hostile(build))
    pid = launch(d, "hostile")
    child = int(call(d, pid, "fork-child"))
    wait_for(lambda: proc_state(pid) == "gone", 20, "the low-memory kill")
    wait_for(lambda: proc_state(child) == "gone", 10, f"child {child} gone")
    assert d.call("stats")["lmk_kills"] >= 1  # type: ignore[index]


def test_list_says_what_the_memory_figures_cover(start: Callable[..., Nuwad], build: Path) -> None:
    d = start(apps=hostile(build))
    pid = launch(d, "hostile")
    call(d, pid, "fork-child")
    entry = d.call("list")[0]  # type: ignore[index]
    assert entry["mem_includes_descendants"] is False
    assert entry["group_procs"] == 2


# ---- app logs -----------------------------------------------------------------

@pytest.mark.parametrize("app", ["hostile", "hostile-exec"])
def test_app_stderr_is_prefixed_in_logs_and_never_a_raw_nuwad_line(
        start: Callable[..., Nuwad], build: Path, app: str) -> None:
    d = start(apps=hostile(build))
    pid = launch(d, app)
    forged = "2026-01-01 00:00:00.000 nuwad: listening on /forged"
    assert call(d, pid, f"stderr {forged}") == "ok"
    wait_for(lambda: forged in d.ctl("logs", app).stdout, 10, "the line in nuwactl logs")
    out = d.ctl("logs", app).stdout
    line = next(ln for ln in out.splitlines() if forged in ln)
    assert f"{app}[{pid}]" in line
    log = d.log.read_text()
    for ln in log.splitlines():
        if forged in ln:
            assert f"{app}[{pid}]" in ln.split(forged)[0], ln  # prefixed, never raw
    assert d.json("logs", app, "--lines", "1")["lines"][-1]["text"] == forged  # type: ignore[index]


def test_a_flood_of_app_output_is_limited(start: Callable[..., Nuwad], build: Path) -> None:
    d = start(apps=hostile(build))
    pid = launch(d, "hostile")
    for i in range(300):
        call(d, pid, f"stderr flood line {i} " + "x" * 200)
    time.sleep(1)
    log = d.log.read_text()
    assert log.count("flood line") < 300
    assert "output limited" in log
    assert d.call("ping")["pong"] is True


# ---- snapshots ------------------------------------------------------------------

@pytest.mark.parametrize("app", ["hostile", "hostile-exec"])
def test_parked_grant_cannot_change_an_accepted_snapshot(start: Callable[..., Nuwad],
                                                        build: Path, app: str) -> None:
    d = start(daemon="snapshot_max_kb = 256\nsnapshot_quota_kb = 1024", apps=hostile(build))
    pid = launch(d, app)
    assert call(d, pid, "grant park") == "mode park"
    info = d.json("snapshot", str(pid))
    path = Path(str(info["path"]))
    before = path.read_bytes()
    assert before.startswith(MAGIC) and len(before) == info["bytes"]
    result = call(d, pid, "unpark")
    assert result != "ok", result
    assert path.read_bytes() == before
    assert os.stat(path).st_nlink == 1
    assert d.call("app-ping", str(pid))["pid"] == pid


def test_kill_of_a_gone_pid_signals_nobody(start: Callable[..., Nuwad], build: Path) -> None:
    """nuwad signals its apps through pidfds: killing an app that is
    already gone is an error, never a signal to a process that took its pid."""
    d = start(apps=hostile(build))
    pid = launch(d, "hostile")
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: d.call("list") == [], 10, "the app reaped")
    res = d.ctl("kill", str(pid), check=False)
    assert res.returncode != 0 and "no running app" in res.stderr


# ---- Landlock at run time ---------------------------------------------------

def landlock_abi() -> int:
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    return max(0, int(libc.syscall(444, None, 0, 1)))  # landlock_create_ruleset(VERSION)


@pytest.fixture
def tcp_port() -> Iterator[int]:
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    yield s.getsockname()[1]
    s.close()


@pytest.mark.parametrize("app", ["hostile", "hostile-exec"])
def test_tcp_only_to_the_ports_the_config_grants(start: Callable[..., Nuwad], build: Path,
                                                 app: str, tcp_port: int) -> None:
    """net = none (the default): no TCP connect or bind where Landlock has
    network rules (ABI >= 4); net = connect:PORT allows that port only. On
    older kernels TCP is not restricted (the guest, ABI 2, shows that path)."""
    d = start(apps=hostile(build) + f"""
[app netapp]
library = {build}/app-hostile.so
net = connect:{tcp_port}
""")
    pid = launch(d, app)
    granted = launch(d, "netapp")
    # net = none: no IP socket at all (seccomp), on every Landlock ABI.
    assert call(d, pid, f"probe connect {tcp_port}") == "EACCES"
    assert call(d, pid, f"probe bind {tcp_port + 1 if tcp_port < 65535 else 1024}") == "EACCES"
    assert call(d, granted, f"probe connect {tcp_port}") == "ok"
    if landlock_abi() >= 4:
        assert call(d, granted, f"probe connect {tcp_port - 1}") == "EACCES"
    else:
        assert call(d, granted, f"probe connect {tcp_port - 1}") != "EACCES"


SOCKETS_NEVER = ["inet dgram", "inet6 dgram", "inet raw", "inet sctp", "inet6 sctp",
                 "netlink dgram", "packet raw"]


@pytest.mark.parametrize("app", ["hostile", "hostile-exec"])
def test_only_unix_and_granted_tcp_sockets_can_be_made(start: Callable[..., Nuwad], build: Path,
                                                       app: str, tcp_port: int) -> None:
    """Landlock has rules for TCP only: UDP, raw, packet, netlink and SCTP
    sockets would reach the network (or the kernel's routing and audit
    interfaces) unchecked, so seccomp refuses to create them; with
    net = none not even a TCP socket is made."""
    d = start(apps=hostile(build) + f"""
[app netapp]
library = {build}/app-hostile.so
net = connect:{tcp_port}
""")
    none, granted = launch(d, app), launch(d, "netapp")
    for pid in (none, granted):
        assert call(d, pid, "probe socket unix stream") == "ok"
        assert call(d, pid, "probe socket unix dgram") == "ok"
        for kind in SOCKETS_NEVER:
            assert call(d, pid, f"probe socket {kind}") == "EACCES", (pid, kind)
    for kind in ("inet stream", "inet6 stream"):
        assert call(d, none, f"probe socket {kind}") == "EACCES", kind
        assert call(d, granted, f"probe socket {kind}") == "ok", kind


@pytest.mark.parametrize("app", ["hostile", "hostile-exec"])
def test_abstract_unix_sockets_outside_the_app_are_out_of_reach(start: Callable[..., Nuwad],
                                                               build: Path, app: str) -> None:
    """LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (ABI >= 6): an abstract socket of
    a process outside the app's domain cannot be connected to."""
    import socket
    name = f"nuwa-contain-{os.getpid()}-{app}"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind("\0" + name)
    s.listen(4)
    try:
        d = start(apps=hostile(build))
        pid = launch(d, app)
        want = "EPERM" if landlock_abi() >= 6 else "ok"
        assert call(d, pid, f"probe abstract {name}") == want
    finally:
        s.close()


@pytest.mark.parametrize("cgroups", ["yes", "no"])
def test_a_new_nuwad_ends_the_apps_a_killed_one_left(start: Callable[..., Nuwad], build: Path,
                                                     open_dir: Path, cgroups: str) -> None:
    """groups_end_leftovers: nuwad dies by SIGKILL (no clean-up); the next
    one on the same state dir ends its apps and their children."""
    d = start(daemon=f"app_cgroups = {cgroups}", apps=hostile(build))
    pid = launch(d, "hostile-exec")
    child = int(call(d, pid, "fork-child"))
    d.proc.kill()
    d.proc.wait()
    time.sleep(0.3)
    # The app quits when its channel closes; what it forked stays.
    assert proc_state(child) not in ("gone", "Z")
    conf = write_config(open_dir / "next.conf", build, daemon=f"app_cgroups = {cgroups}",
                        apps=hostile(build))
    again = Nuwad(build, d.sock.parent, conf, LEAK_CHECK_ENV)
    try:
        wait_for(lambda: proc_state(child) in ("gone", "Z"), 10, "the old app's child ended")
        wait_for(lambda: "left by an earlier nuwad" in again.log.read_text(), 10, "the log line")
    finally:
        again.stop()
