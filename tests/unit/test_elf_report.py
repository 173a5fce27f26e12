"""`nuwa elf-report` analysis on a tiny library built with each board's cross compiler."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from nuwa import board
from nuwa.arch import Arch
from nuwa.errors import NuwaError
from nuwa.image import elf_report

SOURCE = Path(__file__).parent / "data" / "elf_fixture.c"
ARCHES = {board.load(name).gnu for name in board.available()}
DEFAULT = board.load("qemu-arm-virt").gnu


def build_fixture(arch: Arch, out: Path) -> Path:
    gcc = arch.cross_prefix + "gcc"
    assert shutil.which(gcc), f"{gcc} is installed by deps.sh ({arch.cross_gcc_package})"
    subprocess.run([gcc, "-shared", "-fPIC", "-O2", "-Wl,-z,relro", "-o", str(out),
                    str(SOURCE)], check=True)
    return out


@pytest.fixture(scope="module", params=sorted(ARCHES, key=lambda a: a.debian),
                ids=lambda a: a.debian)
def arch_lib(request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> tuple[Arch, Path]:
    arch: Arch = request.param
    return arch, build_fixture(arch, tmp_path_factory.mktemp("elf") / "libnuwafixture.so.1")


@pytest.fixture(scope="module")
def fixture_lib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture(DEFAULT, tmp_path_factory.mktemp("elf") / "libnuwafixture.so.1")


def readelf_relocation_counts(arch: Arch, path: Path) -> dict[str, int]:
    text = subprocess.run([arch.cross_prefix + "readelf", "-rW", str(path)], check=True,
                          capture_output=True, text=True).stdout
    counts: dict[str, int] = {}
    for kind in re.findall(r"^\s*[0-9a-f]{8,16}\s+[0-9a-f]{8,16}\s+(R_\w+)", text,
                           re.MULTILINE):
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def test_relocation_counts_agree_with_readelf(arch_lib: tuple[Arch, Path]) -> None:
    arch, lib = arch_lib
    r = elf_report.analyze(lib)
    assert r.relocations == readelf_relocation_counts(arch, lib)
    kinds = elf_report.kind_counts(r.relocations)
    for kind in elf_report.RELOC_KINDS:
        assert kinds[kind] > 0, (kind, r.relocations)
    assert sum(kinds.values()) == r.relocation_total


def test_counts_agree_with_readelf_on_the_cross_libc(arch_lib: tuple[Arch, Path]) -> None:
    arch = arch_lib[0]
    libc = Path(f"/usr/{arch.gnu_type}/lib/libc.so.6")  # the cross libc, from deps.sh
    r = elf_report.analyze(libc)
    assert r.relocations == readelf_relocation_counts(arch, libc)
    assert "<unknown>" not in r.relocations


@pytest.mark.parametrize(("name", "kind"), [
    ("R_ARM_RELATIVE", "RELATIVE"), ("R_AARCH64_RELATIVE", "RELATIVE"),
    ("R_AARCH64_GLOB_DAT", "GLOB_DAT"), ("R_X86_64_JUMP_SLOT", "JUMP_SLOT"),
    ("R_ARM_ABS32", "ABS"), ("R_AARCH64_ABS64", "ABS"), ("R_X86_64_64", "ABS"),
    ("R_X86_64_PC32", None), ("R_ARM_TLS_DTPMOD32", None), ("R_AARCH64_TLS_TPREL", None),
])
def test_relocation_kinds_by_name(name: str, kind: str | None) -> None:
    assert elf_report.reloc_kind(name) == kind


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
    libdir = tmp_path / f"usr/lib/{DEFAULT.multiarch}"
    libdir.mkdir(parents=True)
    real = libdir / "libcrypto.so.3"
    shutil.copy(fixture_lib, real)
    (libdir / "libcrypto.so").symlink_to("libcrypto.so.3")
    (libdir / "libunrelated.so.1").write_bytes(b"")
    assert elf_report.find_libraries(elf_report.library_dirs(tmp_path, DEFAULT.multiarch)) == [real]


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
