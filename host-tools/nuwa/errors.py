"""The error types the CLI turns into a clear message and a nonzero exit."""

import signal
from types import FrameType


class NuwaError(Exception):
    """A user-facing failure: bad input, missing tool, failed build step."""


class Terminated(BaseException):
    """SIGTERM: unwinds like Ctrl-C, so that clean-up runs (guests powered off,
    labgrid places released); not an Exception, so no `except Exception` eats it."""


def raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated


def terminate_by_unwinding() -> None:
    """SIGTERM raises Terminated in the main thread instead of ending the process."""
    signal.signal(signal.SIGTERM, raise_terminated)
