"""Test app: every call of the App API, driven by requests (tests/runtime/test_pyfw.py).

Requests: "info" (name, args, mode as JSON), "timers" (arm a one-shot, a
cancelled one-shot and a repeating timer), "fired" (what fired, JSON),
"stop-repeat" (cancel the repeating timer), "pipe TEXT" (write TEXT to a
pipe the loop watches), "read" (what the watch callback read), "unwatch",
"quit N" (the app exits with status N after replying).
"""

from __future__ import annotations

import json
import os

import nuwa_platform


class Api:
    def __init__(self, app: nuwa_platform.App) -> None:
        self.app = app
        self.fired: list[str] = []
        self.repeats = 0
        self.repeat_id = 0
        self.read = b""
        self.rfd, self.wfd = os.pipe()
        app.watch_fd(self.rfd, self.on_readable)

    def on_readable(self, fd: int, revents: int) -> None:
        self.read += os.read(fd, 4096)

    def tick(self) -> None:
        self.repeats += 1

    def request(self, text: str) -> str:
        cmd, _, arg = text.partition(" ")
        if cmd == "info":
            return json.dumps({"name": self.app.name, "args": self.app.args,
                               "mode": self.app.mode})
        if cmd == "timers":
            self.app.add_timer(20, lambda: self.fired.append("once"))
            doomed = self.app.add_timer(20, lambda: self.fired.append("cancelled"))
            self.repeat_id = self.app.add_timer(20, self.tick, repeat=True)
            return json.dumps({"cancel": self.app.cancel_timer(doomed),
                               "cancel_again": self.app.cancel_timer(doomed)})
        if cmd == "fired":
            return json.dumps({"fired": self.fired, "repeats": self.repeats})
        if cmd == "stop-repeat":
            return json.dumps({"cancel": self.app.cancel_timer(self.repeat_id),
                               "repeats": self.repeats})
        if cmd == "pipe":
            os.write(self.wfd, arg.encode())
            return "written"
        if cmd == "read":
            return self.read.decode()
        if cmd == "unwatch":
            return json.dumps({"unwatch": self.app.unwatch_fd(self.rfd),
                               "again": self.app.unwatch_fd(self.rfd)})
        if cmd == "quit":
            self.app.quit(int(arg))
            return "bye"
        raise ValueError(f"unknown request {text!r}")


def main(app: nuwa_platform.App) -> None:
    api = Api(app)
    app.on_request(api.request)
    app.ready()
