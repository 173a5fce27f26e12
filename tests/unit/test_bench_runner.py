"""The mode runner's phases against a scripted shell (the real guest is in the system tests)."""
import json
import re
import shlex
from pathlib import Path

import pytest
from nuwa.bench.guest import Guest, parse_meminfo
from nuwa.bench.plan import Plan
from nuwa.bench.progress import Progress
from nuwa.bench.runner import ModeRunner
from nuwa.errors import NuwaError
from nuwa.target.base import Result

SMAPS = (Path(__file__).parent / "data" / "smaps_app.txt").read_text()
PLAN = Plan(launches=4, launches_no_spare=2, drift_seconds=0, fill_limit=10, settle_seconds=0,
            lmk_wait_seconds=0)


class ScriptedNuwad:
    """Answers the nuwactl commands the runner sends; the killer fires at the 4th app."""

    def __init__(self, kill_at: int = 4) -> None:
        self.apps: dict[int, str] = {}
        self.next_pid = 100
        self.kills = 0
        self.kill_at = kill_at
        self.commands: list[str] = []
        self.signals: list[str] = []
        self.fail_launches_after: int | None = None

    def answer(self, argv: list[str]) -> object:
        cmd = argv[1]
        if cmd == "template-status":
            return {"state": "ready", "pid": 2, "spare_pid": 3, "spare_enabled": True}
        if cmd == "launch":
            if self.fail_launches_after is not None and self.next_pid >= self.fail_launches_after:
                return None
            pid = self.next_pid
            self.next_pid += 1
            self.apps[pid] = argv[2]
            if len(self.apps) >= self.kill_at:
                del self.apps[min(self.apps)]
                self.kills += 1
            return {"app": argv[2], "pid": pid, "mode": argv[4],
                    "launch_ms": 12.5 if "--no-spare" not in argv else 30.0, "fork_ms": 1.5}
        if cmd == "apps":
            return [{"name": "clock", "mode": "template",
                     "defined_at": "/etc/nuwa/apps.d/clock.conf:5"},
                    {"name": "notes", "mode": "template",
                     "defined_at": "/etc/nuwa/apps.d/notes.conf:5"},
                    {"name": "echo", "mode": "template", "defined_at": "/etc/nuwa/nuwad.conf:22"}]
        if cmd == "kill":
            assert int(argv[2]) in self.apps, "only apps are killed, never the spare"
            self.apps.pop(int(argv[2]))
            return {"ok": True}
        mem = {"uss_kb": 600, "pss_kb": 900, "rss_kb": 3000}
        if cmd == "list":
            spare = {"app": "", "pid": 3, "mode": "template", "state": "spare", "launch_ms": 0,
                     **mem}
            return [spare] + [{"app": a, "pid": p, "mode": "template", "state": "running",
                               "launch_ms": 1, **mem} for p, a in self.apps.items()]
        if cmd == "stats":
            return {"mem_total_kb": 120000, "mem_available_kb": 80000 - 1000 * len(self.apps),
                    "template": {"pid": 2, **mem}, "spare": {"pid": 3, **mem},
                    "nuwad": {"pid": 1, **mem}, "lmk_kills": self.kills,
                    "apps": [{"app": "", "pid": 3, **mem}]
                    + [{"app": a, "pid": p, **mem} for p, a in self.apps.items()]}
        raise AssertionError(f"unexpected nuwactl {argv}")

    def run(self, command: str, timeout: float = 60) -> Result:
        self.commands.append(command)
        if "launch" in command and self.fail_launches_after is not None \
                and self.next_pid >= self.fail_launches_after:
            return Result(command, "", 1, "nuwactl: launch failed: no ready message")
        if command.startswith("kill -"):
            self.signals.append(command)
            if command.startswith("kill -KILL"):
                for pid in re.match(r"kill -KILL ([\d ]+)", command)[1].split():
                    self.apps.pop(int(pid), None)
            return Result(command, "", 0)
        if command.startswith("for p in"):
            pids = re.search(r"for p in ([\d ]+);", command)[1].split()
            return Result(command, "".join(f"==> {p} <==\n{SMAPS}\n" for p in pids), 0)
        out = []
        for part in command.split("; "):
            if part.startswith("echo @@"):
                out.append(part.removeprefix("echo ") + "\n")
                continue
            argv = shlex.split(part.removesuffix(" || exit $?"))
            out.append(json.dumps(self.answer(argv)) + "\n")
        return Result(command, "".join(out), 0)


