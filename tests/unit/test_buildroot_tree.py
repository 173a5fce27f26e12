"""The BR2_EXTERNAL tree refers only to files that exist in this checkout."""

import re
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
EXTERNAL = TOP / "buildroot"


def test_external_desc_names_the_tree() -> None:
    desc = (EXTERNAL / "external.desc").read_text()
    assert re.search(r"^name: NUWA$", desc, re.MULTILINE)


def test_every_package_is_sourced_from_config_in() -> None:
    config = (EXTERNAL / "Config.in").read_text()
    for pkg in (EXTERNAL / "package").iterdir():
        assert f"package/{pkg.name}/Config.in" in config
        assert (pkg / "Config.in").is_file()
        assert (pkg / f"{pkg.name}.mk").is_file()


def test_nuwa_package_paths_exist() -> None:
    mk = (EXTERNAL / "package" / "nuwa" / "nuwa.mk").read_text()
    site = re.search(r"^NUWA_SITE = \$\(BR2_EXTERNAL_NUWA_PATH\)/(\S+)$", mk, re.MULTILINE)
    overlay = re.search(r"^NUWA_OVERLAY = \$\(BR2_EXTERNAL_NUWA_PATH\)/(\S+)$", mk, re.MULTILINE)
    assert site and overlay
    runtime = (EXTERNAL / site.group(1)).resolve()
    assert (runtime / "Makefile").is_file()
    assert "install:" in (runtime / "Makefile").read_text()
    root = (EXTERNAL / overlay.group(1)).resolve()
    for rel in re.findall(r"\$\(NUWA_OVERLAY\)/(\S+?)(?:/\.)?\s", mk):
        assert (root / rel).exists(), f"nuwa.mk refers to missing {rel}"
