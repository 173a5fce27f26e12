"""`nuwa image`: packages -> kernel + initramfs + read-only rootfs + manifest."""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

from .. import paths, sshkey
from ..board import Board
from ..errors import NuwaError
from . import cpio, debs, elfcheck, initramfs, python, rootfs, runtime, squashfs
from .apt import Package, PrivateApt, host_sources
from .modules import KernelModules
from .output import temp_path

DEFAULT_EPOCH = 1704067200  # 2024-01-01: every mtime in the images
LISTS_MAX_AGE = 24 * 3600


def log(msg: str) -> None:
    print(f"nuwa: {msg}", file=sys.stderr, flush=True)


def source_date_epoch() -> int:
    v = os.environ.get("SOURCE_DATE_EPOCH")
    if v is None:
        return DEFAULT_EPOCH
    if not v.isdigit():
        raise NuwaError(f"SOURCE_DATE_EPOCH must be a number of seconds, got {v!r}")
    return int(v)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class ImageBuilder:
    def __init__(self, board: Board, offline: bool = False, mirror: str | None = None,
                 with_runtime: bool = True) -> None:
        self.with_runtime = with_runtime
        self.board = board
        self.offline = offline
        self.mirror = mirror or os.environ.get("NUWA_MIRROR") or None
        self.out = paths.board_out(board.name)
        self.work = self.out / ".work"
        self.cache = paths.cache_dir()
        self.epoch = source_date_epoch()

    # -- packages ---------------------------------------------------------
    def _apt(self) -> PrivateApt:
        """The private apt; its lists are refreshed once a day (or on --mirror)."""
        stamp = self.cache / "apt" / self.board.arch / "lists/.updated"
        fresh = stamp.exists() and time.time() - stamp.stat().st_mtime < LISTS_MAX_AGE
        sources = None
        if not self.offline and (self.mirror or not fresh):
            sources = host_sources(self.mirror)
        try:
            apt = PrivateApt(self.cache, self.board.arch, sources, self.offline)
        except NuwaError as e:
            if self.offline:
                raise NuwaError(f"--offline: {e}") from e
            raise
        if self.offline or sources is not None or not apt.have_lists():
            apt.update()
            if not self.offline:
                stamp.touch()
        return apt

    def _kernel_package(self, apt: PrivateApt) -> Package:
        name = self.board.kernel_package
        images = [d for d in apt.depends(name) if d.startswith("linux-image-")]
        found = apt.describe_cached([images[0] if images else name])
        if not found:
            raise NuwaError(f"kernel package {name!r} not found in the archive")
        return found[0]

    def _resolve(self, apt: PrivateApt, names: list[str]) -> list[Package]:
        excluded = set(self.board.exclude)
        return [p for p in apt.resolve(names) if p.name not in excluded]

    # -- pieces -----------------------------------------------------------
    def _kernel_tree(self, apt: PrivateApt, pkg: Package) -> Path:
        """The unpacked kernel package, kept in the cache (unpacked once)."""
        tree = self.cache / "kernel" / pkg.deb_name.removesuffix(".deb")
        if not tree.is_dir():
            log(f"unpacking {pkg.name} {pkg.version}")
            tmp = temp_path(tree)
            if tmp.exists():
                shutil.rmtree(tmp)
            tmp.mkdir(parents=True)
            debs.make_root(tmp)
            debs.extract(apt.path(pkg), tmp)
            os.replace(tmp, tree)
        return tree

    def _sysroot(self, apt: PrivateApt, pkgs: list[Package]) -> Path:
        """out/<board>/sysroot: the -dev packages the runtime compiles against."""
        sysroot = self.out / "sysroot"
        want = "\n".join(p.deb_name for p in pkgs) + "\n"
        stamp = sysroot / ".nuwa-packages"
        if stamp.exists() and stamp.read_text() == want:
            return sysroot
        log(f"unpacking the sysroot ({len(pkgs)} packages)")
        tmp = temp_path(sysroot)
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        debs.make_root(tmp)
        for p in pkgs:
            debs.extract(apt.path(p), tmp, ["usr/share/doc/*", "usr/share/man/*"])
        (tmp / ".nuwa-packages").write_text(want)
        if sysroot.exists():
            shutil.rmtree(sysroot)
        os.replace(tmp, sysroot)
        return sysroot

    def _python_interpreter(self, apt: PrivateApt, pkgs: list[Package]) -> Package | None:
        """The interpreter package matching the image's CPython, or None without one."""
        lib = next((p for p in pkgs if p.name == python.LIBRARY_PACKAGE), None)
        if lib is None:
            return None
        found = apt.describe_cached([f"{python.INTERPRETER_PACKAGE}={lib.version}"])
        if not found:
            raise NuwaError(f"{python.INTERPRETER_PACKAGE} {lib.version} (to compile the "
                            "image's Python modules) not found in the archive")
        return found[0]

    def _rootfs(self, apt: PrivateApt, pkgs: list[Package], sysroot: Path,
                interpreter: Package | None) -> tuple[Path, bool]:
        root = self.work / "rootfs"
        debs.make_root(root)
        for p in pkgs:
            debs.extract(apt.path(p), root, [*self.board.prune, *python.PRUNE])
        rootfs.busybox_links(root, self.board.gnu.qemu_user)
        overlay = paths.top() / "rootfs-overlay"
        if overlay.is_dir():
            rootfs.copy_tree(overlay, root)
        rootfs.install_init_script(paths.top() / "buildroot/package/nuwa/S50nuwad", root)
        _, pub = sshkey.ensure_key()
        rootfs.add_generated(root, self.board, pub)
        has_runtime = self.with_runtime and runtime.build_runtime(
            paths.top() / "runtime", self.board.gnu, sysroot, self.work / "runtime-staging",
            paths.logs_dir() / f"runtime-build-{self.board.name}.log",
            debug=self.work / "debug")
        if has_runtime:
            rootfs.copy_tree(self.work / "runtime-staging", root)
        rootfs.normalise(root)
        if interpreter is not None:
            t0 = time.monotonic()
            binary = python.interpreter(apt.path(interpreter), self.work)
            n = python.compile_tree(root, binary, self.board.gnu.qemu_user)
            log(f"compiled {n} Python modules to .pyc ({time.monotonic() - t0:.1f} s)")
        return root, has_runtime

    # -- the build --------------------------------------------------------
    def build(self) -> Path:
        """Build under a lock: two builds of one board would share .work/."""
        self.out.mkdir(parents=True, exist_ok=True)
        with open(self.out / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            # Modes of everything made here (directories above all) must not depend on
            # the caller's umask: the image is byte-identical with umask 022 or 002.
            old = os.umask(0o022)
            try:
                return self._build()
            finally:
                os.umask(old)

    def _build(self) -> Path:
        t0 = time.monotonic()
        if self.with_runtime:
            runtime.check_cross_compiler(self.board.gnu)
        apt = self._apt()
        kpkg = self._kernel_package(apt)
        pkgs = self._resolve(apt, self.board.packages)
        spkgs = self._resolve(apt, self.board.sysroot_packages)
        interp = self._python_interpreter(apt, pkgs)
        log(f"{len(pkgs)} image packages, {len(spkgs)} sysroot packages, kernel {kpkg.name}")
        apt.fetch([kpkg, *pkgs, *spkgs, *([interp] if interp else [])])

        if self.work.exists():
            shutil.rmtree(self.work)
        self.work.mkdir(parents=True)
        ktree = self._kernel_tree(apt, kpkg)
        kmods = KernelModules.find(ktree)
        order = kmods.resolve(self.board.modules)
        sysroot = self._sysroot(apt, spkgs)
        root, has_runtime = self._rootfs(apt, pkgs, sysroot, interp)
        log("checking ELF files")
        elfcheck.check_or_fail(root, self.board.elf_machine)

        staged = self.work / "artifacts"
        staged.mkdir()
        vmlinuz = sorted((ktree / "boot").glob("vmlinuz-*"))
        if not vmlinuz:
            raise NuwaError(f"no vmlinuz in {kpkg.name}")
        shutil.copyfile(vmlinuz[0], staged / "vmlinuz")
        initramfs.make_tree(self.work / "initramfs", root / "usr/bin/busybox", kmods, order)
        cpio.write_initramfs(self.work / "initramfs", staged / "initrd.img", self.epoch)
        log("writing the root file system")
        squashfs.write_squashfs(root, staged / "rootfs.img", self.epoch,
                                self.board.compression, self.board.compression_level)

        manifest = {
            "board": self.board.name,
            "arch": self.board.arch,
            "source_date_epoch": self.epoch,
            "kernel": {"package": kpkg.name, "version": kpkg.version,
                       "modules": order, "release": kmods.version},
            "packages": [{"name": p.name, "version": p.version, "arch": p.arch}
                         for p in pkgs],
            "sysroot_packages": [{"name": p.name, "version": p.version, "arch": p.arch}
                                 for p in spkgs],
            "runtime": has_runtime,
            # the interpreter that compiled the image's .pyc (not in the image)
            "python_compiler": ({"package": interp.name, "version": interp.version}
                                if interp else None),
            "artifacts": {name: {"size": (staged / name).stat().st_size,
                                 "sha256": sha256(staged / name)}
                          for name in ("vmlinuz", "initrd.img", "rootfs.img")},
        }
        (staged / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        # Everything is complete: only now replace the previous image.
        for name in ("vmlinuz", "initrd.img", "rootfs.img", "manifest.json"):
            os.replace(staged / name, self.out / name)
        # the unstripped runtime (the image has it stripped), for gdb: out/<board>/debug/
        if (self.work / "debug").is_dir():
            old_debug = self.out / ".debug.old"
            shutil.rmtree(old_debug, ignore_errors=True)
            if (self.out / "debug").exists():
                os.rename(self.out / "debug", old_debug)
            os.rename(self.work / "debug", self.out / "debug")
            shutil.rmtree(old_debug, ignore_errors=True)
        shutil.rmtree(self.work)
        sizes = ", ".join(f"{n} {a['size'] / 2**20:.1f} MiB"
                          for n, a in manifest["artifacts"].items())
        log(f"image ready in {self.out} ({sizes}; {time.monotonic() - t0:.1f} s)")
        return self.out
