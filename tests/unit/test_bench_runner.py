"""The mode runner's phases against a scripted shell (the real guest is in the system tests)."""
import json
from pathlib import Path

import pytest
from fake_nuwad import FakeNuwad
from nuwa.bench.guest import Guest, parse_meminfo
from nuwa.bench.plan import Plan
from nuwa.bench.progress import Progress
from nuwa.bench.runner import ModeRunner
from nuwa.errors import NuwaError
from nuwa.target.base import Result

PLAN = Plan(launches=4, launches_no_spare=4, drift_seconds=0, fill_limit=10, settle_seconds=0,
            lmk_wait_seconds=0, drift_checkpoints=(0.0,), raw_forks=3)


def test_runner_phases() -> None:
    nuwad = FakeNuwad()
    runner = ModeRunner(Guest(nuwad), "template", PLAN, Progress(quiet=True))
    result = runner.run(["clock", "notes"])
    assert [a.app for a in result.apps] == ["clock", "notes"]
    assert result.apps[0].breakdown["by_category"]["lib_written"]["uss_kb"] == 72
    # the balanced plan: both pools launch both apps equally often (4 each: 2 per app)
    assert len(result.launches) == 4 and all(s.spare for s in result.launches)
    assert sorted(s.app for s in result.launches) == ["clock", "clock", "notes", "notes"]
    assert sorted(s.app for s in result.launches_no_spare) == ["clock", "clock", "notes",
                                                               "notes"]
    assert [s.launch_ms for s in result.launches_no_spare] == [30.0] * 4
    # through the spare: specialise latency, no fork; without: the template's fork timing
    assert result.launches[0].specialise_ms == 0.5 and result.launches[0].fork_ms is None
    assert result.launches_no_spare[0].fork_ms == 1.5
    assert result.launches_no_spare[0].fork_rtt_ms == 2.0
    assert result.raw_fork == {"target_rss_kb": 3000, "rss_kb": 3004,
                               "fork_ms": [4.0, 5.0, 6.0]}
    # the 4th launch made the killer fire: 3 apps ran without a kill
    assert result.apps_until_lmk == 3 and result.lmk_reached
    assert [p.lmk_kills for p in result.fill] == [0, 0, 0, 1]
    assert result.overhead["template"].uss_kb == 600
    assert len(result.drift) == 2 and result.drift[0].uss_before_kb == 600
    assert nuwad.apps == {}  # everything killed at the end
    # fill apps are frozen once they ran their drift period (here 0 s: all four)
    stopped = [p for c in nuwad.signals if "-STOP" in c for p in c.split()[2:-2]]
    assert len(stopped) == 4
    assert result.errors == []


def test_any_exception_in_a_phase_is_recorded_and_the_rest_runs() -> None:
    """Not only NuwaError: a bad JSON key (KeyError), a parse error (SmapsError, ValueError)
    used to abort the run without a report."""
    nuwad = FakeNuwad(kill_at=1000)
    runner = ModeRunner(Guest(nuwad), "template", PLAN, Progress(quiet=True))

    def broken_idle() -> None:
        raise KeyError("mem_total_kb")

    runner.idle = broken_idle  # type: ignore[method-assign]
    result = runner.run(["clock"])
    assert result.errors[0] == "idle: KeyError: 'mem_total_kb'"
    assert len(result.apps) == 1 and result.fill  # the later phases still ran


def test_exec_guest_with_a_template_is_an_error() -> None:
    """The fair baseline runs no template: a guest that does is reported, not measured
    quietly (the old exec guest carried template and spare)."""
    result = ModeRunner(Guest(FakeNuwad(kill_at=1000)), "exec", PLAN,
                        Progress(quiet=True)).run(["clock"])
    assert result.errors and result.errors[0].startswith("idle: this exec guest runs")


def test_exec_ksm_samples_ksm_at_every_checkpoint() -> None:
    plan = Plan(launches=2, launches_no_spare=2, drift_seconds=0, fill_limit=3,
                settle_seconds=0, lmk_wait_seconds=0, drift_checkpoints=(60.0, 300.0))
    slept: list[float] = []
    now = [0.0]

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    runner = ModeRunner(Guest(FakeNuwad(kill_at=1000, template=False)), "exec+ksm", plan,
                        Progress(quiet=True), clock=lambda: now[0], sleep=sleep)
    result = runner.run(["clock", "notes"])
    assert result.errors == []
    assert [k.seconds for k in result.ksm_series] == [0.0, 60.0, 300.0]
    k = result.ksm_series[-1]
    assert (k.pages_shared, k.pages_sharing, k.full_scans) == (12, 340, 3)
    assert k.ksmd_cpu_s == 3.0  # (250 + 50) ticks at USER_HZ 100
    assert sorted({p.seconds for p in result.drift_series}) == [0.0, 60.0, 300.0]
    assert result.drift_seconds == 300.0
    assert all(s.pool == "exec" for s in result.launches) and not result.launches_no_spare


