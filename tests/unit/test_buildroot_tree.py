"""The BR2_EXTERNAL tree (buildroot/) checked by a real Buildroot, offline.

Buildroot comes from BUILDROOT_SRC (a checkout) or the shared snapshot
(../shared/buildroot/buildroot-*.tar.gz beside this checkout), unpacked once
under out/buildroot-src/. Without either the tests skip, except under CI=true,
where they fail. A full Buildroot build is out of reach here (no downloads, and
Buildroot refuses distribution cross compilers): configuration, dependencies
and the extract step are what is checked.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
EXTERNAL = TOP / "buildroot"
SNAPSHOT_DIR = TOP.parent / "shared" / "buildroot"
UNPACKED = TOP / "out" / "buildroot-src"
DEFCONFIG = "qemu_arm_vexpress_defconfig"
COMMENT = "# nuwa needs a toolchain w/"
UNMET = "unmet direct dependencies"
# A custom external toolchain: Kconfig believes what the config says about it.
EXTERNAL_TOOLCHAIN = ("BR2_TOOLCHAIN_EXTERNAL=y", "BR2_TOOLCHAIN_EXTERNAL_CUSTOM=y",
                      "BR2_TOOLCHAIN_EXTERNAL_CUSTOM_GLIBC=y", "BR2_TOOLCHAIN_EXTERNAL_CXX=y")


def missing(reason: str) -> None:
    """Skip, or fail under CI=true (where Buildroot must be checked)."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the Buildroot check may not be skipped)")
    pytest.skip(reason)


def unpack_snapshot(tarball: Path) -> Path:
    """out/buildroot-src/<name>/buildroot, unpacked once after checking SHA256SUMS."""
    dest = UNPACKED / tarball.name.removesuffix(".tar.gz")
    tree = dest / "buildroot"
    if (dest / ".unpacked").exists():
        return tree
    sums = (tarball.parent / "SHA256SUMS").read_text()
    want = re.search(rf"^([0-9a-f]{{64}})\s+\*?{re.escape(tarball.name)}$", sums, re.MULTILINE)
    assert want, f"{tarball.name} not in {tarball.parent}/SHA256SUMS"
    got = hashlib.sha256(tarball.read_bytes()).hexdigest()
    assert got == want[1], f"{tarball}: sha256 {got}, SHA256SUMS says {want[1]}"
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    subprocess.run(["tar", "-xzf", str(tarball), "-C", str(tmp)], check=True)
    shutil.rmtree(dest, ignore_errors=True)
    os.replace(tmp, dest)
    (dest / ".unpacked").touch()
    return tree


@pytest.fixture(scope="module")
def buildroot() -> Path:
    src = os.environ.get("BUILDROOT_SRC")
    if src:
        tree = Path(src)
        if not (tree / "utils/check-package").is_file():
            pytest.fail(f"BUILDROOT_SRC={src} is not a Buildroot tree (no utils/check-package)")
    else:
        tarballs = sorted(SNAPSHOT_DIR.glob("buildroot-*.tar.gz"))
        if not tarballs:
            missing(f"no Buildroot: BUILDROOT_SRC is not set and {SNAPSHOT_DIR} has no snapshot")
        tree = unpack_snapshot(tarballs[-1])
    for prog in ("rsync", "make", "shellcheck", "flake8"):
        if shutil.which(prog) is None:
            missing(f"{prog} is not installed (make deps installs what Buildroot needs)")
    return tree


def clean_env() -> dict[str, str]:
    """Without the make variables of a `make test` around us (jobserver, CFLAGS)."""
    drop = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "CFLAGS", "LDFLAGS",
            "CC", "CROSS_COMPILE", "BR2_EXTERNAL", "O")
    return {k: v for k, v in os.environ.items() if k not in drop}


def br_make(buildroot: Path, out: Path, *args: str, external: Path = EXTERNAL
            ) -> subprocess.CompletedProcess[str]:
    p = subprocess.run(["make", "-C", str(buildroot), f"O={out}", f"BR2_EXTERNAL={external}",
                        *args], check=False, capture_output=True, text=True, env=clean_env(),
                       timeout=300)
    assert p.returncode == 0, f"make {' '.join(args)} failed:\n{p.stdout[-3000:]}{p.stderr}"
    return p


def configure(buildroot: Path, out: Path, fragment: tuple[str, ...],
              external: Path = EXTERNAL) -> tuple[str, str]:
    """DEFCONFIG + fragment + olddefconfig: (.config, what Kconfig printed)."""
    br_make(buildroot, out, DEFCONFIG, external=external)
    with (out / ".config").open("a") as f:
        f.write("\n".join(fragment) + "\n")
    p = br_make(buildroot, out, "olddefconfig", external=external)
    return (out / ".config").read_text(), p.stdout + p.stderr


