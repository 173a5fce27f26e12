"""Todo: a notes list on sqlite3 (sample app).

Requests: "status", "add TEXT", "list" (JSON), "done ID", "random".
The database is this process's own (in memory); the statements it runs
are the ones the platform start-up prepared in the template.
"""

from __future__ import annotations

import json
import random
import sqlite3

import nuwa_platform


class Todo:
    def __init__(self, app: nuwa_platform.App) -> None:
        self.app = app
        self.db = sqlite3.connect(":memory:")
        self.db.execute("CREATE TABLE todo(id INTEGER PRIMARY KEY, text TEXT, done INT DEFAULT 0)")
        self.swept = 0

    def sweep(self) -> None:
        """Periodic work: drop finished items."""
        self.swept += self.db.execute("DELETE FROM todo WHERE done = 1").rowcount

    def request(self, text: str) -> str:
        if text == "status":
            n = self.db.execute("SELECT count(*) FROM todo").fetchone()[0]
            return f"todo items={n} swept={self.swept} mode={self.app.mode}"
        if text.startswith("add "):
            cur = self.db.execute("INSERT INTO todo(text) VALUES (?)", (text[4:],))
            return str(cur.lastrowid)
        if text == "list":
            rows = self.db.execute("SELECT id, text, done FROM todo ORDER BY id").fetchall()
            return json.dumps([{"id": i, "text": t, "done": bool(d)} for i, t, d in rows])
        if text.startswith("done "):
            self.db.execute("UPDATE todo SET done = 1 WHERE id = ?", (int(text[5:]),))
            return "ok"
        if text == "random":
            return str(random.getrandbits(64))
        raise ValueError(f"unknown request {text!r} (want status, add TEXT, list, done ID, random)")


def main(app: nuwa_platform.App) -> None:
    t = Todo(app)
    app.on_request(t.request)
    app.add_timer(1000, t.sweep, repeat=True)
    app.ready()
