"""Threads: recreated workers resume with their state; unmarked threads block readiness."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from nuwad_harness import Nuwad, wait_for

KINDS = ("cond", "epoll", "poll", "read", "sleep")


def parse(reply: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in reply.split())


@pytest.mark.parametrize("mode", ["template", "exec"])
def test_workers_blocked_in_every_wait_serve_requests_with_state(nuwad: Nuwad, mode: str) -> None:
    launched = nuwad.call("launch", "echo", "--mode", mode)
    reply = nuwad.call("call", str(launched["pid"]), "fw:waiters")["reply"]
    got = parse(reply)
    for kind in KINDS:
        assert got[kind] == "ok", f"worker blocked in {kind} did not answer: {reply}"
    # Items queued behind a closed gate before the freeze are still there,
    # in order, before the request's own item.
    assert got["processed"] == "pre1,pre2,req", reply
    # The sleeper's counter started at 1000 before the freeze and kept counting.
    assert int(got["ticks"]) > 1000, reply
    # Template children run the workers' second life; exec mode the first.
    assert got["generation"] == ("2" if mode == "template" else "1"), reply
    # A second request still works (threads keep serving, queue drained).
    again = parse(nuwad.call("call", str(launched["pid"]), "fw:waiters")["reply"])
    assert all(again[k] == "ok" for k in KINDS)
    assert again["processed"] == "pre1,pre2,req,req"


def test_every_child_gets_its_own_workers(nuwad: Nuwad) -> None:
    """One child's worker state changes never reach a sibling or the template."""
    first = nuwad.call("launch", "echo", "--no-spare")
    nuwad.call("call", str(first["pid"]), "fw:waiters")
    nuwad.call("call", str(first["pid"]), "fw:waiters")
    second = nuwad.call("launch", "echo", "--no-spare")
    got = parse(nuwad.call("call", str(second["pid"]), "fw:waiters")["reply"])
    assert got["processed"] == "pre1,pre2,req"
    tasks = Path(f"/proc/{second['pid']}/task")
    names = sorted((t / "comm").read_text().strip() for t in tasks.iterdir())
    assert [n for n in names if n.startswith("wait-")] == sorted(f"wait-{k}" for k in KINDS)


def rogue_config(build: Path) -> dict[str, str]:
    # With an init entry point, as [framework] preload allows.
    extra = f"preload = {build}/libnuwa-test-rogue.so:nuwa_test_rogue_init\n"
    return {"framework_extra": extra, "daemon": "freeze_timeout_ms = 300"}


def threadlib_config(build: Path, entry: str, daemon: str = "") -> dict[str, str]:
    extra = f"preload = {build}/libnuwa-test-threadlib.so:{entry}\n"
    return {"framework_extra": extra, "daemon": "freeze_timeout_ms = 500\n" + daemon}


def freeze_error(d: Nuwad) -> str:
    status = wait_for(lambda: (t := d.template())["last_error"] and t, 30, "freeze failure")
    return str(status["last_error"])  # type: ignore[index]


def test_unmarked_library_thread_blocks_readiness_and_is_named(
        start_nuwad: Callable[..., Nuwad], build: Path) -> None:
    d = start_nuwad(**rogue_config(build))
    error = freeze_error(d)
    assert "rogue-worker" in error and "neither a worker nor registered" in error, error
    if build.name != "asan":
        # Under ASan the start routine seen is ASan's own thread wrapper.
        assert "nuwa_test_rogue_main" in error, error
    assert d.template()["state"] != "ready"
    status, body = d.request("launch", "echo")
    assert status != 0 and b"template not ready" in body
    assert "rogue-worker" in d.log_tail()
    assert d.request("ping")[0] == 0


def test_unregistered_thread_of_a_library_init_is_named(
        start_nuwad: Callable[..., Nuwad], build: Path) -> None:
    d = start_nuwad(**threadlib_config(build, "threadlib_unregistered_init"))
    error = freeze_error(d)
    assert "lib-pool" in error and "neither a worker nor registered" in error, error
    if build.name == "host":
        assert "threadlib_pool_main" in error, error
    assert d.request("ping")[0] == 0


def task_names(pid: int) -> list[str]:
    return [(t / "comm").read_text().strip() for t in Path(f"/proc/{pid}/task").iterdir()]


def test_registered_library_thread_is_stopped_and_runs_in_every_child(
        start_nuwad: Callable[..., Nuwad], build: Path) -> None:
    d = start_nuwad(**threadlib_config(build, "threadlib_hooked_init"))
    d.wait_ready()
    tpid = int(d.template()["pid"])  # type: ignore[arg-type]
    # Single-threaded at every fork: the template holds no thread but its own.
    assert len(task_names(tpid)) == 1, task_names(tpid)
    for mode_args in (["--no-spare"], []):
        pid = d.call("launch", "echo", *mode_args)["pid"]  # type: ignore[index]
        wait_for(lambda p=pid: "lib-pool" in task_names(p), 10, "lib-pool in the child")
        reply = d.call("call", str(pid), "fw:waiters")["reply"]  # type: ignore[index]
        assert "cond=ok" in reply, reply
    assert d.request("ping")[0] == 0


def test_sigev_thread_timer_fails_the_freeze_naming_the_remedy(
        start_nuwad: Callable[..., Nuwad], build: Path) -> None:
    d = start_nuwad(**threadlib_config(build, "threadlib_sigev_thread_init"))
    error = freeze_error(d)
    assert "not created through pthread_create" in error, error
    assert "SIGEV_THREAD" in error and "timerfd" in error, error
    assert d.request("ping")[0] == 0


def test_stop_hook_that_never_returns_is_named_by_the_watchdog(
        start_nuwad: Callable[..., Nuwad], build: Path) -> None:
    d = start_nuwad(**threadlib_config(build, "threadlib_stop_hangs_init"))
    error = freeze_error(d)
    assert "stop hook of 'threadlib hanging pool' did not return" in error, error
    assert d.request("ping")[0] == 0


def test_restart_hook_failure_fails_the_launch_and_the_template_stays(
        start_nuwad: Callable[..., Nuwad], build: Path) -> None:
    d = start_nuwad(**threadlib_config(build, "threadlib_restart_fails_init"))
    d.wait_ready()
    tpid = d.template()["pid"]
    for args in (["--no-spare"], []):
        status, body = d.request("launch", "echo", *args)
        assert status != 0, body
        assert b"lib-pool cannot come back in this child" in body, body
    assert d.template()["pid"] == tpid and d.template()["state"] == "ready"
    assert d.request("ping")[0] == 0


def test_skip_threads_is_refused_with_the_replacement(tmp_path: Path, build: Path) -> None:
    conf = tmp_path / "n.conf"
    conf.write_text("[framework]\nlibrary = /x.so\nskip_threads = rogue-worker\n")
    res = subprocess.run([str(build / "nuwad"), "--config", str(conf)], capture_output=True,
                         text=True, timeout=30, check=False)
    assert res.returncode != 0
    assert f"{conf}:3:" in res.stderr and "nuwa_thread_register" in res.stderr, res.stderr


def test_preload_init_failure_is_one_clear_error(start_nuwad: Callable[..., Nuwad],
                                                 build: Path) -> None:
    d = start_nuwad(framework_extra=f"preload = {build}/libnuwa-test-rogue.so:no_such_init\n")
    status = wait_for(lambda: (t := d.template())["last_error"] and t, 30, "start-up failure")
    assert "no init symbol 'no_such_init'" in status["last_error"]  # type: ignore[index]
    assert d.request("ping")[0] == 0