def magic_python() -> str:
    """A python3 that has python3-magic (check-package imports it)."""
    for py in ("/usr/bin/python3", shutil.which("python3") or ""):
        if py and subprocess.run([py, "-c", "import magic"], check=False,
                                 capture_output=True).returncode == 0:
            return py
    missing("no python3 with the magic module (python3-magic; make deps installs it)")
    raise AssertionError  # not reached


def check_package(buildroot: Path, tree: Path) -> subprocess.CompletedProcess[str]:
    files = sorted(str(p.relative_to(tree)) for p in tree.rglob("*") if p.is_file())
    return subprocess.run([magic_python(), str(buildroot / "utils/check-package"), "-b", *files],
                          check=False, cwd=tree, capture_output=True, text=True, timeout=120)


# -- check-package ------------------------------------------------------------

def test_check_package_finds_no_warning_in_the_tree(buildroot: Path) -> None:
    p = check_package(buildroot, EXTERNAL)
    assert p.returncode == 0 and "\n0 warnings generated" in "\n" + p.stderr, (
        p.stdout + p.stderr)
    # It really looked at the package files, the init script among them.
    lines = int(re.search(r"(\d+) lines processed", p.stderr)[1])
    assert lines > 100


def test_check_package_does_warn_on_a_bad_copy(buildroot: Path, tmp_path: Path) -> None:
    """The check above can fail: a long help line and a space-indented init script."""
    tree = tmp_path / "buildroot"
    shutil.copytree(EXTERNAL, tree)
    cfg = tree / "package/nuwa/Config.in"
    cfg.write_text(cfg.read_text().replace(
        "\t  Nuwa: apps made", "\t  Nuwa: apps made " + "very " * 12))
    init = tree / "package/nuwa/S50nuwad"
    init.write_text(init.read_text().replace("\tprintf 'Starting", "    printf 'Starting"))
    p = check_package(buildroot, tree)
    assert p.returncode != 0
    assert "Config.in" in p.stdout and "help text" in p.stdout, p.stdout
    assert "S50nuwad" in p.stdout and "indented with tabs" in p.stdout, p.stdout


def test_the_init_script_lives_in_the_package_only() -> None:
    assert (EXTERNAL / "package/nuwa/S50nuwad").is_file()
    assert (EXTERNAL / "package/nuwa/nuwad.service").is_file()
    assert not (TOP / "rootfs-overlay/etc/init.d/S50nuwad").exists()


# -- configuration and dependencies ---------------------------------------------

