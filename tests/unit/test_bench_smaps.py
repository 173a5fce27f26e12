"""smaps parsing and the mapping-category breakdown, on a hand-written armhf sample."""
from pathlib import Path

import pytest
from nuwa.bench import smaps

SAMPLE = (Path(__file__).parent / "data" / "smaps_app.txt").read_text()


def test_parse_reads_every_mapping_and_counter() -> None:
    maps = smaps.parse_smaps(SAMPLE)
    assert len(maps) == 10
    heap = next(m for m in maps if m.path == "[heap]")
    assert heap.start == 0x23000 and heap.perms == "rw-p"
    assert heap.get("Shared_Dirty") == 400 and heap.uss_kb == 500
    anon = next(m for m in maps if m.start == 0xB6E00000)
    assert anon.path == ""


def test_categories() -> None:
    cats = {(m.path, m.perms): m.category for m in smaps.parse_smaps(SAMPLE)}
    lib = "/usr/lib/arm-linux-gnueabihf/libcrypto.so.3"
    assert cats[(lib, "r-xp")] == smaps.LIB_CODE
    assert cats[(lib, "r--p")] == smaps.LIB_WRITTEN  # RELRO: read-only again, but copied
    assert cats[(lib, "rw-p")] == smaps.LIB_WRITTEN
    assert cats[("[heap]", "rw-p")] == smaps.ANON_HEAP
    assert cats[("", "rw-p")] == smaps.ANON_HEAP
    assert cats[("[stack]", "rw-p")] == smaps.STACK
    assert cats[("/usr/lib/locale/C.utf8/LC_CTYPE", "r--p")] == smaps.OTHER
    assert cats[("/usr/libexec/nuwa/app-clock", "rw-p")] == smaps.OTHER
    assert cats[("[vectors]", "r-xp")] == smaps.OTHER


def test_breakdown_sums_match_totals() -> None:
    b = smaps.breakdown(smaps.parse_smaps(SAMPLE))
    assert b.total.rss_kb == 8 + 4 + 900 + 1200 + 64 + 8 + 12 + 40 + 16 + 4
    assert b.total.uss_kb == 4 + 500 + 64 + 8 + 12 + 40 + 16
    assert sum(u.uss_kb for u in b.by_category.values()) == b.total.uss_kb
    assert sum(u.pss_kb for u in b.by_category.values()) == b.total.pss_kb
    assert b.by_category[smaps.LIB_WRITTEN].uss_kb == 72
    assert b.by_category[smaps.ANON_HEAP].uss_kb == 540
    assert list(b.lib_written_by_path) == ["/usr/lib/arm-linux-gnueabihf/libcrypto.so.3"]
    d = b.to_dict()
    assert d["by_category"]["stack"]["uss_kb"] == 16


def test_split_processes_and_command_round_trip() -> None:
    joined = f"==> 12 <==\n{SAMPLE}\n==> 13 <==\n==> 14 <==\n{SAMPLE}"
    parts = dict(smaps.split_processes(joined))
    assert sorted(parts) == [12, 13, 14]
    assert parts[13] == ""  # exited before it was read
    assert len(smaps.parse_smaps(parts[14])) == 10
    cmd = smaps.smaps_command([12, 14])
    assert "for p in 12 14;" in cmd and "/proc/$p/smaps" in cmd


def test_smaps_command_refuses_non_numbers() -> None:
    with pytest.raises(ValueError):
        smaps.smaps_command(["1; reboot"])  # type: ignore[list-item]


def test_garbage_is_a_clear_error() -> None:
    with pytest.raises(smaps.SmapsError, match="line 1"):
        smaps.parse_smaps("sh: cat: not found\n")


def test_deleted_library_still_counts_as_library() -> None:
    text = SAMPLE.replace("libcrypto.so.3", "libcrypto.so.3 (deleted)")
    b = smaps.breakdown(smaps.parse_smaps(text))
    assert b.by_category[smaps.LIB_CODE].rss_kb == 1200
    assert "/usr/lib/arm-linux-gnueabihf/libcrypto.so.3" in b.lib_written_by_path
