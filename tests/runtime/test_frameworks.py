"""One template per framework: [framework NAME] sections, apps naming their
framework (framework =) and module (module =), C and Python apps side by
side on one nuwad, each forked from its own framework's template."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from nuwad_harness import SANITIZER_ENV

BAD_FRAMEWORK_CONFIGS = [
    # (config text, line of the error, what the error says)
    ("[framework]\nlibrary = x.so\n[app a]\nlibrary = a.so\nframework = python\n", 5,
     "unknown framework 'python'"),
    ("[framework py]\nlibrary = p.so\n[framework py]\n", 3, "framework 'py' defined twice"),
    ("[framework]\nlibrary = x.so\n[framework]\n", 3, "framework 'default' defined twice"),
    ("[framework]\nlibrary = x.so\n[app a]\nmodule = a\n", 3,
     "module = is for a framework with apps = modules"),
    ("[framework py]\nlibrary = p.so\napps = modules\n[app a]\nframework = py\n", 4,
     "has no module"),
    (("[framework py]\nlibrary = p.so\napps = modules\n[app a]\nframework = py\nmodule = a\n"
     "library = a.so\n"), 4, "names a library and a module"),
    ("[framework py]\nlibrary = p.so\napps = modules\n[app a]\nmodule = 9lives\n", 5,
     "not a module name"),
    ("[framework py]\nstart = later\n", 2, "start must be 'boot' or 'first-use'"),
    ("[framework py]\napps = scripts\n", 2, "apps must be 'libraries' or 'modules'"),
    ("[framework py]\nstart = first-use\n", 1, "[framework py] has no library"),
    ("[framework py]\nbogus = 1\n", 2, "unknown key 'bogus' in [framework py]"),
    ("[framework bad/name]\n", 1, "bad framework name"),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD_FRAMEWORK_CONFIGS)
def test_bad_framework_config_is_one_clear_error(build: Path, tmp_path: Path, text: str,
                                                 line: int, message: str) -> None:
    conf = tmp_path / "bad.conf"
    conf.write_text(text)
    res = subprocess.run([str(build / "nuwad"), "--foreground", "--config", str(conf),
                          "--socket", str(tmp_path / "s"), "--state-dir", str(tmp_path / "st")],
                         check=False, capture_output=True, text=True, timeout=30,
                         env={**SANITIZER_ENV})
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert f"bad.conf:{line}:" in lines[0] and message in lines[0], lines[0]
    assert not (tmp_path / "s").exists()
