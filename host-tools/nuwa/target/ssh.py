"""SSHTarget: run/put/get over SSH with fabric (dropbear in the guest, or a real board).

Transfers use a plain `cat` over an exec channel, not SFTP: dropbear ships
no SFTP server and the image should not need one.

A command interrupted by Ctrl-C or SIGTERM is ended on the target too: SSH servers do not
end a command without a terminal when its channel closes. Each command first writes its
shell's pid and parent pid to a file of this connection (`echo`, no extra process); the
interrupt opens a new connection and signals the command's process group (the SSH
server's session makes one: dropbear's session process leads it, OpenSSH's shell does);
a command whose group is led by neither is left alone.
"""
from __future__ import annotations

import secrets
import shlex
import signal
import threading
from pathlib import Path
from types import FrameType

import fabric
import invoke
import paramiko

from ..errors import Terminated
from . import hostkeys
from .base import Result, Target, TargetError, TargetTimeout


class _Interrupted(BaseException):
    """Ctrl-C or SIGTERM during a command (invoke would swallow a KeyboardInterrupt
    and wait on)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


# Run on the target by a new connection after an interrupt; the file holds "SHELL PARENT".
# Only a process group led by the shell or by its parent (the SSH session) is signalled:
# by then the shell may have been re-parented, and a pid reused since would lead neither.
_END_COMMAND = (
    "f={f}; [ -r $f ] || exit 0; read shell parent < $f; rm -f $f; "
    "group=$(cut -d' ' -f5 /proc/$shell/stat 2>/dev/null) || exit 0; "
    "if [ \"$group\" = \"$shell\" ] || [ \"$group\" = \"$parent\" ]; "
    "then kill -TERM -- -$group; fi"
)
END_TIMEOUT = 15.0  # seconds the interrupted command's clean-up may take


class SSHTarget(Target):
    def __init__(self, host: str, port: int = 22, user: str = "root",
                 key_file: str | Path | None = None, connect_timeout: float = 20,
                 known_hosts: Path | None = None, accept_new_host_key: bool = False) -> None:
        self.host, self.port, self.user = host, port, user
        kwargs: dict = {"look_for_keys": key_file is None, "allow_agent": key_file is None,
                        "banner_timeout": connect_timeout, "auth_timeout": connect_timeout}
        if key_file is not None:
            kwargs["key_filename"] = str(key_file)
        self.conn = fabric.Connection(host, user=user, port=port, connect_kwargs=kwargs,
                                      connect_timeout=connect_timeout)
        self.known_hosts = known_hosts
        client = paramiko.SSHClient()
        if known_hosts is None:
            # Guests nuwa boots make their host keys at each boot: accept any, never
            # check against (or write to) a known_hosts file.
            client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        else:
            # A real board: its key is checked against Nuwa's own known_hosts.
            hostkeys.prepare_client(client, known_hosts, host, port, accept_new_host_key)
        self.conn.client = client
        # where each command's shell writes its pid (ended by an interrupt)
        self.pid_file = f"/tmp/.nuwa-ssh-{secrets.token_hex(6)}"

    def __repr__(self) -> str:
        return f"SSHTarget(ssh://{self.user}@{self.host}:{self.port})"

    def _open(self) -> paramiko.Transport:
        try:
            self.conn.open()
        except paramiko.BadHostKeyException as e:
            assert self.known_hosts is not None
            raise TargetError(hostkeys.changed_key_message(self.host, self.port, e,
                                                           self.known_hosts)) from e
        except (TimeoutError, paramiko.SSHException, OSError) as e:
            raise TargetError(f"cannot connect to {self.user}@{self.host}:{self.port}: {e}"
                              ) from e
        transport = self.conn.client.get_transport()
        assert transport is not None
        return transport

    def run(self, cmd: str, timeout: float = 60) -> Result:
        self._open()
        # Ctrl-C and SIGTERM end the wait at once (the connection is closed), so that
        # callers' clean-up runs, e.g. a labgrid place is released.
        def interrupt(signum: int, frame: FrameType | None) -> None:
            # Closing the connection ends invoke's reader threads, which it joins.
            self.conn.close()
            raise _Interrupted(signum)

        main = threading.current_thread() is threading.main_thread()
        previous = ({s: signal.signal(s, interrupt) for s in (signal.SIGINT, signal.SIGTERM)}
                    if main else {})
        interrupted: int | None = None
        wrapped = f"{{ echo $$ $PPID > {self.pid_file}; }} 2>/dev/null\n{cmd}"
        try:
            r = self.conn.run(wrapped, hide=True, warn=True, timeout=timeout, in_stream=False)
        except _Interrupted as e:
            interrupted = e.signum
        except invoke.exceptions.CommandTimedOut as e:
            self.end_interrupted()  # it would go on running there
            raise TargetTimeout(f"{cmd!r} did not finish in {timeout:.0f} s on "
                                f"{self.host}:{self.port}; last output:\n"
                                f"{e.result.stdout[-400:]}") from e
        except (paramiko.SSHException, OSError) as e:
            raise TargetError(f"running {cmd!r} on {self.host}:{self.port}: {e}") from e
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if interrupted is not None:
            self.end_interrupted()
            if interrupted == signal.SIGTERM:
                raise Terminated
            raise KeyboardInterrupt
        return Result(cmd, r.stdout, r.exited, r.stderr)

    def end_interrupted(self) -> None:
        """End the command an interrupt left running on the target (best effort: the
        interrupt is reported whatever happens here)."""
        try:
            self._exec(_END_COMMAND.format(f=shlex.quote(self.pid_file)), None, END_TIMEOUT)
        except Exception:  # noqa: BLE001 - a board gone meanwhile has nothing left to end
            pass

    def _exec(self, cmd: str, data: bytes | None, timeout: float) -> tuple[bytes, bytes, int]:
        chan = self._open().open_session()
        chan.settimeout(timeout)
        try:
            chan.exec_command(cmd)
            if data is not None:
                chan.sendall(data)
            chan.shutdown_write()
            out, err = bytearray(), bytearray()
            while True:
                chunk = chan.recv(1 << 16)
                if not chunk:
                    break
                out += chunk
            while chan.recv_stderr_ready():
                err += chan.recv_stderr(1 << 16)
            return bytes(out), bytes(err), chan.recv_exit_status()
        except TimeoutError as e:
            raise TargetTimeout(f"{cmd!r} on {self.host}:{self.port} timed out") from e
        finally:
            chan.close()

    def put(self, local: str | Path, remote: str) -> None:
        data = Path(local).read_bytes()
        _, err, status = self._exec(f"cat > {shlex.quote(remote)}", data, 120)
        if status != 0:
            raise TargetError(f"put {local} -> {remote}: {err.decode(errors='replace')}")

    def get(self, remote: str, local: str | Path) -> None:
        out, err, status = self._exec(f"cat {shlex.quote(remote)}", None, 120)
        if status != 0:
            raise TargetError(f"get {remote}: {err.decode(errors='replace')}")
        Path(local).write_bytes(out)

    def close(self) -> None:
        if self.conn.is_connected:
            try:
                self._exec(f"rm -f {shlex.quote(self.pid_file)}", None, 10)
            except Exception:  # noqa: BLE001 - a file in the target's /tmp at worst
                pass
        self.conn.close()
