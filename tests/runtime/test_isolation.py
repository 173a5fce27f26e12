"""What a child gets: its own epoll sets, IPC channels, seeds and name."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from nuwad_harness import Nuwad, fd_target


def info(d: Nuwad, pid: int) -> dict[str, str]:
    reply = d.call("call", str(pid), "fw:info")["reply"]
    return dict(item.split("=", 1) for item in reply.split())


def epoll_regs(pid: int, fd: int) -> set[tuple[str, str, str]]:
    """(target fd, events, data) of every registration of epoll FD in PID."""
    regs = set()
    for line in Path(f"/proc/{pid}/fdinfo/{fd}").read_text().splitlines():
        if line.startswith("tfd:"):
            f = line.split()
            regs.add((f[1], f[3], f[5]))
    return regs


def sockets_and_pipes(pid: int) -> set[str]:
    out = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = fd_target(pid, int(fd))
        except OSError:
            continue
        if target.startswith(("socket:", "pipe:")):
            out.add(target)
    return out


def test_child_epoll_changes_do_not_reach_template_or_siblings(nuwad: Nuwad) -> None:
    tpid = nuwad.template()["pid"]
    a = nuwad.call("launch", "echo", "--no-spare")["pid"]
    ep = int(info(nuwad, a)["ep"])
    before = epoll_regs(tpid, ep)
    assert before, "the template's epoll set should have registrations"
    assert epoll_regs(a, ep) == before  # rebuilt with the same registrations
    assert nuwad.call("call", str(a), "fw:epoll-mutate")["reply"].startswith("ok")
    changed = epoll_regs(a, ep)
    assert changed != before and len(changed) == len(before) + 1
    assert epoll_regs(tpid, ep) == before
    b = nuwad.call("launch", "echo", "--no-spare")["pid"]
    assert epoll_regs(b, ep) == before
    waiters = nuwad.call("call", str(b), "fw:waiters")["reply"]
    assert "epoll=ok" in waiters, waiters


def test_each_child_has_its_own_channels(nuwad: Nuwad) -> None:
    tpid = nuwad.template()["pid"]
    a = nuwad.call("launch", "echo", "--no-spare")["pid"]
    b = nuwad.call("launch", "echo")["pid"]
    ia, ib = info(nuwad, a), info(nuwad, b)
    # Same fd numbers everywhere, different kernel objects.
    for key in ("ep_pipe", "poll_pipe", "read_pipe"):
        assert ia[key] == ib[key]
        for fd in ia[key].split(","):
            ta, tb, tt = (fd_target(p, int(fd)) for p in (a, b, tpid))
            assert ta.startswith("pipe:") and len({ta, tb, tt}) == 3, (key, ta, tb, tt)
    # No socket or pipe is shared between two apps, or with the template.
    sa, sb, st = sockets_and_pipes(a), sockets_and_pipes(b), sockets_and_pipes(tpid)
    assert not sa & sb, sa & sb
    assert not sa & st and not sb & st
    # Both answer on their own channel.
    for pid in (a, b):
        assert nuwad.call("app-ping", str(pid))["pid"] == pid
        assert nuwad.call("call", str(pid), "whoami")["reply"] == f"echo template {pid}"


def test_seeds_are_remade_in_every_child(nuwad: Nuwad) -> None:
    pids = [nuwad.call("launch", "echo", "--no-spare")["pid"] for _ in range(3)]
    infos = [info(nuwad, p) for p in pids]
    assert len({i["seed"] for i in infos}) == 3
    assert len({i["random"] for i in infos}) == 3
    assert all(i["child"] == "1" for i in infos)


def test_child_is_named_and_specialised(start_nuwad: Callable[..., Nuwad], build: Path) -> None:
    d = start_nuwad(apps=f"[app named]\nlibrary = {build}/app-echo.so\noom_score_adj = 321\n")
    d.wait_ready()
    for no_spare in ([], ["--no-spare"]):
        pid = d.call("launch", "named", *no_spare)["pid"]
        assert Path(f"/proc/{pid}/comm").read_text().strip() == "named"
        assert Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0] == b"named"
        assert Path(f"/proc/{pid}/oom_score_adj").read_text().strip() == "321"
