"""A labgrid environment for a built image: QEMUDriver, ShellDriver, SSHDriver.

The environment boots out/<board>/ the way `nuwa run` does, so a labgrid
user's own tests (or `--target labgrid:ENV.yaml`) can boot and drive it.
"""
from __future__ import annotations

import shlex
import shutil
from pathlib import Path
from typing import Any

import yaml

from ..board import Board
from ..errors import NuwaError
from .qemu import device_args, kernel_append

TARGET = "main"  # the target name labgrid's pytest fixtures use
IMAGES = {"kernel": "vmlinuz", "initrd": "initrd.img", "disk": "rootfs.img"}


def environment(board: Board, image_dir: Path, ssh_port: int, key_file: Path,
                mem: int | None = None) -> dict[str, Any]:
    """The environment as a dict (see docs/targets.md for what each part is)."""
    missing = [f for f in IMAGES.values() if not (image_dir / f).is_file()]
    if missing:
        raise NuwaError(f"no image in {image_dir} (missing {', '.join(missing)}); "
                        f"run `nuwa image --board {board.name}` first")
    qemu = shutil.which(board.qemu.binary) or board.qemu.binary
    # The initrd and the disk go in extra_args: QEMUDriver has no initrd, and its
    # `disk` would attach a PCI virtio disk, where the board uses virtio-mmio devices.
    return {
        "targets": {TARGET: {
            "resources": {
                "NetworkService": {"address": "127.0.0.1", "port": ssh_port,
                                   "username": "root"},
            },
            "drivers": {
                "QEMUDriver": {
                    "qemu_bin": "qemu",
                    "machine": board.qemu.machine,
                    "cpu": board.qemu.cpu,
                    "memory": f"{mem or board.memory_mib}M",
                    "kernel": "kernel",
                    "boot_args": kernel_append(board),
                    "extra_args": shlex.join(device_args(board, image_dir, ssh_port)),
                },
                # The console shell is root's, no login; the prompt is /etc/profile's PS1.
                "ShellDriver": {
                    "prompt": rf"{board.hostname}:[^\r\n]*# ",
                    "login_prompt": " login: ",
                    "username": "root",
                    "login_timeout": 300,
                },
                "SSHDriver": {"keyfile": str(key_file)},
            },
        }},
        "tools": {"qemu": qemu},
        "images": {name: str(image_dir / f) for name, f in IMAGES.items()},
    }


def write(path: Path, env: dict[str, Any]) -> None:
    header = ("# labgrid environment for a Nuwa image, written by `nuwa labgrid-env`.\n"
              "# Use: pytest --lg-env THIS_FILE, or nuwa exec --target labgrid:THIS_FILE.\n")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(header + yaml.safe_dump(env, sort_keys=False))
    tmp.replace(path)
