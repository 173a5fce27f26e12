"""A minimal `nuwa bench` end to end against the booted guest (tiny counts, every mode).

It runs over `--target ssh://` on the session's guest, so nothing else boots: the exec and
exec+ksm modes restart the guest's nuwad with `template = off` (and `exec_mergeable = on`,
KSM on), template mode uses the device's config; afterwards the device's nuwad and KSM
are put back as they were.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from nuwa.bench.options import BenchOptions
from nuwa.bench.plan import Plan
from nuwa.commands import bench
from nuwa.target import hostkeys

TINY = Plan(launches=2, launches_no_spare=2, drift_seconds=2.0, fill_limit=3,
            settle_seconds=0.3, lmk_wait_seconds=1.2, drift_checkpoints=(3.0,), raw_forks=3)


def test_minimal_bench_every_mode(guest_vm: Any, guest_ssh: Any, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    # this guest makes a new host key at every boot: keep it out of the real cache
    monkeypatch.setattr(hostkeys, "known_hosts_file", lambda: tmp_path / "known_hosts")
    out = tmp_path / "report"
    args = BenchOptions(
        board=guest_vm.board.name, mem=None, target=f"ssh://root@127.0.0.1:{guest_vm.ssh_port}",
        out=out, quick=True, json=True, apps="clock,notes", lmk_threshold_kb=None, repeat=1,
        modes="template,exec,exec+ksm", accept_new_host_key=False)
    assert bench.run(args, plan=TINY) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["errors"] == []
    s, modes = report["summary"], report["modes"]
    # what ran: the exec guests had no template and no spare
    assert s["ran"]["template"]["template"] == "ready"
    for mode in ("exec", "exec+ksm"):
        assert s["ran"][mode]["template"] == "off"
        assert s["ran"][mode]["daemon_keys"]["template"] == "off"
        assert modes[mode]["ran"]["processes_at_idle"] == ["nuwad"]
        assert modes[mode]["overhead"]["template"] is None
    assert s["ran"]["exec+ksm"]["ksm"]["run"] == 1
    # balanced: every pool launched each app the same number of times
    for pool, per_app in s["launch_by_app_ms"]["template"].items():
        assert set(per_app) == {"clock", "notes"}, pool
    tpl = modes["template"]
    assert {x["app"] for x in tpl["launches"]} == {"clock", "notes"}
    assert all(x["specialise_ms"] is not None for x in tpl["launches"])
    assert all(0 < x["fork_ms"] <= x["fork_rtt_ms"] for x in tpl["launches_no_spare"])
    assert len(tpl["raw_fork"]["fork_ms"]) == 3
    assert s["fork"]["fork_vs_raw_ratio"] is not None
    # the template's three costs, each with a break-even
    costs = s["template_costs"]
    assert 0 < costs["uss_kb"]["kb"] <= costs["pss_kb"]["kb"]
    assert costs["written_kb"]["kb"] > 0
    # drift over time and KSM's counters at each checkpoint
    assert set(s["drift_series"]["template"]) == {"0", "3"}
    assert [k["seconds"] for k in s["ksm"]["series"]] == [0.0, 3.0]
    assert all(k["ksmd_cpu_s"] >= 0 for k in s["ksm"]["series"])
    assert (out / "uss_over_time.png").is_file()
    md = (out / "report.md").read_text()
    assert "## What ran in each guest" in md and "## KSM (exec+ksm)" in md
    # the guest is left as it was: the device's nuwad with its template, KSM off
    assert guest_ssh.run("cat /sys/kernel/mm/ksm/run").stdout.strip() == "0"
    status = json.loads(guest_ssh.run("nuwactl --json template-status").stdout)
    assert status["state"] in ("ready", "starting")


def test_minimal_bench_python_platform(guest_vm: Any, guest_ssh: Any, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """`--platform python`: the Python apps with the Python template (first-use, started
    before idle), its cost and raw fork, issue 11's goals; template and exec modes."""
    monkeypatch.setattr(hostkeys, "known_hosts_file", lambda: tmp_path / "known_hosts")
    out = tmp_path / "report"
    args = BenchOptions(
        board=guest_vm.board.name, mem=None, target=f"ssh://root@127.0.0.1:{guest_vm.ssh_port}",
        out=out, quick=True, json=True, apps=None, lmk_threshold_kb=None, repeat=1,
        modes="template,exec", accept_new_host_key=False, platform="python",
        phases="raw-fork,apps,launches,fill")
    assert bench.run(args, plan=TINY) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["errors"] == []
    assert report["platform"]["framework"] == "python" and report["summary"]["platform"] == "python"
    tpl, exe = report["modes"]["template"], report["modes"]["exec"]
    apps = {"weather", "todo", "feeds", "sensorlog"}
    assert {a["app"] for a in tpl["apps"]} == apps == {a["app"] for a in exe["apps"]}
    # the Python template and spare are measured; the C ones run beside them, named
    assert tpl["ran"]["framework"] == "python" and tpl["ran"]["template"] == "ready"
    assert tpl["ran"]["processes_at_idle"][:3] == ["nuwad", "template", "spare"]
    assert "template of framework default" in tpl["ran"]["processes_at_idle"]
    assert exe["ran"]["processes_at_idle"] == ["nuwad"]
    assert tpl["raw_fork"]["target_rss_kb"] == tpl["overhead"]["template"]["rss_kb"]
    # every launch through the spare found the Python spare (none left out)
    assert tpl["launches"] and all(x["spare"] for x in tpl["launches"])
    assert not any("found no spare" in n for n in tpl["notes"])
    s = report["summary"]
    assert 0 < s["template_costs"]["uss_kb"]["kb"] <= s["template_costs"]["pss_kb"]["kb"]
    goals = {g["figure"]: g for g in report["goals"]}
    assert goals["per-app USS, template ÷ fair exec"]["goal"] == "≤ 0.25"
    assert "Python apps" in (out / "report.md").read_text().splitlines()[0]
