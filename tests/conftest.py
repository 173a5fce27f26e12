"""Shared pytest set-up: the source tree and the board the tests use."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from nuwa.board import DEFAULT_BOARD

TOP = Path(__file__).resolve().parents[1]
BOARD = os.environ.get("NUWA_TEST_BOARD", DEFAULT_BOARD)


@pytest.fixture(scope="session")
def top() -> Path:
    """The source tree (holds board/, runtime/, out/)."""
    return TOP


@pytest.fixture(scope="session")
def board_name() -> str:
    """The board the system tests boot (NUWA_TEST_BOARD, default qemu-arm-virt)."""
    return BOARD

