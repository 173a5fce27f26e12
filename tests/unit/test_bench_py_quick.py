"""nuwa demo's Python table (py_quick.quick_table)."""
from __future__ import annotations

from nuwa.bench.py_bench import APPS, Figures
from nuwa.bench.py_quick import quick_table


def test_quick_table_per_app_and_over_all_apps() -> None:
    f = Figures()
    for i, app in enumerate(APPS):
        f.launch_ms[(app, "template")] = [40.0 + i, 60.0 + i]
        f.launch_ms[(app, "exec")] = [5000.0, 5000.0]
    f.memory = {"template": [{"app": a, "uss_kb": 1500 + 100 * i, "pss_kb": 1, "rss_kb": 1}
                             for i, a in enumerate(APPS)],
                "exec": [{"app": a, "uss_kb": 8000, "pss_kb": 1, "rss_kb": 1} for a in APPS]}
    lines = quick_table(f).splitlines()
    assert lines[0].startswith("| Python app | launch template | launch exec | ratio |")
    assert "| weather | 50 ms | 5000 ms | 0.010 | 1500 kB | 8000 kB | 0.19 |" in lines
    # all apps: the median of all 8 template launches (43 and 60 around it: 51.5) and
    # the mean USS (1650 kB)
    assert lines[-1] == "| all | 52 ms | 5000 ms | 0.010 | 1650 kB | 8000 kB | 0.21 |"


def test_quick_table_marks_what_was_not_measured() -> None:
    f = Figures()
    f.launch_ms[("todo", "template")] = [50.0]
    lines = quick_table(f).splitlines()
    assert "| todo | 50 ms | - | - | - | - | - |" in lines
    assert lines[-1] == "| all | 50 ms | - | - | - | - | - |"
