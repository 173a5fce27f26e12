"""labgrid targets: `labgrid:ENV.yaml` (a target of an environment file) and
`labgrid://PLACE` (a place of a labgrid coordinator).

Either way the commands go over SSH to the target's NetworkService resource
(our SSHTarget: labgrid's SSHDriver copies files with scp/sftp, which the
image's dropbear has not). An environment whose target has a QEMUDriver is
booted by it and powered off at the end. A place is acquired, and released
at the end, also on errors and Ctrl-C. labgrid is imported only here.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from pathlib import Path
from typing import Any

from .. import sshkey
from .base import Result, Target, TargetError, TargetTimeout
from .console import ConsoleTarget
from .qemu import BOOT_MARKER
from .ssh import SSHTarget

DEFAULT_COORDINATOR = "127.0.0.1:20408"  # labgrid's default; LG_COORDINATOR overrides
# Seconds the coordinator has to answer; NUWA_LABGRID_TIMEOUT overrides.
CONNECT_TIMEOUT = float(os.environ.get("NUWA_LABGRID_TIMEOUT", "20"))
BOOT_TIMEOUT = 300.0


class LabgridTarget(Target):
    """SSH to a NetworkService; subclasses find it and clean up after."""

    def __init__(self) -> None:
        self.ssh: SSHTarget | None = None

    def _connect(self, params: dict[str, Any], key_file: str | Path | None, where: str) -> None:
        if not params.get("address"):
            raise TargetError(f"{where}: its NetworkService has no address")
        key = key_file or sshkey.ensure_key()[0]
        self.ssh = SSHTarget(str(params["address"]), int(params.get("port") or 22),
                             str(params.get("username") or "root"), key)

    def _ssh(self) -> SSHTarget:
        assert self.ssh is not None, "not connected"
        return self.ssh

    def run(self, cmd: str, timeout: float = 60) -> Result:
        return self._ssh().run(cmd, timeout)

    def put(self, local: str | Path, remote: str) -> None:
        self._ssh().put(local, remote)

    def get(self, remote: str, local: str | Path) -> None:
        self._ssh().get(remote, local)

    def close(self) -> None:
        if self.ssh is not None:
            self.ssh.close()
            self.ssh = None


class LabgridBoardTarget(LabgridTarget):
    """A labgrid Target object (of an environment, or labgrid's pytest `target` fixture):
    booted by its QEMUDriver if it has one, then driven over its NetworkService."""

    def __init__(self, target: Any, where: str, boot_timeout: float = BOOT_TIMEOUT) -> None:
        super().__init__()
        from labgrid.exceptions import NoDriverFoundError, NoResourceFoundError
        from labgrid.util.expect import PtxExpect

        self.target, self.where = target, where
        self.qemu: Any = None
        self._console: ConsoleTarget | None = None
        try:
            try:
                service = target.get_resource("NetworkService")
            except NoResourceFoundError:
                raise TargetError(f"{where}: target '{target.name}' has no NetworkService "
                                  "resource (nuwa drives targets over SSH)") from None
            try:
                self.qemu = target.get_driver("QEMUDriver")
            except NoDriverFoundError:
                self.qemu = None
            if self.qemu is not None:
                self.qemu.on()
                child = PtxExpect(self.qemu)
                try:
                    child.expect_exact(BOOT_MARKER, timeout=boot_timeout)
                except Exception as e:
                    raise TargetTimeout(f"{where}: the guest did not finish booting in "
                                        f"{boot_timeout:.0f} s ({type(e).__name__})") from e
                self._console = ConsoleTarget(child)
            self._connect({"address": service.address, "port": service.port,
                           "username": service.username}, self._keyfile(), where)
        except BaseException:
            self.close()
            raise

    @property
    def console(self) -> ConsoleTarget:
        """The serial console (a QEMUDriver's), driven like nuwa's own QEMU guests."""
        if self._console is None:
            raise TargetError(f"{self.where}: no console (the target has no QEMUDriver)")
        return self._console

    def _keyfile(self) -> str | None:
        """The SSHDriver's keyfile, if the environment names one (without activating it)."""
        for driver in self.target.drivers:
            if type(driver).__name__ == "SSHDriver" and driver.keyfile:
                env = self.target.env
                return str(env.config.resolve_path(driver.keyfile) if env else driver.keyfile)
        return None

    def close(self) -> None:
        super().close()
        if self.qemu is not None:
            with contextlib.suppress(Exception):
                self.qemu.off()
            self.qemu = None


class LabgridEnvTarget(LabgridBoardTarget):
    """Target `main` of a labgrid environment file."""

    def __init__(self, env_file: str | Path, boot_timeout: float = BOOT_TIMEOUT) -> None:
        from labgrid import Environment

        where = f"labgrid environment {env_file}"
        try:
            self.env = Environment(config_file=str(env_file))
            target = self.env.get_target("main")
        except Exception as e:  # labgrid's config errors have no common base class
            raise TargetError(f"{where}: {e}") from e
        if target is None:
            raise TargetError(f"{where} has no target 'main'")
        super().__init__(target, where, boot_timeout)

    def close(self) -> None:
        super().close()
        self.env.cleanup()


class LabgridPlaceTarget(LabgridTarget):
    """A place of a labgrid coordinator (LG_COORDINATOR, default 127.0.0.1:20408)."""

    def __init__(self, place: str, coordinator: str | None = None,
                 timeout: float = CONNECT_TIMEOUT, key_file: str | Path | None = None) -> None:
        super().__init__()
        from labgrid.remote.client import ClientSession, Error, ensure_event_loop
        from labgrid.util.proxy import proxymanager

        # labgrid logs connection errors on the root logger; our error says it once.
        if not logging.getLogger().handlers:
            logging.getLogger().addHandler(logging.NullHandler())
        self.place = place
        self.coordinator = coordinator or os.environ.get("LG_COORDINATOR") or DEFAULT_COORDINATOR
        self.where = f"labgrid place {place!r} (coordinator {self.coordinator})"
        self._errors: tuple[type[BaseException], ...] = (Error,)
        self.acquired = False
        self.loop = ensure_event_loop()
        address = proxymanager.get_grpc_address(self.coordinator, default_port=20408)
        args = argparse.Namespace(place=place, allow_unmatched=False, kick=False)
        self.session = ClientSession(address, self.loop, args=args)
        try:
            self._call(self.session.start(), timeout, "connecting")
            self._call(self.session.acquire(), timeout, "acquiring the place")
            self.acquired = True
            self._connect(self._network_service(), key_file, self.where)
        except BaseException:
            self.close()
            raise

    def _call(self, coro: Any, timeout: float, what: str) -> Any:
        # labgrid's client prints progress ("acquired place ..."): keep stdout for the command.
        try:
            with contextlib.redirect_stdout(sys.stderr):
                return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))
        except TimeoutError:
            raise TargetTimeout(f"{self.where}: no answer in {timeout:.0f} s while {what}; "
                                "is labgrid-coordinator running there?") from None
        except self._errors as e:
            raise TargetError(f"{self.where}: {str(e).removeprefix('Error: ')}") from e

    def _network_service(self) -> dict[str, Any]:
        try:
            place = self.session.get_place(self.place)
            resources = self.session.get_target_resources(place)
        except self._errors as e:
            raise TargetError(f"{self.where}: {str(e).removeprefix('Error: ')}") from e
        found = [r for (_, cls), r in resources.items() if cls == "NetworkService"]
        if not found:
            raise TargetError(f"{self.where}: the place has no NetworkService resource "
                              "(nuwa drives targets over SSH)")
        if not found[0].avail:
            raise TargetError(f"{self.where}: its NetworkService is not available (exporter "
                              "gone?)")
        return dict(found[0].args)

    def close(self) -> None:
        super().close()
        if self.acquired:
            self.acquired = False
            try:
                self._call(self.session.release(), CONNECT_TIMEOUT, "releasing the place")
            except TargetError as e:
                print(f"nuwa: {e}", file=sys.stderr)
        with contextlib.suppress(Exception):
            self.loop.run_until_complete(asyncio.wait_for(self.session.stop(), 5))
        with contextlib.suppress(Exception):
            self.loop.run_until_complete(asyncio.wait_for(self.session.close(), 5))
