"""`nuwa bench --platform`: which framework's apps a run measures, and whose template.

A platform is an app framework of the device: its apps are the ones launched, its template
and spare are the ones whose memory is the template's cost, whose RSS the raw fork copies
and whose readiness every launch through the spare waits for, and its issue's targets are
the goals the report judges (bench/goals.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from nuwa.errors import NuwaError

DEFAULT_FRAMEWORK = "default"  # nuwad's name of the `[framework]` section (the C one)
INCLUDED = re.compile(r"\.d/[^/]+:\d+$")  # defined_at "DIR.d/NAME.conf:LINE"


@dataclass(frozen=True)
class Platform:
    name: str        # the --platform value
    framework: str   # nuwad's framework name (`framework = NAME` of its apps)
    title: str       # how report.md names it

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "framework": self.framework, "title": self.title}


C = Platform("c", DEFAULT_FRAMEWORK, "C apps (the default framework, libnuwafw)")
PYTHON = Platform("python", "python", "Python apps (framework python, libnuwapy)")
PLATFORMS = {p.name: p for p in (C, PYTHON)}


def parse_platform(text: str | None) -> Platform:
    """--platform NAME; an unknown name is one clear error listing the known ones."""
    if text is None or text == "":
        return C
    found = PLATFORMS.get(text.strip().lower())
    if found is None:
        raise NuwaError(f"--platform {text!r}: unknown platform (known: "
                        f"{', '.join(PLATFORMS)})")
    return found


def framework_entry(answer: Any, name: str) -> dict[str, Any] | None:
    """The `frameworks` object of framework NAME in a `stats` or `template-status` answer."""
    if not isinstance(answer, dict):
        return None
    for fw in answer.get("frameworks") or []:
        if isinstance(fw, dict) and fw.get("framework") == name:
            return fw
    return None


def spare_ready(entry: dict[str, Any]) -> bool:
    """A template-status object (top level or a framework's): ready and, when the spare is
    on, a spare forked."""
    if entry.get("state") != "ready":
        return False
    return entry.get("spare_pid") is not None or not entry.get("spare_enabled", True)


def framework_status(status: Any, name: str) -> dict[str, Any] | None:
    """template-status of framework NAME: the top-level fields for the default framework
    (older nuwads have no `frameworks`), its `frameworks` entry for any other."""
    if not isinstance(status, dict):
        return None
    if name == DEFAULT_FRAMEWORK:
        return status
    return framework_entry(status, name)


def framework_ready(status: Any, name: str) -> bool:
    """template-status: framework NAME's template is ready and its spare forked (if on)."""
    entry = framework_status(status, name)
    return entry is not None and spare_ready(entry)


def framework_memory(stats: dict[str, Any], name: str) -> dict[str, Any]:
    """`stats`' template and spare memory objects of framework NAME (None when absent):
    the top-level ones are the default framework's."""
    if name == DEFAULT_FRAMEWORK:
        return {k: stats.get(k) for k in ("template", "spare")}
    entry = framework_entry(stats, name) or {}
    return {k: entry.get(k) for k in ("template", "spare")}


def platform_apps(answer: Any, framework: str = DEFAULT_FRAMEWORK) -> list[str]:
    """The apps of FRAMEWORK that `nuwactl apps` lists from include directories
    (`apps.d/*.conf`: the platform's apps); the main config's own sections (the runtime's
    test app) only when there are no others."""
    apps = [a for a in answer if isinstance(a, dict) and a.get("name")] \
        if isinstance(answer, list) else []
    if not apps:
        raise NuwaError(f"the target has no configured apps ({answer!r})")
    mine = [a for a in apps if a.get("framework", DEFAULT_FRAMEWORK) == framework]
    if not mine:
        raise NuwaError(f"the target has no apps of framework {framework!r} (its apps: "
                        f"{', '.join(a['name'] for a in apps)})")
    chosen = [a["name"] for a in mine if INCLUDED.search(str(a.get("defined_at", "")))]
    return chosen or [a["name"] for a in mine]


def check_apps(answer: Any, names: list[str], framework: str) -> None:
    """--apps with --platform: every named app is configured and on the platform's
    framework (its template is the one measured)."""
    known = {a["name"]: a.get("framework", DEFAULT_FRAMEWORK) for a in answer
             if isinstance(a, dict) and a.get("name")} if isinstance(answer, list) else {}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise NuwaError(f"--apps: no app {', '.join(map(repr, unknown))} on the target "
                        f"(configured: {', '.join(known)})")
    other = [n for n in names if known[n] != framework]
    if other:
        hint = next((p.name for p in PLATFORMS.values() if p.framework == known[other[0]]),
                    None)
        raise NuwaError("--apps: " + ", ".join(f"{n} (framework {known[n]})" for n in other)
                        + f" not on framework {framework!r}, whose template this run measures"
                        + (f"; use --platform {hint}" if hint else ""))
