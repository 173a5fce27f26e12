"""Control-protocol abuse: every client gets an answer or a closed
connection, and nuwad stays up."""

from __future__ import annotations

import json
import random
import socket
import struct
import threading
from collections.abc import Callable

from nuwad_harness import Nuwad, fd_count, frame, read_answer, wait_for


def still_up(d: Nuwad) -> None:
    assert d.proc.poll() is None, d.log_tail()
    assert d.call("ping")["pong"] is True


def answer_or_close(s: socket.socket) -> tuple[int, bytes] | None:
    """The answer, or None when nuwad closed the connection instead."""
    try:
        return read_answer(s)
    except (ConnectionError, OSError):
        return None


def test_random_bytes(nuwad: Nuwad) -> None:
    rng = random.Random(1234)
    for _ in range(50):
        with nuwad.connect() as s:
            s.settimeout(15)
            blob = rng.randbytes(rng.randint(1, 6000))
            try:
                s.sendall(blob)
                s.shutdown(socket.SHUT_WR)
            except OSError:
                continue  # nuwad already hung up on us
            got = answer_or_close(s)
            if got is not None:
                assert got[0] != 0 or got[1]  # an error, or a real answer
    still_up(nuwad)


def test_truncated_frames_get_closed_not_stuck(nuwad: Nuwad) -> None:
    full = frame(["ping"])
    for cut in range(1, len(full)):
        with nuwad.connect() as s:
            s.sendall(full[:cut])
            s.shutdown(socket.SHUT_WR)  # half a request, then end of file
            assert answer_or_close(s) is None
    still_up(nuwad)


def test_huge_length_and_bad_version(nuwad: Nuwad) -> None:
    for length in (4097, 1 << 20, 0xFFFFFFFF):
        with nuwad.connect() as s:
            s.sendall(struct.pack(">IHH", length, 1, 0) + b"x" * 64)
            status, body = read_answer(s)
            assert status != 0 and b"too large" in body
            assert answer_or_close(s) is None  # and then it hangs up
    with nuwad.connect() as s:
        s.sendall(frame(["ping"], version=99))
        status, body = read_answer(s)
        assert status != 0 and b"version" in body
    still_up(nuwad)


def test_malformed_and_unknown_requests(nuwad: Nuwad) -> None:
    cases: list[tuple[bytes, bytes]] = [
        (struct.pack(">IHH", 0, 1, 0), b"empty request"),
        (struct.pack(">IHH", 4, 1, 0) + b"ping", b"NUL"),
        (frame(["pi\x01ng"]), b"control character"),
        (frame(["x" * 300]), b"longer than"),
        (frame(["launch"] + ["a"] * 20), b"more than"),
        (frame(["frobnicate"]), b"unknown command"),
        (frame(["launch", "../../etc/passwd"]), b"bad app name"),
        (frame(["launch", "nosuchapp"]), b"unknown app"),
        (frame(["launch", "echo", "--mode", "fork"]), b"--mode"),
        (frame(["kill", "nosuchapp"]), b"no running app"),
        (frame(["kill", "999999999"]), b"no running app"),
        (frame(["call", "1", "x"]), b"no running app"),
        (frame(["ping", "extra"]), b"usage"),
    ]
    with nuwad.connect() as s:  # one connection, many bad requests in a row
        for raw, expect in cases:
            s.sendall(raw)
            status, body = read_answer(s)
            assert status != 0 and expect in body, (raw, body)
        s.sendall(frame(["ping"]))
        assert read_answer(s)[0] == 0
    still_up(nuwad)


def test_pipelined_requests_are_answered_in_order(nuwad: Nuwad) -> None:
    with nuwad.connect() as s:
        s.sendall(frame(["ping"]) * 20 + frame(["apps"]))
        for _ in range(20):
            assert json.loads(read_answer(s)[1])["pong"] is True
        assert {a["name"] for a in json.loads(read_answer(s)[1])} >= {"echo", "broken"}