def test_a_failing_phase_is_reported_and_the_rest_runs() -> None:
    nuwad = FakeNuwad(kill_at=1000)
    nuwad.fail_launches_after = 104  # the apps phase works, the timed launches fail
    result = ModeRunner(Guest(nuwad), "template", PLAN, Progress(quiet=True)).run(["clock"])
    assert len(result.apps) == 1
    assert result.errors and result.errors[0].startswith("launches: ")
    assert result.apps_until_lmk == 0  # the fill ran, its first launch failed
    assert any("fill: launch 1" in n for n in result.notes)


def test_no_kill_within_limit_is_a_lower_bound() -> None:
    runner = ModeRunner(Guest(FakeNuwad(kill_at=1000, template=False)), "exec", PLAN,
                        Progress(quiet=True))
    result = runner.run(["clock"])
    assert result.errors == []
    assert result.apps_until_lmk == PLAN.fill_limit and not result.lmk_reached
    assert any("lower bound" in n for n in result.notes)
    assert result.launches_no_spare == []
    assert result.overhead["template"] is None and result.ran["processes_at_idle"] == ["nuwad"]


def test_honest_fill_lets_each_app_drift_before_freezing_it() -> None:
    """Each fill app runs drift_seconds before SIGSTOP; near the threshold the bench waits
    until the youngest app has drifted before it asks whether the killer fired."""
    plan = Plan(launches=1, launches_no_spare=1, drift_seconds=30, fill_limit=6,
                settle_seconds=0, lmk_wait_seconds=1.5, drift_checkpoints=())
    now = [0.0]
    nuwad = FakeNuwad(kill_at=5)
    runner = ModeRunner(Guest(nuwad), "template", plan, Progress(quiet=True),
                        clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    launched_at: dict[int, float] = {}
    frozen_at: dict[int, float] = {}
    real_launch = runner.launch

    def launch(app: str, spare: bool = True) -> dict:
        answer = real_launch(app, spare)
        launched_at[int(answer["pid"])] = now[0]
        now[0] += 2.0  # a launch takes time
        return answer

    real_sh = runner.guest.sh

    def sh(command: str, timeout: float | None = None) -> str:
        if command.startswith("kill -STOP"):
            for pid in command.split()[2:-2]:
                frozen_at[int(pid)] = now[0]
        return real_sh(command, timeout)

    runner.launch = launch  # type: ignore[method-assign]
    runner.guest.sh = sh  # type: ignore[method-assign]
    runner.result.lmk_threshold_kb = 0  # the killer's state is checked after every launch
    runner.fill(["clock", "notes"])
    assert runner.result.apps_until_lmk == 4 and runner.result.fill_drift_seconds == 30
    assert frozen_at, "fill apps are frozen"
    for pid, t in frozen_at.items():
        assert t - launched_at[pid] >= 30  # never frozen before its drift period


class _MemoryFake(FakeNuwad):
    """The killer fires when MemAvailable reaches the threshold; `big` takes 5000 KiB
    where the other apps take 1000 (as gallery does beside the small sample apps)."""

    def __init__(self, threshold: int) -> None:
        super().__init__(kill_at=10**6)
        self.threshold = threshold

    def available(self) -> int:
        return 80000 - sum(5000 if a == "big" else 1000 for a in self.apps.values())

    def answer(self, argv: list[str]) -> object:
        out = super().answer(argv)
        if argv[1] == "launch" and self.available() <= self.threshold:
            del self.apps[min(self.apps)]
            self.kills += 1
        if argv[1] == "stats":
            assert isinstance(out, dict)
            out["mem_available_kb"] = self.available()
        return out


def test_the_fill_waits_for_the_drift_only_near_the_threshold() -> None:
    """One big app must not make every launch of the fill's last stretch wait a whole
    drift period: the margin is the NEXT app's largest drop plus the young apps' growth
    still to come. And the kill is still judged on apps that all carried their drift."""
    plan = Plan(launches=1, launches_no_spare=1, drift_seconds=30, fill_limit=60,
                settle_seconds=0, lmk_wait_seconds=1.5, drift_checkpoints=())
    now = [0.0]
    waits: list[float] = []

    def sleep(s: float) -> None:
        if s >= 10:
            waits.append(s)
        now[0] += s

    nuwad = _MemoryFake(threshold=40000)
    runner = ModeRunner(Guest(nuwad), "template", plan, Progress(quiet=True),
                        clock=lambda: now[0], sleep=sleep)
    launched_at: dict[int, float] = {}
    real_launch = runner.launch

    def launch(app: str, spare: bool = True) -> dict:
        answer = real_launch(app, spare)
        launched_at[int(answer["pid"])] = now[0]
        now[0] += 2.0
        return answer

    runner.launch = launch  # type: ignore[method-assign]
    runner.result.lmk_threshold_kb = nuwad.threshold
    runner.fill(["clock", "notes", "big"])
    # 17 apps (35000 + 1000 + 1000 KiB) fit; the 18th, big, reaches the threshold
    assert runner.result.lmk_reached and runner.result.apps_until_lmk == 17
    # twice the largest drop as the margin (the old rule) waited from launch 13 on: 6 times
    assert 1 <= len(waits) <= 4, waits
    assert not any("younger than the drift period" in n for n in runner.result.notes)
    # when the kill was found, every app launched before the killing one had drifted
    killing = max(launched_at)
    assert all(now[0] - t >= 30 for p, t in launched_at.items() if p != killing)


def test_failed_guest_command_is_an_error() -> None:
    class Broken:
        def run(self, command: str, timeout: float = 60) -> Result:
            return Result(command, "", 1, "nuwactl: cannot connect to /run/nuwa/nuwad.sock")

    with pytest.raises(NuwaError, match="cannot connect"):
        Guest(Broken()).nuwactl("stats")


def test_meminfo() -> None:
    info = parse_meminfo("MemTotal:  123 kB\nMemAvailable:   45 kB\nHugePages_Total: 0\n")
    assert info["MemAvailable"] == 45 and info["HugePages_Total"] == 0
    with pytest.raises(NuwaError):
        parse_meminfo("garbage")


def test_bench_command_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    """`nuwa bench --quick --json` over scripted guests: report dir and JSON summary."""
    from contextlib import contextmanager

    from nuwa import cli
    from nuwa.bench import plan, sessions

    order: list[str] = []

    @contextmanager
    def scripted_session(board: str, mode: str, url: str | None, mem: int | None = None,
                         lmk_threshold_kb: int | None = None, **_: object):
        order.append(mode)
        ran = {"mode": mode, "template": "ready" if mode == "template" else "off"}
        yield sessions.Session(Guest(FakeNuwad(template=mode == "template")), 12345,
                               "test", ran)

    monkeypatch.setattr(sessions, "mode_session", scripted_session)
    monkeypatch.setattr(sessions, "describe_target", lambda *a: {"description": "scripted"})
    monkeypatch.setattr(plan, "QUICK", PLAN)
    monkeypatch.setattr("nuwa.commands.bench.QUICK", PLAN)
    out = tmp_path / "report"
    assert cli.main(["bench", "--quick", "--json", "--repeat", "2", "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    # the order alternates: template first, then last
    assert order == ["template", "exec", "exec+ksm", "exec+ksm", "exec", "template"]
    assert summary["repeats"] == 2 and summary["spread"]["uss_ratio"]["n"] == 2
    for key in ("uss_ratio", "pss_ratio", "launch_ratio", "apps_until_lmk", "template_uss_kb",
                "break_even_apps"):
        assert key in summary
    assert summary["apps_until_lmk"] == {"template": 3, "exec": 3, "exec+ksm": 3}
    assert summary["uss_ratio"] == 1.0  # the scripted guest has the same memory in both modes
    assert summary["vs_ksm"]["launch_ratio"] == 12.5 / 200.0
    saved = json.loads((out / "report.json").read_text())
    assert saved["summary"] == summary and saved["command"] == "nuwa bench --quick --repeat 2"
    assert [r["order"][0] for r in saved["repeats"]] == ["template", "exec+ksm"]
    assert saved["modes"]["exec"]["lmk_threshold_kb"] == 12345
    # the runtime's test app from the main config is left out
    assert {a["app"] for a in saved["modes"]["template"]["apps"]} == {"clock", "notes"}
    assert (out / "report.md").is_file() and (out / "memory_vs_apps.png").is_file()


def test_bench_command_reports_a_dead_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from nuwa import cli

    monkeypatch.setenv("NUWA_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "report"
    rc = cli.main(["bench", "--target", "ssh://root@127.0.0.1:1", "--out", str(out),
                   "--modes", "template,exec"])
    assert rc == 1
    err = capsys.readouterr().err
    assert "nuwa: error: the bench is incomplete" in err and "cannot connect" in err
    # errors never lose data: the report says what happened
    saved = json.loads((out / "report.json").read_text())
    assert saved["errors"] and all("cannot connect" in e for e in saved["errors"])
    assert "## Errors: this run is incomplete" in (out / "report.md").read_text()


@pytest.mark.parametrize(("argv", "message"), [
    (["--repeat", "0"], "--repeat: must be at least 1"),
    (["--repeat", "x"], "--repeat: not a number"),
    (["--modes", "template,exec,fast"], "unknown mode 'fast'"),
    (["--modes", "exec"], "template and exec are needed"),
])
def test_bench_bad_input_is_one_clear_error(argv: list[str], message: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from nuwa import cli

    out = tmp_path / "report"
    try:
        rc = cli.main(["bench", "--out", str(out), *argv])
    except SystemExit as e:  # argparse: usage and exit 2
        rc = int(e.code or 0)
    assert rc != 0
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_ksm_absent_is_a_clear_error() -> None:
    from nuwa.bench import ksm

    class NoKsm(FakeNuwad):
        def run(self, command: str, timeout: float = 60) -> Result:
            if command.startswith("test -d /sys/kernel/mm/ksm"):
                return Result(command, "", 1)
            return super().run(command, timeout)

    with pytest.raises(NuwaError, match="KSM absent: /sys/kernel/mm/ksm does not exist"):
        ksm.enable(Guest(NoKsm()))


def test_template_ready() -> None:
    from nuwa.bench.platforms import spare_ready as template_ready

    assert template_ready({"state": "ready", "spare_pid": 7, "spare_enabled": True})
    assert not template_ready({"state": "ready", "spare_pid": None, "spare_enabled": True})
    assert template_ready({"state": "ready", "spare_pid": None, "spare_enabled": False})
    assert not template_ready({"state": "starting", "spare_pid": None, "spare_enabled": True})


def test_platform_apps() -> None:
    from nuwa.commands.bench import platform_apps

    only_main = [{"name": "echo", "defined_at": "/etc/nuwa/nuwad.conf:22"}]
    assert platform_apps(only_main) == ["echo"]
    # The Python apps in apps.d (framework python) are not in the default list.
    image = [*only_main,
             {"name": "clock", "defined_at": "/etc/nuwa/apps.d/clock.conf:4",
              "framework": "default"},
             {"name": "weather", "defined_at": "/etc/nuwa/apps.d/weather.conf:3",
              "framework": "python", "module": "weather"}]
    assert platform_apps(image) == ["clock"]
    with pytest.raises(NuwaError, match="no configured apps"):
        platform_apps([])
    with pytest.raises(NuwaError):
        platform_apps({"error": "x"})


def test_demo_runs_the_quick_bench(monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    from nuwa import cli

    seen = {}

    def fake_bench(args: object) -> int:
        seen["args"] = args
        return 0

    monkeypatch.setattr("nuwa.commands.bench.run", fake_bench)
    monkeypatch.setattr("nuwa.commands.demo.python_part", lambda args: seen.update(py=args))
    assert cli.main(["demo", "--out", "/tmp/x"]) == 0
    args = seen["args"]
    assert args.quick and not args.json and str(args.out) == "/tmp/x" and args.target is None
    assert args.parallel  # both guests at once: the demo's 10 minutes
    assert seen["py"].board == args.board  # the Python part ran too, on the same board
    assert "nuwa bench --quick" in capsys.readouterr().out
    # one board runs the modes one after the other
    assert cli.main(["demo", "--target", "ssh://root@board:22"]) == 0
    assert not seen["args"].parallel


def test_demo_runs_both_parts_at_once_and_prints_the_python_table_last(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import threading

    from nuwa import cli

    both = threading.Barrier(2, timeout=10)  # one part after the other would time out

    def c_part(args: object) -> int:
        both.wait()
        return 0

    def python_part(args: object) -> str:
        both.wait()
        return "| Py table |\n"

    monkeypatch.setattr("nuwa.commands.bench.run", c_part)
    monkeypatch.setattr("nuwa.commands.demo.python_part", python_part)
    assert cli.main(["demo"]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("| Py table |")


def test_demo_keeps_the_c_table_when_the_python_part_fails(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from nuwa import cli

    def c_part(args: object) -> int:
        print("| C table |")
        return 0

    def python_part(args: object) -> None:
        raise NuwaError("private nuwad (gc_freeze=yes) not ready")

    monkeypatch.setattr("nuwa.commands.bench.run", c_part)
    monkeypatch.setattr("nuwa.commands.demo.python_part", python_part)
    assert cli.main(["demo"]) == 1
    out = capsys.readouterr()
    assert "| C table |" in out.out
    assert out.err.count("nuwa demo: error:") == 1
    assert "Python apps: private nuwad (gc_freeze=yes) not ready" in out.err


def test_demo_shows_the_python_table_when_the_c_part_fails(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from nuwa import cli

    def c_part(args: object) -> int:
        print("| C table, partial |")
        raise NuwaError("the bench is incomplete")

    monkeypatch.setattr("nuwa.commands.bench.run", c_part)
    monkeypatch.setattr("nuwa.commands.demo.python_part", lambda args: print("| Py table |"))
    assert cli.main(["demo"]) == 1
    out = capsys.readouterr()
    assert "| C table, partial |" in out.out and "| Py table |" in out.out
    assert "C apps: the bench is incomplete" in out.err