@pytest.fixture(scope="module")
def configured(buildroot: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """DEFCONFIG with C++ and nuwa."""
    out = tmp_path_factory.mktemp("br-nuwa")
    _, log = configure(buildroot, out, ("BR2_TOOLCHAIN_BUILDROOT_CXX=y", "BR2_PACKAGE_NUWA=y"))
    assert UNMET not in log, log
    yield out
    shutil.rmtree(out, ignore_errors=True)


def test_nuwa_survives_olddefconfig(configured: Path) -> None:
    assert "BR2_PACKAGE_NUWA=y" in (configured / ".config").read_text().splitlines()


def test_show_depends_lists_the_framework_libraries(buildroot: Path, configured: Path) -> None:
    p = br_make(buildroot, configured, "-s", "nuwa-show-depends")
    deps = p.stdout.split()
    for lib in ("openssl", "sqlite", "libxml2", "icu"):
        assert lib in deps, f"{lib} not in nuwa-show-depends: {deps}"


def test_license_users_and_kernel_fixups(buildroot: Path, configured: Path) -> None:
    p = br_make(buildroot, configured, "-s", "printvars",
                "VARS=NUWA_LICENSE NUWA_LICENSE_FILES NUWA_USERS NUWA_LINUX_CONFIG_FIXUPS")
    out = p.stdout
    assert "NUWA_LICENSE=MIT" in out
    assert "NUWA_LICENSE_FILES=LICENSE" in out and (TOP / "LICENSE").is_file()
    for opt in ("CONFIG_SECURITY", "CONFIG_SECURITY_LANDLOCK", "CONFIG_SECCOMP",
                "CONFIG_SECCOMP_FILTER"):
        assert f"'{opt}=y'" in out, f"kernel fixups do not enable {opt}"
    # Every sample app's uid/gid has its user in NUWA_USERS.
    users = {int(m[1]): int(m[2]) for m in
             re.finditer(r"\bnuwa-[a-z]+ (\d+) nuwa-[a-z]+ (\d+) ", out)}
    for conf in sorted((TOP / "rootfs-overlay/etc/nuwa/apps.d").glob("*.conf")):
        text = conf.read_text()
        uid_line = re.search(r"^uid = (\d+)$", text, re.MULTILINE)
        if uid_line is None:
            continue  # no uid: it gets one of [daemon] app_uids, no user of its own
        uid = int(uid_line[1])
        gid = int(re.search(r"^gid = (\d+)$", text, re.MULTILINE)[1])  # type: ignore[index]
        assert users.get(uid) == gid, f"{conf.name}: uid {uid}/gid {gid} not in NUWA_USERS"


def test_build_gets_buildroots_flags_and_install_no_test_programs(buildroot: Path,
                                                                  configured: Path) -> None:
    p = br_make(buildroot, configured, "-s", "printvars",
                "VARS=TARGET_CFLAGS NUWA_BUILD_CMDS NUWA_INSTALL_TARGET_CMDS")
    target_cflags = re.search(r"^TARGET_CFLAGS=(.*)$", p.stdout, re.MULTILINE)[1]
    build = re.search(r"^NUWA_BUILD_CMDS=(.*)$", p.stdout, re.MULTILINE)[1]
    # TARGET_CONFIGURE_OPTS in the environment of the runtime's make, not on its command line.
    env, _, make_args = build.partition(" -C ")
    assert f'CFLAGS="{target_cflags}"' in env and "PKG_CONFIG=" in env, build
    assert "CFLAGS" not in make_args and "WERROR=0" in make_args, build
    install = re.search(r"^NUWA_INSTALL_TARGET_CMDS=(.*?)^\S", p.stdout + "\nEND",
                        re.MULTILINE | re.DOTALL)[1]
    assert " install\n" in install and "install-tests" not in install
    assert "cp -a" not in install and "rootfs-overlay/etc/nuwa/nuwad.conf" not in install


OLD_TOOLCHAINS = {
    "no C++": ("BR2_PACKAGE_NUWA=y",),
    "gcc 6": (*EXTERNAL_TOOLCHAIN, "BR2_TOOLCHAIN_EXTERNAL_GCC_6=y",
              "BR2_TOOLCHAIN_EXTERNAL_HEADERS_6_1=y", "BR2_PACKAGE_NUWA=y"),
    "headers 5.10": (*EXTERNAL_TOOLCHAIN, "BR2_TOOLCHAIN_EXTERNAL_GCC_12=y",
                     "BR2_TOOLCHAIN_EXTERNAL_HEADERS_5_10=y", "BR2_PACKAGE_NUWA=y"),
}


@pytest.mark.parametrize("toolchain", sorted(OLD_TOOLCHAINS))
def test_unfit_toolchain_hides_nuwa_with_its_comment(buildroot: Path, tmp_path: Path,
                                                      toolchain: str) -> None:
    config, log = configure(buildroot, tmp_path / "out", OLD_TOOLCHAINS[toolchain])
    assert UNMET not in log, log
    lines = config.splitlines()
    # Hidden: not even "# BR2_PACKAGE_NUWA is not set" (that is a visible option left off).
    assert not [ln for ln in lines if re.search(r"\bBR2_PACKAGE_NUWA\b", ln)], (
        f"nuwa is not hidden with {toolchain}")
    assert any(ln.startswith(COMMENT) for ln in lines), f"no '{COMMENT}...' comment"


# -- extract ----------------------------------------------------------------------

def test_extract_copies_the_sources_without_build_trees(buildroot: Path, tmp_path: Path) -> None:
    """A checkout with a stale runtime/build/ and other output: only sources arrive."""
    checkout = tmp_path / "checkout"
    ignore = shutil.ignore_patterns("build", "__pycache__")
    for part in ("buildroot", "runtime", "rootfs-overlay"):
        shutil.copytree(TOP / part, checkout / part, ignore=ignore, symlinks=True)
    shutil.copy2(TOP / "LICENSE", checkout / "LICENSE")
    stale = checkout / "runtime/build/host"
    stale.mkdir(parents=True)
    (stale / "libnuwa.so").write_text("stale\n")
    (checkout / "out/qemu-arm-virt").mkdir(parents=True)
    (checkout / "out/qemu-arm-virt/rootfs.img").write_text("big\n")
    out = tmp_path / "out"
    configure(buildroot, out, ("BR2_TOOLCHAIN_BUILDROOT_CXX=y", "BR2_PACKAGE_NUWA=y"),
              external=checkout / "buildroot")
    br_make(buildroot, out, "nuwa-extract", external=checkout / "buildroot")
    src = out / "build/nuwa-local"
    assert (src / "runtime/Makefile").is_file()
    assert (src / "runtime/lib/sandbox.c").is_file()
    assert (src / "LICENSE").is_file()
    copied_builds = [p for p in src.rglob("build") if p.is_dir()]
    assert not copied_builds, f"build trees were copied: {copied_builds}"
    assert not (src / "out").exists()


# -- without Buildroot ------------------------------------------------------------

def test_no_buildroot_skips_with_the_reason_but_fails_under_ci(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no Buildroot"):
        missing("no Buildroot: test")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        missing("no Buildroot: test")
