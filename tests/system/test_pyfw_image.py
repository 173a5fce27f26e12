"""CPython in the built image (nuwa.image.python): the standard library is
pruned, and every module the framework and its apps import comes with a
reproducible (unchecked-hash) .pyc, so nothing is compiled or written at
launch on the read-only root. Reads the rootfs.img that `make test` built."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest
from nuwa.image import python

STDLIB = "/usr/lib/python3.11"
PRELOAD = ["json", "sqlite3", "ssl", "xml.etree.ElementTree", "selectors", "re", "datetime",
           "logging", "hashlib", "html"]
NUWA_MODULES = ["nuwa_platform", "weather", "todo", "feeds", "sensorlog"]
PRUNED = ["test", "idlelib", "tkinter", "ensurepip", "lib2to3", "pydoc_data", "venv",
          "distutils", "turtle.py", "pydoc.py", "lib-dynload/_testcapi"]


@pytest.fixture(scope="module")
def listing(guest_image: Path) -> set[str]:
    out = subprocess.run(["unsquashfs", "-l", "-d", "", str(guest_image / "rootfs.img")],
                         capture_output=True, text=True, check=True).stdout
    return {line.strip() for line in out.splitlines() if line.startswith("/")}


def module_file(name: str) -> str:
    """NAME's source path under the stdlib (a package's __init__.py or NAME.py)."""
    return f"{STDLIB}/{name.replace('.', '/')}"


def test_preload_and_nuwa_modules_have_pyc(listing: set[str]) -> None:
    assert f"{STDLIB}/os.py" in listing, "no CPython in the image"
    for name in PRELOAD:
        base = module_file(name)
        src = f"{base}/__init__.py" if f"{base}/__init__.py" in listing else f"{base}.py"
        assert src in listing, name
        assert str(python.pyc_of(Path(src))) in listing, f"no .pyc for {name} ({src})"
    for name in NUWA_MODULES:
        assert f"/usr/lib/nuwa/py/__pycache__/{name}.cpython-311.pyc" in listing, name


def test_every_py_has_its_pyc(listing: set[str]) -> None:
    sources = [p for p in listing if p.endswith(".py") and
               p.startswith((STDLIB + "/", "/usr/lib/nuwa/"))]
    assert len(sources) > 300
    missing = [p for p in sources if str(python.pyc_of(Path(p))) not in listing]
    assert not missing, missing[:10]


def test_pruned_parts_are_absent(listing: set[str]) -> None:
    for part in PRUNED:
        assert not any(p == f"{STDLIB}/{part}" or p.startswith(f"{STDLIB}/{part}")
                       for p in listing), part
    # what device apps do need stays
    for kept in ("asyncio/__init__.py", "sqlite3/__init__.py", "ctypes/__init__.py",
                 "encodings/utf_8.py", "lib-dynload"):
        assert f"{STDLIB}/{kept}" in listing, kept


def test_pyc_are_unchecked_hash_for_this_python(guest_image: Path, tmp_path: Path) -> None:
    """Hash-based without source check (flags = 1): no mtime in the header,
    nothing to revalidate against the read-only source."""
    want = [f"{STDLIB}/json/__pycache__/__init__.cpython-311.pyc",
            "/usr/lib/nuwa/py/__pycache__/nuwa_platform.cpython-311.pyc"]
    subprocess.run(["unsquashfs", "-q", "-n", "-d", str(tmp_path / "r"),
                    str(guest_image / "rootfs.img"), *want], check=True, capture_output=True)
    for p in want:
        head = (tmp_path / "r" / p.lstrip("/")).read_bytes()[:16]
        if importlib.util.MAGIC_NUMBER[:2] == head[:2]:  # this host runs CPython 3.11 too
            assert head[:4] == importlib.util.MAGIC_NUMBER, p
        assert int.from_bytes(head[4:8], "little") == 1, p  # hash-based, unchecked
