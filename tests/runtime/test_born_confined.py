"""Confine first, then start the workers (issue 13): a template child applies
the app's sandbox while it is single-threaded and only then recreates its
workers, so every thread is born with the app's ids, no_new_privs, seccomp
filter and Landlock domain, and no signal round is needed. Exec mode, whose
workers run through framework init, still confines them in a round: the
phase that shows the round is the control."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from nuwad_harness import Nuwad

ARGS = {"spare": [], "no-spare": ["--no-spare"], "exec": ["--mode", "exec"]}
WORKERS = ("cond", "epoll", "poll", "read", "sleep")  # minifw's waiters


def landlock_abi() -> int:
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    return max(0, int(libc.syscall(444, None, 0, 1)))  # landlock_create_ruleset(VERSION)


def task_status(pid: int) -> dict[int, dict[str, str]]:
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        fields = dict(line.split(":", 1) for line in (task / "status").read_text().splitlines()
                      if ":" in line)
        out[int(task.name)] = {k: v.strip() for k, v in fields.items()}
    return out


def created(reply: str) -> dict[str, tuple[int, int]]:
    """' create_KIND=TID:ERRNO' per worker -> {KIND: (TID, ERRNO)}."""
    out = {}
    for word in reply.split():
        if word.startswith("create_"):
            kind, value = word[len("create_"):].split("=")
            tid, err = value.split(":")
            out[kind] = (int(tid), int(err))
    return out


@pytest.mark.parametrize("kind", ["spare", "no-spare", "exec"])
def test_every_thread_is_as_confined_as_the_app(nuwad: Nuwad, world_writable_dir: Path, kind: str) -> None:
    if kind == "spare":
        nuwad.wait_ready(spare=True)
    a = nuwad.call("launch", "echo", *ARGS[kind])
    assert isinstance(a, dict) and a["spare"] is (kind == "spare"), a
    pid = int(a["pid"])  # type: ignore[arg-type]
    # Each worker serves a request on its own thread and tries to create a
    # file there: that also proves the workers run.
    reply = str(nuwad.call("call", str(pid), f"fw:waiters-create {world_writable_dir}")["reply"])  # type: ignore[index]
    assert all(f"{w}=ok" in reply for w in WORKERS), reply
    tries = created(reply)
    assert sorted(tries) == sorted(WORKERS), reply

    tasks = task_status(pid)
    assert len(tasks) > len(WORKERS), tasks.keys()
    assert {tid for tid, _ in tries.values()} <= set(tasks), (tries, tasks.keys())
    main = tasks[pid]
    for tid, st in tasks.items():
        who = f"{kind}: thread {tid} ({st['Name']})"
        assert st["Uid"] == main["Uid"] and st["Gid"] == main["Gid"], (who, st["Uid"], st["Gid"])
        assert st["Groups"] == main["Groups"], (who, st["Groups"])
        assert st["NoNewPrivs"] == "1", who
        assert st["Seccomp"] == "2", who
        assert int(st["CapEff"], 16) == 0 and int(st["CapPrm"], 16) == 0, (who, st["CapEff"])
    if os.geteuid() == 0:
        uid = int(main["Uid"].split()[0])
        assert uid != 0 and set(main["Uid"].split()) == {str(uid)}, main["Uid"]
    if landlock_abi() > 0:
        for worker, (tid, err) in tries.items():
            assert err == errno.EACCES, f"{kind}: worker {worker} (tid {tid}) created a file: {reply}"
    assert not list(world_writable_dir.iterdir())

    phases = list(a["phases_ms"])  # type: ignore[arg-type]
    if kind == "exec":
        # The control: exec mode's workers exist before the sandbox.
        assert "sandbox_other_threads" in phases and "sandbox_alone" not in phases, phases
    else:
        # No signal round: the child was alone when it was confined, and
        # its threads started after the seccomp filter was in place.
        assert "sandbox_other_threads" not in phases and "sandbox_alone" in phases, phases
        assert phases.index("threads_recreated") > phases.index("sandbox_seccomp"), phases
    nuwad.call("kill", str(pid))
