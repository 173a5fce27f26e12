"""Test app: a hostile Python app (tests/runtime/test_pyfw.py, tests/system/test_pyfw_guest.py).

"probe NAME [ARG]" tries one thing the sandbox must refuse and answers
"ok" (it worked) or the errno's name (e.g. EACCES). docs/security.md says
which answer each probe must get. ctypes (for ptrace, process_vm_readv and
a raw system call) is used when it was importable: the tests preload it,
the worst case of a framework that did.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
from collections.abc import Callable

import nuwa_platform

# msgget: SysV IPC, outside the allowlist (seccomp kills the process).
MSGGET = {"x86_64": 68, "aarch64": 186, "armv7l": 303, "armv8l": 303}


def attempt(fn: Callable[[], object]) -> str:
    try:
        fn()
    except OSError as e:
        return errno.errorcode.get(e.errno or 0, f"errno {e.errno}")
    return "ok"


def libc_call(name: str, *args: int) -> str:
    """Call libc's NAME through ctypes; "ok" or the errno's name."""
    ctypes = sys.modules.get("ctypes")
    if ctypes is None:
        return "no-ctypes"
    libc = ctypes.CDLL(None, use_errno=True)
    fn = getattr(libc, name)
    fn.restype = ctypes.c_long
    ctypes.set_errno(0)
    if fn(*(ctypes.c_long(a) for a in args)) != -1:
        return "ok"
    e = ctypes.get_errno()
    return errno.errorcode.get(e, f"errno {e}")


def read_one(path: str) -> None:
    with open(path, "rb") as f:
        f.read(1)


def tcp(kind: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        if kind == "bind":
            s.bind(("127.0.0.1", port))
        else:
            s.settimeout(5)
            s.connect(("127.0.0.1", port))


def process_vm_readv(pid: int) -> str:
    ctypes = sys.modules.get("ctypes")
    if ctypes is None:
        return "no-ctypes"

    class IoVec(ctypes.Structure):
        _fields_ = (("base", ctypes.c_void_p), ("len", ctypes.c_size_t))

    buf = ctypes.create_string_buffer(16)
    local = IoVec(ctypes.cast(buf, ctypes.c_void_p), 16)
    remote = IoVec(0x10000, 16)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.process_vm_readv.restype = ctypes.c_ssize_t
    ctypes.set_errno(0)
    if libc.process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0) != -1:
        return "ok"
    return errno.errorcode.get(ctypes.get_errno(), "?")


def probe(what: str, arg: str) -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    stdlib = os.path.dirname(os.__file__)
    probes: dict[str, Callable[[], str]] = {
        "create-in-stdlib": lambda: attempt(
            lambda: open(os.path.join(stdlib, "nuwa_probe.py"), "x").close()),
        "modify-stdlib": lambda: attempt(lambda: open(os.__file__, "r+b").close()),
        "modify-own-module": lambda: attempt(lambda: open(__file__, "r+b").close()),
        "create-beside-module": lambda: attempt(
            lambda: open(os.path.join(here, "pyhostile_new.py"), "x").close()),
        "chmod-own-module": lambda: attempt(lambda: os.chmod(__file__, 0o777)),
        "create": lambda: attempt(lambda: open(arg, "x").close()),
        "write": lambda: attempt(lambda: open(arg, "r+b").close()),
        "read": lambda: attempt(lambda: read_one(arg)),
        "listdir": lambda: attempt(lambda: os.listdir(arg)),
        "exec": lambda: attempt(lambda: os.execv(arg, [arg, "-c", "true"])),
        "connect": lambda: attempt(lambda: tcp("connect", int(arg))),
        "bind": lambda: attempt(lambda: tcp("bind", int(arg))),
        "kill": lambda: attempt(lambda: os.kill(int(arg), 15)),  # SIGTERM
        "kill-all": lambda: attempt(lambda: os.kill(-1, 0)),
        "mem": lambda: attempt(lambda: read_one(f"/proc/{arg}/mem")),
        "environ": lambda: attempt(lambda: read_one(f"/proc/{arg}/environ")),
        "setuid": lambda: attempt(lambda: os.setuid(0)),
        "setgid": lambda: attempt(lambda: os.setgid(0)),
        "ptrace": lambda: libc_call("ptrace", 16, int(arg), 0, 0),  # PTRACE_ATTACH
        "process_vm_readv": lambda: process_vm_readv(int(arg)),
        "forbidden": lambda: libc_call("syscall", MSGGET.get(os.uname().machine, -1), 0, 0),
    }
    if what not in probes:
        raise ValueError(f"unknown probe {what!r} (want {', '.join(sorted(probes))})")
    return probes[what]()


def request(text: str) -> str:
    if text == "status":
        return f"ctypes={'ctypes' in sys.modules} uid={os.getuid()}"
    cmd, _, rest = text.partition(" ")
    if cmd != "probe":
        raise ValueError(f"unknown request {text!r} (want status, probe NAME [ARG])")
    what, _, arg = rest.partition(" ")
    return probe(what, arg)


def main(app: nuwa_platform.App) -> None:
    app.on_request(request)
    app.ready()
