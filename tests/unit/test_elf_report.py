"""`nuwa elf-report` analysis on a tiny armhf library built with the cross compiler."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from nuwa import elf_report
from nuwa.errors import NuwaError

CROSS = "arm-linux-gnueabihf-"
SOURCE = Path(__file__).parent / "data" / "elf_fixture.c"


@pytest.fixture(scope="module")
def fixture_lib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert shutil.which(CROSS + "gcc"), "the armhf cross compiler is installed by deps.sh"
    out = tmp_path_factory.mktemp("elf") / "libnuwafixture.so.1"
    subprocess.run([CROSS + "gcc", "-shared", "-fPIC", "-O2", "-Wl,-z,relro", "-o", str(out),
                    str(SOURCE)], check=True)
    return out


def readelf_relocation_counts(path: Path) -> dict[str, int]:
    text = subprocess.run([CROSS + "readelf", "-rW", str(path)], check=True,
                          capture_output=True, text=True).stdout
    counts: dict[str, int] = {}
    for kind in re.findall(r"^\s*[0-9a-f]{8}\s+[0-9a-f]{8}\s+(R_ARM_\w+)", text, re.MULTILINE):
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def test_relocation_counts_agree_with_readelf(fixture_lib: Path) -> None:
    r = elf_report.analyze(fixture_lib)
    assert r.relocations == readelf_relocation_counts(fixture_lib)
    for kind in ("R_ARM_RELATIVE", "R_ARM_GLOB_DAT", "R_ARM_JUMP_SLOT", "R_ARM_ABS32"):
        assert r.relocations.get(kind, 0) > 0, kind


def test_counts_agree_with_readelf_on_the_armhf_libc() -> None:
    libc = Path("/usr/arm-linux-gnueabihf/lib/libc.so.6")  # libc6-armhf-cross, from deps.sh
    r = elf_report.analyze(libc)
    assert r.relocations == readelf_relocation_counts(libc)
    assert "<unknown>" not in r.relocations


def test_writable_areas(fixture_lib: Path) -> None:
    r = elf_report.analyze(fixture_lib)
    assert r.relro_kb > 0 and r.got_kb > 0 and r.data_kb > 0
    assert r.bss_kb >= 20000 / 1024
    assert r.writable_kb >= r.relro_kb + r.bss_kb
    # relocations land in RELRO, GOT and .data: at least one page, never more than the
    # writable segment spans
    assert 1 <= r.relocated_pages <= r.writable_pages
    assert r.writable_pages >= 5  # the 20000-byte .bss alone spans 5 pages
    d = r.to_dict()
    assert d["relocation_total"] == sum(r.relocations.values())


def test_not_an_elf_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "libbogus.so.1"
    bogus.write_text("not an ELF")
    with pytest.raises(NuwaError, match="libbogus.so.1"):
        elf_report.analyze(bogus)
    with pytest.raises(NuwaError):
        elf_report.analyze(tmp_path / "missing.so")


def test_find_libraries_skips_symlinks(tmp_path: Path, fixture_lib: Path) -> None:
    libdir = tmp_path / "usr/lib/arm-linux-gnueabihf"
    libdir.mkdir(parents=True)
    real = libdir / "libcrypto.so.3"
    shutil.copy(fixture_lib, real)
    (libdir / "libcrypto.so").symlink_to("libcrypto.so.3")
    (libdir / "libunrelated.so.1").write_bytes(b"")
    assert elf_report.find_libraries(elf_report.library_dirs(tmp_path)) == [real]


def test_compare_with_bench_report(fixture_lib: Path) -> None:
    r = elf_report.analyze(fixture_lib)
    lib = f"/usr/lib/{fixture_lib.name}"

    def app(kb: int) -> dict:
        return {"breakdown": {"lib_written_by_path": {lib: {"uss_kb": kb}}}}

    bench = {"modes": {"exec": {"apps": [app(8), app(12)]},
                       "template": {"apps": [app(0), app(4)]}}}
    [row] = elf_report.compare([r], bench)
    assert row["measured_exec_kb"] == 10 and row["measured_template_kb"] == 2
    assert row["measured_saving_kb"] == 8
    assert row["estimate_min_kb"] == r.relocated_pages * 4
    [unmeasured] = elf_report.compare([r], {"modes": {}})
    assert unmeasured["measured_saving_kb"] is None