def test_runner_phases() -> None:
    nuwad = ScriptedNuwad()
    runner = ModeRunner(Guest(nuwad), "template", PLAN, Progress(quiet=True))
    result = runner.run(["clock", "notes"])
    assert [a.app for a in result.apps] == ["clock", "notes"]
    assert result.apps[0].breakdown["by_category"]["lib_written"]["uss_kb"] == 72
    assert len(result.launches) == 4 and all(s.spare for s in result.launches)
    assert [s.launch_ms for s in result.launches_no_spare] == [30.0, 30.0]
    assert result.launches[0].fork_ms == 1.5
    # the 4th launch made the killer fire: 3 apps ran without a kill
    assert result.apps_until_lmk == 3 and result.lmk_reached
    assert [p.lmk_kills for p in result.fill] == [0, 0, 0, 1]
    assert result.overhead["template"].uss_kb == 600
    assert len(result.drift) == 2 and result.drift[0].uss_before_kb == 600
    assert nuwad.apps == {}  # everything killed at the end
    # fill apps are frozen once measured (not the one that made the killer fire)
    assert sum("-STOP" in c for c in nuwad.signals) == 3
    assert result.errors == []


def test_a_failing_phase_is_reported_and_the_rest_runs() -> None:
    nuwad = ScriptedNuwad(kill_at=1000)
    nuwad.fail_launches_after = 104  # the apps phase works, the timed launches fail
    result = ModeRunner(Guest(nuwad), "template", PLAN, Progress(quiet=True)).run(["clock"])
    assert len(result.apps) == 1
    assert result.errors and result.errors[0].startswith("launches: ")
    assert result.apps_until_lmk == 0  # the fill ran, its first launch failed
    assert any("fill: launch 1" in n for n in result.notes)


def test_no_kill_within_limit_is_a_lower_bound() -> None:
    runner = ModeRunner(Guest(ScriptedNuwad(kill_at=1000)), "exec", PLAN, Progress(quiet=True))
    result = runner.run(["clock"])
    assert result.apps_until_lmk == PLAN.fill_limit and not result.lmk_reached
    assert any("lower bound" in n for n in result.notes)
    assert result.launches_no_spare == []
    assert any("also ran nuwad's template and spare (1800 KiB PSS" in n for n in result.notes)


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

    @contextmanager
    def scripted_session(board: str, mode: str, url: str | None, mem: int | None = None,
                         lmk_threshold_kb: int | None = None):
        yield sessions.Session(Guest(ScriptedNuwad()), 12345, "test")

    monkeypatch.setattr(sessions, "mode_session", scripted_session)
    monkeypatch.setattr(sessions, "describe_target", lambda b, u, m: {"description": "scripted"})
    monkeypatch.setattr(plan, "QUICK", PLAN)
    monkeypatch.setattr("nuwa.commands.bench.QUICK", PLAN)
    out = tmp_path / "report"
    assert cli.main(["bench", "--quick", "--json", "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    for key in ("uss_ratio", "pss_ratio", "launch_ratio", "apps_until_lmk", "template_uss_kb",
                "break_even_apps"):
        assert key in summary
    assert summary["apps_until_lmk"] == {"template": 3, "exec": 3}
    assert summary["uss_ratio"] == 1.0  # the scripted guest has the same memory in both modes
    saved = json.loads((out / "report.json").read_text())
    assert saved["summary"] == summary and saved["command"] == "nuwa bench --quick"
    assert saved["modes"]["exec"]["lmk_threshold_kb"] == 12345
    # the runtime's test app from the main config is left out
    assert {a["app"] for a in saved["modes"]["template"]["apps"]} == {"clock", "notes"}
    assert (out / "report.md").is_file() and (out / "memory_vs_apps.png").is_file()


def test_bench_command_reports_a_dead_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from nuwa import cli

    out = tmp_path / "report"
    rc = cli.main(["bench", "--target", "ssh://root@127.0.0.1:1", "--out", str(out)])
    assert rc == 1
    assert "nuwa: error: cannot connect" in capsys.readouterr().err
    assert not out.exists()


def test_template_ready() -> None:
    from nuwa.bench.guest import template_ready

    assert template_ready({"state": "ready", "spare_pid": 7, "spare_enabled": True})
    assert not template_ready({"state": "ready", "spare_pid": None, "spare_enabled": True})
    assert template_ready({"state": "ready", "spare_pid": None, "spare_enabled": False})
    assert not template_ready({"state": "starting", "spare_pid": None, "spare_enabled": True})


def test_platform_apps() -> None:
    from nuwa.commands.bench import platform_apps

    only_main = [{"name": "echo", "defined_at": "/etc/nuwa/nuwad.conf:22"}]
    assert platform_apps(only_main) == ["echo"]
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
    assert cli.main(["demo", "--out", "/tmp/x"]) == 0
    args = seen["args"]
    assert args.quick and not args.json and str(args.out) == "/tmp/x" and args.target is None
    assert "nuwa bench --quick" in capsys.readouterr().out
