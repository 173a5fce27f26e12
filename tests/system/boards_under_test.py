"""Which boards the system tests boot, and what each architecture's guest calls itself."""
from __future__ import annotations

import os

from nuwa import board

SESSION_BOARD = os.environ.get("NUWA_TEST_BOARD", board.DEFAULT_BOARD)
# Every other board folder gets a guest of its own (test_other_boards.py).
OTHER_BOARDS = [b for b in board.available() if b != SESSION_BOARD]

# `uname -m` on each shipped board's architecture: what the guest must say, so it is
# written down here rather than derived by the host tools under test.
UNAME_MACHINE = {"armhf": "armv7l", "arm64": "aarch64"}


def uname_machine(debian_arch: str) -> str:
    return UNAME_MACHINE[debian_arch]
