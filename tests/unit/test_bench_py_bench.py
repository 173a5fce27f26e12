"""nuwa py-bench's pure parts: mapping categories and the markdown it prints."""
from __future__ import annotations

from nuwa.bench.py_bench import APPS, Figures, categories, category, config_text, render


def test_categories_sum_private_kib_per_kind_of_mapping() -> None:
    lines = ("120 [heap]\n300 [anon]\n8 [stack]\n"
             "44 /usr/lib/arm-linux-gnueabihf/libpython3.11.so.1.0\n"
             "12 /usr/lib/python3.11/lib-dynload/_json.cpython-311-arm-linux-gnueabihf.so\n"
             "4 /usr/lib/arm-linux-gnueabihf/libc.so.6\n4 /usr/lib/nuwa/libnuwa.so\n"
             "2 /memfd:x (deleted)\nnot a line\n")
    assert categories(lines) == {"[heap]": 120, "[anon]": 300, "[stack]": 8,
                                 "libpython3.11": 44, "extension modules": 12,
                                 "other libraries": 8, "other": 2}
    assert category("/usr/lib/nuwa/libnuwapy.so") == "other libraries"


def test_config_has_every_app_and_the_freeze_setting() -> None:
    text = config_text("no", 30200)
    assert "gc_freeze=no" in text and "app_uids = 30200-30299" in text
    assert all(f"[app {a}]" in text for a in APPS)


def test_render_has_ratios_drift_and_the_command() -> None:
    f = Figures()
    for app in APPS:
        f.launch_ms[(app, "template")] = [50.0, 70.0, 60.0]
        f.launch_ms[(app, "exec")] = [2000.0]
    f.memory = {m: [{"app": a, "uss_kb": u, "pss_kb": u + 100, "rss_kb": u * 3} for a in APPS]
                for m, u in (("template", 2000), ("exec", 10000))}
    f.template = {"template": {"uss_kb": 9000, "pss_kb": 5000, "rss_kb": 12000}}
    f.drift = {fr: {a: [(0.0, 2000), (600.0, g)] for a in APPS}
               for fr, g in (("yes", 2200), ("no", 3000))}
    f.where = {fr: {a: ({"[anon]": 100}, {"[anon]": 150}) for a in APPS} for fr in ("yes", "no")}
    f.after_collect = {"yes": {a: 2200 for a in APPS}, "no": {a: 6000 for a in APPS}}
    text = render(f, "nuwa py-bench --runs 3", "host loaded")
    assert text.startswith("Command: `nuwa py-bench --runs 3`")
    assert "| weather | 60 ms | 2000 ms | 0.030 | 2000 kB | 10000 kB | 0.20 |" in text
    assert "mean per-app USS ratio 0.20" in text
    assert "| weather | yes | 2000 kB | 2200 kB | +10.0 % (600 s) | 2200 kB (+10.0 %) |" in text
    assert "| weather | no | 2000 kB | 3000 kB | +50.0 % (600 s) | 6000 kB (+200.0 %) |" in text
    assert "| [anon] | 400 → 600 (+200) | 400 → 600 (+200) |" in text
