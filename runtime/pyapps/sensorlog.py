"""Sensorlog: a sensor logger on timers, sqlite3 and json (sample app).

A fast timer samples three simulated sensors into an in-memory sqlite3
table; a slower one rolls the last second up into a JSON summary
(min/mean/max per sensor) and drops raw rows older than a minute, so the
working set is a bounded table plus the summaries.

Requests: "status", "summary" (the latest roll-up, JSON), "history N"
(the N latest roll-ups, JSON), "query SENSOR" (its rows in the table).
"""

from __future__ import annotations

import json
import math
import random
import sqlite3
import time

import nuwa_platform

SENSORS = ("temp_c", "humidity_pct", "pressure_hpa")


class SensorLog:
    def __init__(self, app: nuwa_platform.App) -> None:
        self.app = app
        self.db = sqlite3.connect(":memory:")
        self.db.executescript(
            "CREATE TABLE sample(t REAL, sensor TEXT, value REAL);"
            "CREATE INDEX sample_t ON sample(t);")
        self.summaries: list[str] = []
        self.samples = 0
        self.rollups = 0

    def read_sensors(self) -> None:
        """Fast periodic work: one reading of each sensor."""
        t = time.time()
        phase = math.sin(t / 30)
        values = (20 + 3 * phase + random.gauss(0, 0.2), 45 + 10 * phase + random.gauss(0, 1),
                  1013 + random.gauss(0, 0.5))
        self.db.executemany("INSERT INTO sample VALUES (?, ?, ?)",
                            [(t, s, v) for s, v in zip(SENSORS, values, strict=True)])
        self.samples += 1

    def roll_up(self) -> None:
        """Slow periodic work: summarise the last second, expire old rows."""
        now = time.time()
        rows = self.db.execute(
            "SELECT sensor, min(value), avg(value), max(value), count(*) FROM sample "
            "WHERE t > ? GROUP BY sensor ORDER BY sensor", (now - 1,)).fetchall()
        summary = {"t": round(now, 3), "sensors": {
            s: {"min": round(lo, 2), "mean": round(mean, 2), "max": round(hi, 2), "n": n}
            for s, lo, mean, hi, n in rows}}
        self.summaries.append(json.dumps(summary, sort_keys=True))
        del self.summaries[:-120]
        self.db.execute("DELETE FROM sample WHERE t < ?", (now - 60,))
        self.rollups += 1

    def request(self, text: str) -> str:
        cmd, _, arg = text.partition(" ")
        if cmd == "status":
            rows = self.db.execute("SELECT count(*) FROM sample").fetchone()[0]
            return (f"sensorlog samples={self.samples} rollups={self.rollups} rows={rows} "
                    f"mode={self.app.mode}")
        if cmd == "summary":
            return self.summaries[-1] if self.summaries else "{}"
        if cmd == "history":
            return "[" + ",".join(self.summaries[-int(arg or 10):]) + "]"
        if cmd == "query":
            n = self.db.execute("SELECT count(*) FROM sample WHERE sensor = ?", (arg,)).fetchone()
            return str(n[0])
        raise ValueError(f"unknown request {text!r} (want status, summary, history N, query S)")

    def trim(self, level: str) -> int:
        kept = 10 if level == "running-low" else 60
        freed = max(0, len(self.summaries) - kept)
        del self.summaries[:-kept]
        self.db.execute("DELETE FROM sample WHERE t < ?", (time.time() - 5,))
        return freed * 300 // 1024


def main(app: nuwa_platform.App) -> None:
    s = SensorLog(app)
    app.on_request(s.request)
    app.on_trim(s.trim)
    app.add_timer(100, s.read_sensors, repeat=True)
    app.add_timer(1000, s.roll_up, repeat=True)
    s.read_sensors()
    app.ready()
