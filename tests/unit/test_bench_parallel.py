"""`nuwa bench --parallel`: the modes of a repeat at the same time, and a clean stop."""
from __future__ import annotations

import _thread
import threading

import pytest
from nuwa import board as boards
from nuwa.bench.options import BenchOptions
from nuwa.bench.parallel import run_concurrently
from nuwa.bench.results import ModeResult
from nuwa.bench.sessions import describe_target
from nuwa.commands import bench
from nuwa.errors import NuwaError
from nuwa.target.qemu import Qemu


def test_the_modes_run_at_the_same_time() -> None:
    # Each mode waits for the other: run one after the other, the barrier would time out.
    both = threading.Barrier(2, timeout=10)

    def measure(mode: str) -> str:
        both.wait()
        return f"result of {mode}"

    assert run_concurrently(["template", "exec"], measure, lambda: None) == {
        "template": "result of template", "exec": "result of exec"}


def test_an_interrupt_stops_every_guest_and_goes_on_up() -> None:
    stopped = threading.Event()

    def measure(mode: str) -> str:
        if mode == "exec":
            _thread.interrupt_main()  # Ctrl-C arrives while both guests are measured
        # a thread's SSH call fails once its guest is stopped
        if not stopped.wait(10):
            raise AssertionError("the guests were not stopped")
        return mode

    with pytest.raises(KeyboardInterrupt):
        run_concurrently(["template", "exec"], measure, stopped.set)
    assert stopped.is_set()


def test_a_thread_that_raised_is_an_error_naming_its_mode() -> None:
    def measure(mode: str) -> str:
        if mode == "exec":
            raise ValueError("boom")
        return mode

    with pytest.raises(RuntimeError, match="exec: ValueError: boom"):
        run_concurrently(["template", "exec"], measure, lambda: None)


def test_measure_runs_a_repeat_in_parallel_and_keeps_the_report_order(
        monkeypatch: pytest.MonkeyPatch) -> None:
    both = threading.Barrier(2, timeout=10)

    def fake_measure_mode(opts: BenchOptions, mode: str, plan: object,
                          progress: object) -> ModeResult:
        both.wait()
        return ModeResult(mode=mode)

    monkeypatch.setattr(bench, "measure_mode", fake_measure_mode)
    opts = BenchOptions(repeat=2, modes="template,exec", quick=True, parallel=True)
    repeats = bench.measure(opts, lambda *a, **k: None)
    assert [r.order for r in repeats] == [["template", "exec"], ["exec", "template"]]
    assert all(list(r.results) == ["template", "exec"] for r in repeats)


def test_parallel_with_one_target_board_is_refused_before_anything_runs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench, "measure", lambda *a: pytest.fail("nothing may run"))
    opts = BenchOptions(board="qemu-arm-virt", target="ssh://root@board:22", quick=True,
                        modes="template,exec", parallel=True)
    with pytest.raises(NuwaError, match="--parallel needs a fresh guest per mode"):
        bench.run(opts)


def test_the_report_says_whether_the_guests_ran_at_the_same_time() -> None:
    assert describe_target("qemu-arm-virt", None, parallel=True)["parallel"] is True
    assert "at the same time" in describe_target("qemu-arm-virt", None,
                                                 parallel=True)["description"]
    assert "one mode after the other" in describe_target("qemu-arm-virt", None)["description"]
    assert BenchOptions(quick=True, repeat=1, modes="template,exec,exec+ksm", target=None,
                        parallel=True).command_line() == "nuwa bench --quick --parallel"


def test_two_guests_of_one_process_log_to_files_of_their_own() -> None:
    b = boards.load("qemu-arm-virt")
    assert Qemu(b).log != Qemu(b).log
