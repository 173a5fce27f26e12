"""Cross-compile the on-device runtime (runtime/) and stage its install tree."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from ..errors import NuwaError

CROSS_COMPILE = "arm-linux-gnueabihf-"


def check_cross_compiler(prefix: str = CROSS_COMPILE) -> None:
    if shutil.which(prefix + "gcc") is None:
        raise NuwaError(f"no cross compiler: {prefix}gcc is not on PATH "
                        "(install gcc-arm-linux-gnueabihf, or run `make deps` as root)")


def build_runtime(runtime: Path, sysroot: Path, staging: Path, log: Path) -> bool:
    """Run the runtime's cross build + install into `staging`; False if there is none."""
    if not (runtime / "Makefile").is_file():
        print(f"nuwa: {runtime}/Makefile does not exist yet: image has no runtime",
              file=sys.stderr)
        return False
    check_cross_compiler()
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    cmd = ["make", "-C", str(runtime), f"CROSS_COMPILE={CROSS_COMPILE}",
           f"SYSROOT={sysroot}", f"DESTDIR={staging}", "install"]
    print("nuwa: building the runtime: " + " ".join(cmd), file=sys.stderr)
    with log.open("w") as f:
        p = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        tail = "\n  ".join(log.read_text(errors="replace").splitlines()[-15:])
        raise NuwaError(f"the runtime build failed (exit {p.returncode}); "
                        f"full log: {log}\n  {tail}")
    return True
