"""Workers on first use (issue 13): a template child starts a framework worker
only when something needs it, after ready, from one of its own (confined)
threads; such a late thread must be as confined as the app: the app's ids,
no_new_privs, the seccomp filter and the Landlock domain."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from fw_harness import fw_daemon
from nuwad_harness import FRAMEWORK_BUILDS, Nuwad, wait_for
from test_born_confined import WORKERS, created, landlock_abi, task_status

ARGS = {"spare": [], "no-spare": ["--no-spare"]}


def assert_confined_like_main(pid: int, tasks: dict[int, dict[str, str]]) -> None:
    main = tasks[pid]
    for tid, st in tasks.items():
        who = f"thread {tid} ({st['Name']})"
        assert st["Uid"] == main["Uid"] and st["Gid"] == main["Gid"], (who, st["Uid"])
        assert st["Groups"] == main["Groups"], (who, st["Groups"])
        assert st["NoNewPrivs"] == "1", who
        assert st["Seccomp"] == "2", who
        assert int(st["CapEff"], 16) == 0, (who, st["CapEff"])


@pytest.mark.parametrize("kind", ["spare", "no-spare"])
def test_worker_started_after_ready_is_confined(nuwad: Nuwad, world_writable_dir: Path, kind: str) -> None:
    if kind == "spare":
        nuwad.wait_ready(spare=True)
    a = nuwad.call("launch", "echo", *ARGS[kind])
    pid = int(a["pid"])  # type: ignore[arg-type]
    # Ready with no worker: the echo app needs none.
    at_ready = task_status(pid)
    assert list(at_ready) == [pid], {t: s["Name"] for t, s in at_ready.items()}
    # The request needs the five waiters: they start now, made by a
    # confined thread, and each tries to create a file outside the grants.
    reply = str(nuwad.call("call", str(pid), f"fw:waiters-create {world_writable_dir}")["reply"])  # type: ignore[index]
    assert all(f"{w}=ok" in reply for w in WORKERS), reply
    tries = created(reply)
    assert sorted(tries) == sorted(WORKERS), reply
    tasks = task_status(pid)
    assert {tid for tid, _ in tries.values()} <= set(tasks) - {pid}, (tries, tasks.keys())
    assert_confined_like_main(pid, tasks)
    if landlock_abi() > 0:
        for worker, (tid, err) in tries.items():
            assert err == errno.EACCES, f"late worker {worker} (tid {tid}) created a file: {reply}"
    assert not list(world_writable_dir.iterdir())
    nuwad.call("kill", str(pid))


@pytest.mark.parametrize("build", sorted(FRAMEWORK_BUILDS))
def test_framework_starts_only_the_threads_an_app_uses(build: str, tmp_path: Path) -> None:
    """The clock app uses a timer only: its process has the timer thread and no
    I/O or pool thread; the template holds no thread but its own."""
    with fw_daemon(build, tmp_path) as d:
        tpid = int(d.template()["pid"])  # type: ignore[arg-type]
        assert list(task_status(tpid)) == [tpid]
        pid = int(d.call("launch", "clock")["pid"])  # type: ignore[index]
        # A new thread shows the process's name until it has set its own.
        tasks = wait_for(lambda: (t := task_status(pid)) and any(
            st["Name"] == "fw-timer" for st in t.values()) and t, 10, "the timer thread")
        assert isinstance(tasks, dict)
        names = sorted(st["Name"] for st in tasks.values())
        assert names == sorted(["clock", "fw-timer"]), names
        assert_confined_like_main(pid, tasks)
        d.call("kill", str(pid))