def test_200_concurrent_clients(nuwad: Nuwad) -> None:
    results: list[object] = []
    lock = threading.Lock()
    barrier = threading.Barrier(200)

    def client(i: int) -> None:
        try:
            with nuwad.connect() as s:
                barrier.wait(timeout=30)
                words = ["launch", "echo"] if i % 10 == 0 else ["ping"] if i % 2 else ["stats"]
                s.sendall(frame(words))
                got = answer_or_close(s)
        except OSError as e:  # refused: also a clear answer
            got = e
        with lock:
            results.append(got)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert len(results) == 200
    answered = [r for r in results if isinstance(r, tuple)]
    assert all(r[0] == 0 for r in answered), [r for r in answered if r[0] != 0][:3]
    assert len(answered) == 200  # the default limit (512 clients) admits them all
    launched = [p for p in nuwad.call("list") if p["app"] == "echo"]  # type: ignore[union-attr]
    assert len(launched) == 20
    still_up(nuwad)


def test_rate_limit_answers_an_error(start_nuwad: Callable[..., Nuwad]) -> None:
    d = start_nuwad(daemon="rate_limit = 5")
    d.wait_ready()
    with d.connect() as s:
        s.sendall(frame(["ping"]) * 30)
        statuses = [read_answer(s) for _ in range(30)]
    limited = [b for st, b in statuses if st != 0]
    assert limited and all(b"rate limit" in b for b in limited)
    assert statuses[0][0] == 0
    still_up(d)


def test_client_limit_closes_extra_connections(start_nuwad: Callable[..., Nuwad]) -> None:
    d = start_nuwad(daemon="max_clients = 4")
    d.wait_ready()
    def admitted() -> socket.socket | None:
        # Earlier one-shot connections may still hold a slot for a moment.
        s = d.connect()
        try:
            s.sendall(frame(["ping"]))
            if read_answer(s)[0] == 0:
                return s
        except (ConnectionError, OSError):
            pass
        s.close()
        return None

    held: list[socket.socket] = []
    try:
        for _ in range(4):
            held.append(wait_for(admitted, 10, "a client slot"))  # type: ignore[arg-type]
        with d.connect() as extra:
            try:
                extra.sendall(frame(["ping"]))
            except OSError:
                pass  # already closed by nuwad: the expected answer
            assert answer_or_close(extra) is None
    finally:
        for s in held:
            s.close()
    wait_for(admitted, 10, "nuwad to serve again")


def test_client_leaving_mid_launch_does_not_hurt(nuwad: Nuwad) -> None:
    for _ in range(10):
        s = nuwad.connect()
        s.sendall(frame(["launch", "echo"]))
        s.close()
    still_up(nuwad)
    # nuwad finishes launches nobody waits for any more; all become running.
    wait_for(lambda: [a["state"] for a in nuwad.call("list")] == ["running"] * 10,  # type: ignore[union-attr]
             30, "10 running apps")


def test_hostile_app_on_its_channel(nuwad: Nuwad) -> None:
    """Junk, lying headers, unknown types, unsolicited answers and passed fds
    from an app: nuwad drops them, leaks nothing and keeps serving."""
    victim = nuwad.call("launch", "echo", "--no-spare")["pid"]
    other = nuwad.call("launch", "echo", "--no-spare")["pid"]
    nuwad_fds = fd_count(nuwad.proc.pid)
    got = nuwad.call("call", str(victim), "hostile")["reply"]
    assert got.startswith("sent ") and int(got.split()[1]) > 50, got
    for pid in (victim, other):  # both still answer through their own channel
        assert nuwad.call("app-ping", str(pid))["pid"] == pid
    # (The baseline may still count a control connection that was closing.)
    wait_for(lambda: fd_count(nuwad.proc.pid) <= nuwad_fds, 10, "nuwad's fd count to settle")
    log = nuwad.log_tail()
    assert "malformed message" in log and "no longer logged" in log
    assert log.count(f"(pid {victim})") < 20  # a hostile app cannot flood the log
    listed = {a["pid"]: a["state"] for a in nuwad.call("list")}  # type: ignore[union-attr]
    assert listed == {victim: "running", other: "running"}
    still_up(nuwad)


def test_half_closed_client_still_gets_its_answer(nuwad: Nuwad) -> None:
    with nuwad.connect() as s:
        s.sendall(frame(["launch", "echo", "--mode", "exec"]))
        s.shutdown(socket.SHUT_WR)  # "no more requests", still reading
        status, body = read_answer(s)
        assert status == 0 and json.loads(body)["mode"] == "exec", body
        assert answer_or_close(s) is None
    still_up(nuwad)
