"""Targets: one small interface (run/put/get) over a serial console or SSH.

    from nuwa.target import Qemu, target_from_url
    with Qemu(board) as vm:                 # boots out/<board>/
        print(vm.console.run("uname -m").stdout)
        print(vm.ssh().run("free").stdout)
"""
from .base import Result, Target, TargetError, TargetTimeout
from .console import ConsoleTarget
from .qemu import BOOT_MARKER, Qemu
from .ssh import SSHTarget
from .url import target_from_url

__all__ = ["BOOT_MARKER", "ConsoleTarget", "Qemu", "Result", "SSHTarget", "Target",
           "TargetError", "TargetTimeout", "target_from_url"]
