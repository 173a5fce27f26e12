"""Threads: recreated workers resume with their state; unmarked threads block readiness."""

from __future__ import annotations

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


def rogue_config(build: Path, skip: bool) -> dict[str, str]:
    # With an init entry point, as [framework] preload allows.
    extra = f"preload = {build}/libnuwa-test-rogue.so:nuwa_test_rogue_init\n"
    if skip:
        extra += "skip_threads = rogue-worker\n"
    return {"framework_extra": extra, "daemon": "freeze_timeout_ms = 300"}


def test_unmarked_library_thread_blocks_readiness_and_is_named(
        start_nuwad: Callable[..., Nuwad], build: Path) -> None:
    d = start_nuwad(**rogue_config(build, skip=False))
    status = wait_for(lambda: (t := d.template())["last_error"] and t, 30, "freeze failure")
    error = status["last_error"]  # type: ignore[index]
    assert "rogue-worker" in error and "neither a worker nor skipped" in error, error
    if build.name == "host":
        # Under ASan the start routine seen is ASan's own thread wrapper.
        assert "nuwa_test_rogue_main" in error, error
    assert d.template()["state"] != "ready"
    status, body = d.request("launch", "echo")
    assert status != 0 and b"template not ready" in body
    assert "rogue-worker" in d.log_tail()
    assert d.request("ping")[0] == 0


def test_skipped_library_thread_lets_the_template_freeze(
        start_nuwad: Callable[..., Nuwad], build: Path) -> None:
    d = start_nuwad(**rogue_config(build, skip=True))
    d.wait_ready()
    pid = d.call("launch", "echo", "--no-spare")["pid"]
    names = [(t / "comm").read_text().strip() for t in Path(f"/proc/{pid}/task").iterdir()]
    assert "rogue-worker" not in names  # skipped threads do not exist in children
    tpid = d.template()["pid"]
    tnames = [(t / "comm").read_text().strip() for t in Path(f"/proc/{tpid}/task").iterdir()]
    assert "rogue-worker" in tnames
    assert not [n for n in tnames if n.startswith("wait-")]  # workers frozen = stopped


def test_preload_init_failure_is_one_clear_error(start_nuwad: Callable[..., Nuwad],
                                                 build: Path) -> None:
    d = start_nuwad(framework_extra=f"preload = {build}/libnuwa-test-rogue.so:no_such_init\n")
    status = wait_for(lambda: (t := d.template())["last_error"] and t, 30, "start-up failure")
    assert "no init symbol 'no_such_init'" in status["last_error"]  # type: ignore[index]
    assert d.request("ping")[0] == 0
