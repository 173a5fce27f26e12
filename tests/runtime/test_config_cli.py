"""Config validation and the nuwactl contract (fields from ARCHITECTURE.md)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from nuwad_harness import (
    BUILDS,
    LEAK_CHECK_ENV,
    SANITIZER_ENV,
    TOP,
    Nuwad,
    assert_refused_config,
    wait_for,
    write_config,
)

BAD_CONFIGS = [
    ("[daemon]\nspare = maybe\n", 2, "not a boolean"),
    ("[daemon]\nbogus = 1\n", 2, "unknown key 'bogus'"),
    ("[nonsense]\n", 1, "unknown section"),
    ("key = value\n", 1, "outside any section"),
    ("[daemon]\njust words\n", 2, "expected 'key = value'"),
    ("[daemon]\ntick_ms = -5\n", 2, "not a number"),
    ("[app bad/name]\n", 1, "bad app name"),
    ("[framework]\nlibrary = x.so\n[app a]\nlibrary = a.so\n[app a]\n", 5, "defined twice"),
    ("[framework]\nlibrary = x.so\n[app a]\nmode = fast\n", 4, "mode must be"),
    ("[framework]\nlibrary = x.so\n[app a]\n", 3, "has no library"),
    ("[daemon\n", 1, "malformed section"),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD_CONFIGS)
def test_bad_config_is_one_clear_error(build: Path, tmp_path: Path, text: str, line: int,
                                       message: str) -> None:
    assert_refused_config(build, tmp_path, text, line, message)


def test_include_dir_adds_apps_in_sorted_order(start_nuwad: Callable[..., Nuwad], build: Path,
                                               tmp_path: Path) -> None:
    inc = tmp_path / "apps.d"
    inc.mkdir()
    (inc / "20-b.conf").write_text(f"[app zeta]\nlibrary = {build}/app-echo.so\n")
    (inc / "10-a.conf").write_text(f"[app alpha]\nlibrary = {build}/app-echo.so\nmode = exec\n")
    (inc / "ignored.txt").write_text("[app nope]\n")
    d = start_nuwad(daemon=f"include = {inc}")
    names = [a["name"] for a in d.json("apps")]  # type: ignore[union-attr]
    assert names[-2:] == ["alpha", "zeta"] and "nope" not in names
    d.wait_ready()
    assert d.json("launch", "alpha")["mode"] == "exec"  # type: ignore[index]


def test_bad_included_file_names_its_own_path(build: Path, tmp_path: Path) -> None:
    inc = tmp_path / "apps.d"
    inc.mkdir()
    (inc / "x.conf").write_text("[daemon]\n")
    conf = tmp_path / "main.conf"
    conf.write_text(f"[daemon]\ninclude = {inc}\n")
    res = subprocess.run([str(build / "nuwad"), "--config", str(conf), "--socket",
                          str(tmp_path / "s"), "--state-dir", str(tmp_path / "st")],
                         check=False, capture_output=True, text=True, timeout=30,
                         env={**SANITIZER_ENV})
    assert res.returncode != 0 and "x.conf:1:" in res.stderr and "not allowed" in res.stderr


def test_nuwactl_commands_and_fields(nuwad: Nuwad) -> None:
    assert nuwad.json("ping")["pong"] is True  # type: ignore[index]
    apps = nuwad.json("apps")
    assert {"echo", "echo-exec", "broken"} <= {a["name"] for a in apps}  # type: ignore[union-attr]
    t = nuwad.json("launch", "echo", "--no-spare")
    assert set(t) >= {"app", "pid", "mode", "launch_ms"} and t["mode"] == "template"  # type: ignore[arg-type,index]
    assert t["launch_ms"] > 0  # type: ignore[index,operator]
    assert 0 < t["fork_ms"] <= t["fork_rtt_ms"] < t["launch_ms"]  # type: ignore[index,operator]
    e = nuwad.json("launch", "echo", "--mode", "exec")
    assert e["mode"] == "exec" and "fork_ms" not in e  # type: ignore[index,operator]
    assert nuwad.json("launch", "echo-exec")["mode"] == "exec"  # type: ignore[index]
    listed = nuwad.json("list")
    assert len(listed) == 3  # type: ignore[arg-type]
    for a in listed:  # type: ignore[union-attr]
        assert set(a) >= {"app", "pid", "mode", "state", "launch_ms", "uss_kb", "pss_kb", "rss_kb"}
        assert a["state"] == "running" and a["uss_kb"] > 0 and a["pss_kb"] > 0
        assert a["rss_kb"] >= a["pss_kb"] >= a["uss_kb"]
    s = nuwad.json("stats")
    assert set(s) >= {"mem_total_kb", "mem_available_kb", "template", "spare", "nuwad", "apps",
                      "lmk_kills"}  # type: ignore[arg-type]
    for key in ("template", "nuwad"):
        assert set(s[key]) >= {"pid", "uss_kb", "pss_kb", "rss_kb"}  # type: ignore[index]
    assert s["lmk_kills"] == 0 and len(s["apps"]) == 3  # type: ignore[index,arg-type]
    ts = nuwad.json("template-status")
    assert ts["state"] == "ready" and ts["pid"] == s["template"]["pid"]  # type: ignore[index]
    assert nuwad.json("kill", str(e["pid"]))["killed"] == [e["pid"]]  # type: ignore[index]
    assert nuwad.json("kill", "echo")["killed"] == [t["pid"]]  # type: ignore[index]
    # Human output too, and clear errors with a nonzero status.
    assert "pong: true" in nuwad.ctl("ping").stdout
    res = nuwad.ctl("launch", "nosuchapp", check=False)
    assert res.returncode != 0 and "unknown app 'nosuchapp'" in res.stderr and not res.stdout
    res = nuwad.ctl("launch", "broken", "--json", check=False)
    assert res.returncode != 0 and "app entry failed" in res.stderr
    res = nuwad.ctl("kill", "echo", check=False)
    assert res.returncode != 0 and "no running app" in res.stderr


def test_nuwactl_without_daemon_fails_clearly(build: Path, tmp_path: Path) -> None:
    res = subprocess.run([str(build / "nuwactl"), "--socket", str(tmp_path / "none"), "ping"],
                         check=False, capture_output=True, text=True, timeout=30,
                         env={**SANITIZER_ENV})
    assert res.returncode != 0 and "cannot reach nuwad" in res.stderr


def test_second_nuwad_on_same_socket_refuses(nuwad: Nuwad) -> None:
    res = subprocess.run([str(nuwad.build / "nuwad"), "--config", str(nuwad.config),
                          "--socket", str(nuwad.sock), "--state-dir", str(nuwad.state)],
                         check=False, capture_output=True, text=True, timeout=30,
                         env={**SANITIZER_ENV})
    assert res.returncode != 0 and "another nuwad" in res.stderr
    assert nuwad.call("ping")["pong"] is True


def test_launch_without_spare_and_spare_disabled(start_nuwad: Callable[..., Nuwad]) -> None:
    d = start_nuwad(daemon="spare = 0")
    d.wait_ready()
    assert d.template()["spare_pid"] is None
    assert d.json("launch", "echo")["spare"] is False  # type: ignore[index]


@pytest.mark.parametrize("how", [[], ["--no-spare"], ["--mode", "exec"]])
def test_launch_arguments_reach_the_app(nuwad: Nuwad, how: list[str]) -> None:
    nuwad.wait_ready(spare=True)
    pid = nuwad.json("launch", "echo", *how, "--", "hello", "--world")["pid"]  # type: ignore[index]
    assert nuwad.json("call", str(pid), "args")["reply"] == "echo hello --world"  # type: ignore[index]
    plain = nuwad.json("launch", "echo", *how)["pid"]  # type: ignore[index]
    assert nuwad.json("call", str(plain), "args")["reply"] == "echo"  # type: ignore[index]


def test_socket_is_private(nuwad: Nuwad) -> None:
    assert nuwad.sock.stat().st_mode & 0o777 == 0o600


def test_missing_framework_is_one_clear_error(build: Path, tmp_path: Path) -> None:
    """A framework library that is not there: the template reports it, nuwad
    stays up, template-mode and exec-mode launches both say why."""
    work = tmp_path / "w"
    work.mkdir()
    conf = write_config(work / "nuwad.conf", build)
    conf.write_text(conf.read_text().replace(f"{build}/libnuwa-minifw.so",
                                             f"{build}/no-such-framework.so"))
    d = Nuwad(build, work, conf, LEAK_CHECK_ENV)
    try:
        status = wait_for(lambda: (t := d.template())["last_error"] and t, 30, "failure")
        assert "no-such-framework.so" in status["last_error"]  # type: ignore[index]
        st, body = d.request("launch", "echo")
        assert st != 0 and b"no-such-framework.so" in body, body
        st, body = d.request("launch", "echo", "--mode", "exec")
        assert st != 0 and b"no-such-framework.so" in body, body
        assert d.call("ping")["pong"] is True
    finally:
        d.stop()


def test_example_host_conf_runs_from_the_repository_root(tmp_path: Path) -> None:
    """runtime/examples/host.conf, exactly as docs/runtime.md tells people to run it."""
    build = BUILDS["host"]
    if not (build / "nuwad").exists():
        pytest.skip("native build missing")
    sock = tmp_path / "n.sock"
    log = tmp_path / "log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            ["runtime/build/host/nuwad", "--foreground", "--config", "runtime/examples/host.conf",
             "--socket", str(sock), "--state-dir", str(tmp_path / "n")],
            cwd=TOP, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: sock.exists() or proc.poll() is not None, 20, "socket")

        def ctl(*args: str) -> str:
            return subprocess.run(["runtime/build/host/nuwactl", "--socket", str(sock), *args],
                                  cwd=TOP, check=True, capture_output=True, text=True,
                                  timeout=60).stdout

        launched = ctl("launch", "echo", "--json")
        assert '"app":"echo"' in launched, launched
        assert "echo-exec" in ctl("apps")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert proc.returncode == 0, log.read_text()
