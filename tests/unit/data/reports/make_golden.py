"""Make the golden report fixtures of tests/unit/test_bench_report_golden.py from the code
as it is: `.venv/bin/python tests/unit/data/reports/make_golden.py SRC tests/unit/data/reports`
(from a clone's root; SRC holds report_{failed,noexec,scripted,synthetic}.json)."""
import copy
import json
import sys
from pathlib import Path

sys.path.insert(0, "host-tools")
from nuwa.bench.goals import check_goals
from nuwa.bench.platforms import PYTHON
from nuwa.bench.report import render_markdown, summary_table
from nuwa.bench.results import ModeResult

src = Path(sys.argv[1])
dst = Path(sys.argv[2])
dst.mkdir(parents=True, exist_ok=True)
reports = {n: json.loads((src / f"report_{n}.json").read_text())
           for n in ("failed", "noexec", "scripted", "synthetic")}
# an older report: the summary parts added since (costs, phases, pressure, load, ...) absent
old = copy.deepcopy(reports["synthetic"])
for k in ("template_costs", "launch_phases_ms", "pressure", "pressure_psi", "launch_under_load",
          "fill_drift_seconds", "spare_ratio", "drift_series", "launch_by_app_ms", "platform",
          "ran", "category_uss_kb"):
    old["summary"].pop(k, None)
old.pop("platform", None)
reports["old"] = old
py = copy.deepcopy(reports["noexec"])
py["platform"] = PYTHON.to_dict()
py["summary"]["platform"] = "python"
reports["python"] = py
for name, report in reports.items():
    (dst / f"report_{name}.json").write_text(json.dumps(report) + "\n")
    results = {m: ModeResult.from_dict(v) for m, v in report["modes"].items()}
    (dst / f"report_{name}.md").write_text(render_markdown(report, results))
    platform = (report.get("platform") or {}).get("name", "c")
    goals = [g.to_dict() for g in check_goals(report["summary"], platform)]
    (dst / f"report_{name}.goals.json").write_text(json.dumps(goals, indent=2) + "\n")
    try:
        table = summary_table(report) + "\n"
    except Exception as e:  # noqa: BLE001 - the golden output is the error too
        table = f"{type(e).__name__}: {e}\n"
    (dst / f"report_{name}.summary.md").write_text(table)
    print(name, "ok")
