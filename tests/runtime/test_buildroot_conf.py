"""The Buildroot package's generic nuwad.conf is one nuwad accepts."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
NUWAD = TOP / "runtime/build/host/nuwad"
CONF = TOP / "buildroot/package/nuwa/nuwad.conf"


def load(conf: Path, tmp_path: Path) -> str:
    """nuwad's complaint: with the config loaded, the first is the missing template host."""
    p = subprocess.run([str(NUWAD), "--config", str(conf), "--socket", str(tmp_path / "s"),
                        "--state-dir", str(tmp_path / "state")],
                       check=False, capture_output=True, text=True, timeout=10)
    assert p.returncode != 0
    return p.stderr


def test_generic_config_loads(tmp_path: Path) -> None:
    if not NUWAD.exists():
        pytest.skip("native runtime build missing (make -C runtime)")
    err = load(CONF, tmp_path)
    assert "template host /usr/libexec/nuwa/nuwa-template" in err, err
    # The same check sees a broken copy.
    bad = tmp_path / "bad.conf"
    bad.write_text(CONF.read_text().replace("spare = 1", "spare = lots"))
    assert f"{bad}:" in load(bad, tmp_path)
