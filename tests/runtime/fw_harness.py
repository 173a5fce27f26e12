"""Configs for a private nuwad running the realistic framework and the
sample apps of one runtime build (the shipped apps.d sections, with the
build's paths)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from nuwad_harness import FRAMEWORK_BUILDS, TOP, Nuwad

APPS_D = TOP / "rootfs-overlay" / "etc" / "nuwa" / "apps.d"
APPS = ["clock", "messages", "settings", "music", "gallery", "notes"]
PY_APPS = ["weather", "todo", "feeds", "sensorlog"]  # apps.d's apps of [framework python]
MODES = ["template", "exec"]


def py_stdlib() -> str:
    """The build host's CPython 3.11 standard library (the image's: /usr/lib/python3.11)."""
    out = subprocess.run(["python3.11-config", "--prefix"], capture_output=True, text=True,
                         check=False)
    return f"{out.stdout.strip() or '/usr'}/lib/python3.11"


def write_fw_config(tmp: Path, build: Path, data_dir: Path | None = None,
                    daemon: str = "") -> Path:
    """The device's app sections with BUILD's paths, the realistic framework."""
    apps_d = tmp / "apps.d"
    apps_d.mkdir()
    for conf in sorted(APPS_D.glob("*.conf")):
        text = conf.read_text().replace("/usr/lib/nuwa/", f"{build}/") \
            .replace("/usr/share/nuwa", str(data_dir or build)) \
            .replace("/usr/lib/python3.11", py_stdlib())
        (apps_d / conf.name).write_text(text)
    main = tmp / "nuwad.conf"
    main.write_text(
        "[daemon]\n"
        f"template = {build}/nuwa-template\n"
        f"exec_host = {build}/nuwa-exec-host\n"
        "spare_delay_ms = 50\n"
        f"include = {apps_d}\n"
        f"{daemon}\n"
        "[framework]\n"
        f"library = {build}/libnuwafw.so\n"
        f"args = data_dir={data_dir or build}\n"
    )
    return main


def fw_build(name: str) -> Path:
    path = FRAMEWORK_BUILDS[name]
    if not (path / "libnuwafw.so").exists() or not (path / "nuwad").exists():
        pytest.skip(f"runtime build '{name}' missing (make -C runtime; make -C runtime sanitize)")
    return path


@contextmanager
def fw_daemon(build_name: str, tmp: Path) -> Iterator[Nuwad]:
    """A ready nuwad of build BUILD_NAME running the sample apps; stopped after."""
    build = fw_build(build_name)
    d = Nuwad(build, tmp, write_fw_config(tmp, build))
    try:
        d.wait_ready(timeout=60)
        yield d
    finally:
        d.stop()
