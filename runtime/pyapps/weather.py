"""Weather: a JSON request handler with a periodic reading (sample app).

Requests: "status", "forecast CITY" (JSON), "random" (a fresh random number:
each app process has its own random state), "platform" (what the
platform's start-up built, seen from this process).
"""

from __future__ import annotations

import json
import random
import time

import nuwa_platform


class Weather:
    def __init__(self, app: nuwa_platform.App) -> None:
        self.app = app
        self.readings: list[dict[str, float]] = []
        self.ticks = 0

    def sample(self) -> None:
        """Periodic work: a simulated sensor reading, the last hour kept."""
        self.ticks += 1
        self.readings.append({"t": time.time(), "temp_c": round(random.gauss(18.0, 4.0), 1),
                              "wind_ms": round(random.uniform(0, 12), 1)})
        del self.readings[:-60]

    def forecast(self, city: str) -> str:
        rng = random.Random(city)  # a city's forecast is stable
        days = [{"day": d, "high_c": round(rng.uniform(12, 28), 1),
                 "rain_pct": rng.randrange(0, 100, 5)} for d in range(3)]
        return json.dumps({"city": city, "days": days, "units": "metric"})

    def request(self, text: str) -> str:
        if text == "status":
            return f"weather ticks={self.ticks} readings={len(self.readings)} mode={self.app.mode}"
        if text.startswith("forecast "):
            return self.forecast(text[len("forecast "):].strip())
        if text == "random":
            return str(random.getrandbits(64))
        if text == "platform":
            p = nuwa_platform.profile
            return " ".join(f"{k}={p[k]}" for k in sorted(p))
        raise ValueError(f"unknown request {text!r} (want status, forecast CITY, random, platform)")

    def trim(self, level: str) -> int:
        kept = 1 if level == "running-low" else 10
        freed = max(0, len(self.readings) - kept)
        del self.readings[:-kept]
        return freed * 200 // 1024


def main(app: nuwa_platform.App) -> None:
    w = Weather(app)
    app.on_request(w.request)
    app.on_trim(w.trim)
    app.add_timer(100, w.sample, repeat=True)
    w.sample()
    app.ready()
