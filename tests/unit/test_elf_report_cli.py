"""The `elf-report` command: tables, JSON, comparison with a bench report, bad input."""
import argparse
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from nuwa import board
from nuwa.commands import elf_report as command
from nuwa.errors import NuwaError

SOURCE = Path(__file__).parent / "data" / "elf_fixture.c"


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("elfcli") / "libnuwafixture.so.1"
    subprocess.run([board.load("qemu-arm-virt").gnu.cross_prefix + "gcc", "-shared", "-fPIC", "-o", str(out), str(SOURCE)],
                   check=True)
    return out


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    return parser.parse_args(["elf-report", *argv])


def test_table(lib: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert command.run(parse(str(lib))) == 0
    out = capsys.readouterr().out
    assert "| libnuwafixture.so.1 |" in out and "RELATIVE" in out


def test_json_with_bench(lib: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = {"breakdown": {"lib_written_by_path": {f"/usr/lib/nuwa/{lib.name}": {"uss_kb": 8}}}}
    (tmp_path / "report.json").write_text(json.dumps({"modes": {"exec": {"apps": [app]}}}))
    assert command.run(parse("--json", "--bench", str(tmp_path), str(lib))) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["libraries"][0]["name"] == lib.name
    assert out["comparison"][0]["measured_exec_kb"] == 8


def test_root_search(lib: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    libdir = tmp_path / "usr/lib" / board.load("qemu-arm-virt").gnu.multiarch
    libdir.mkdir(parents=True)
    shutil.copy(lib, libdir / "libsqlite3.so.0.8.6")
    assert command.run(parse("--root", str(tmp_path), "--json")) == 0
    assert json.loads(capsys.readouterr().out)["libraries"][0]["name"] == "libsqlite3.so.0.8.6"


def test_bad_input(lib: Path, tmp_path: Path) -> None:
    with pytest.raises(NuwaError, match="not a readable bench report"):
        command.run(parse("--bench", str(tmp_path / "nope.json"), str(lib)))
    (tmp_path / "report.json").write_text("[1, 2]")
    with pytest.raises(NuwaError, match="not a bench report"):
        command.run(parse("--bench", str(tmp_path), str(lib)))
    with pytest.raises(NuwaError, match="none of the framework's libraries"):
        command.run(parse("--root", str(tmp_path)))
