"""out/<board>/sysroot cross-compiles and links against the runtime's libraries."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from nuwa.board import Board

PROGRAM = r"""
#include <openssl/ssl.h>
#include <sqlite3.h>
#include <libxml/parser.h>
#include <unicode/uchar.h>
int main(void) {
    OPENSSL_init_ssl(0, NULL);
    xmlInitParser();
    return sqlite3_libversion_number() > 0 && u_isalpha(0x41) ? 0 : 1;
}
"""


def test_sysroot_links_runtime_libraries(guest_board: Board, guest_image: Path,
                                         tmp_path: Path) -> None:
    name = guest_board.gnu.cross_prefix + "gcc"
    gcc = shutil.which(name)
    if gcc is None:
        pytest.fail(f"{name} missing (make deps)")
    src = tmp_path / "t.c"
    src.write_text(PROGRAM)
    exe = tmp_path / "t"
    sysroot = guest_image / "sysroot"
    p = subprocess.run([gcc, f"--sysroot={sysroot}", "-I", f"{sysroot}/usr/include/libxml2",
                        "-o", str(exe), str(src), "-lssl", "-lcrypto", "-lsqlite3", "-lxml2",
                        "-licuuc"], check=False, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    with exe.open("rb") as f:
        elf = ELFFile(f)
        assert elf["e_machine"] == guest_board.elf_machine
        dyn = next(s for s in elf.iter_sections() if isinstance(s, DynamicSection))
        needed = {t.needed for t in dyn.iter_tags() if t.entry.d_tag == "DT_NEEDED"}
    assert {"libssl.so.3", "libsqlite3.so.0", "libxml2.so.2"} <= needed
