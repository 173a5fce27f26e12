"""Cross-compile the on-device runtime (runtime/) and stage its install tree."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from ..arch import Arch
from ..errors import NuwaError


def check_cross_compiler(arch: Arch) -> None:
    """The board's cross compiler is on PATH, or an error naming the package to install."""
    if shutil.which(arch.cross_prefix + "gcc") is None:
        raise NuwaError(f"no cross compiler for {arch.debian}: {arch.cross_prefix}gcc is not on "
                        f"PATH (install the Debian package {arch.cross_gcc_package}, "
                        "or run `make deps` as root)")


def build_runtime(runtime: Path, arch: Arch, sysroot: Path, staging: Path, log: Path,
                  debug: Path | None = None) -> bool:
    """Run the runtime's cross build + install into `staging` (stripped; the unstripped
    ELF files into `debug` when given); False if there is none."""
    if not (runtime / "Makefile").is_file():
        print(f"nuwa: {runtime}/Makefile does not exist yet: image has no runtime",
              file=sys.stderr)
        return False
    check_cross_compiler(arch)
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    if debug is not None:
        if debug.exists():
            shutil.rmtree(debug)
        debug.mkdir(parents=True)
    # install-tests: the system tests and benchmarks use the test programs in the guest.
    cmd = ["make", "-C", str(runtime), f"CROSS_COMPILE={arch.cross_prefix}",
           f"MULTIARCH={arch.multiarch}", f"SYSROOT={sysroot}", f"DESTDIR={staging}",
           *([f"DEBUG_DESTDIR={debug}"] if debug is not None else []), "install-tests"]
    print("nuwa: building the runtime: " + " ".join(cmd), file=sys.stderr)
    with log.open("w") as f:
        p = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        tail = "\n  ".join(log.read_text(errors="replace").splitlines()[-15:])
        raise NuwaError(f"the runtime build failed (exit {p.returncode}); "
                        f"full log: {log}\n  {tail}")
    return True
