"""Pure parts of `nuwa sandbox-bench`: the private nuwad's config and the table."""

from __future__ import annotations

from nuwa.bench.sandbox import LaunchSamples, SnapshotFigure, config_text, render


def test_config_has_a_sandboxed_and_an_unconfined_section_per_app() -> None:
    text = config_text(["clock", "notes"], lib_dir="/L")
    assert "[app clock]\nlibrary = /L/app-clock.so\nuid = 30001\ngid = 30001" in text
    assert "[app notes]\nlibrary = /L/app-notes.so\nuid = 30002" in text
    assert "[app clock-nosb]\nlibrary = /L/app-clock.so\nsandbox = no" in text
    assert text.count("sandbox = no") == 2
    assert "library = /L/libnuwafw.so" in text


def test_cost_is_the_difference_of_medians() -> None:
    s = LaunchSamples()
    for ms in (10.0, 12.0, 30.0):
        s.add("template", True, ms)
    for ms in (9.0, 10.0, 11.0):
        s.add("template", False, ms)
    assert s.median("template", True) == 12.0
    assert s.cost_ms("template") == 2.0


def test_render_lists_modes_and_apps_largest_first() -> None:
    s = LaunchSamples()
    s.add("exec", True, 100.0)
    s.add("exec", False, 90.0)
    snaps = [SnapshotFigure("small", 1000, 2048, 3.0, 1010, 300, 304),
             SnapshotFigure("big", 9000, 4096, 7.5, None)]
    text = render(s, snaps, "nuwa sandbox-bench")
    assert "`nuwa sandbox-bench`" in text
    assert "| exec | 100.0 (100.0) | 90.0 (90.0) | +10.0 (+10.0) ms | 1 |" in text
    assert "template" not in text.split("| app |")[0]
    assert text.index("| big |") < text.index("| small |")
    assert "| small | 1000 | 2 | 3.0 | 1010 | 10 | 300 → 304 |" in text
    assert "| big | 9000 | 4 | 7.5 | - | - | - |" in text
