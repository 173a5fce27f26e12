"""Progress lines on stderr while a bench runs (stdout stays for the table or --json)."""
from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


class Progress:
    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.start = time.monotonic()
        self._lock = threading.Lock()  # `nuwa bench --parallel`: one line at a time

    def __call__(self, message: str) -> None:
        if self.quiet:
            return
        elapsed = time.monotonic() - self.start
        with self._lock:
            print(f"[{elapsed:6.1f}s] {message}", file=self.stream, flush=True)

    def step(self, what: str, done: int, total: int) -> None:
        """One line per step, but only every ~10 % so a long phase stays readable."""
        every = max(1, total // 10)
        if done == total or done % every == 0 or done == 1:
            self(f"{what} {done}/{total}")
