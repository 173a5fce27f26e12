"""What one `nuwa bench` run is asked to do: its options as one dataclass.

`nuwa bench` builds it from its command line (`from_args`), `nuwa demo` from its own
(`for_demo`): every field has its command line's default, so a caller that does not ask for
something gets what `nuwa bench` without that option gets. `check()` turns bad input into
one clear error before anything boots.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, fields
from pathlib import Path

from nuwa.bench.platforms import Platform, parse_platform
from nuwa.bench.results import DEFAULT_MODES, EXEC, MODES, TEMPLATE
from nuwa.bench.runner import PHASE_KEYS
from nuwa.board import DEFAULT_BOARD
from nuwa.errors import NuwaError

ALL_MODES = ",".join(DEFAULT_MODES)
# The KSM column needs one more guest: it does not fit make demo's 10 minutes.
DEMO_MODES = (TEMPLATE, EXEC)


def parse_modes(text: str) -> list[str]:
    modes = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        raise NuwaError(f"unknown mode {', '.join(map(repr, unknown))} (known: "
                        f"{', '.join(MODES)})")
    if len(set(modes)) != len(modes) or "template" not in modes or "exec" not in modes:
        raise NuwaError(f"--modes {text!r}: template and exec are needed (each once); "
                        "exec+ksm is optional")
    return modes


def parse_phases(text: str | None) -> set[str] | None:
    if not text:
        return None
    phases = {p.strip() for p in text.split(",") if p.strip()}
    unknown = sorted(phases - set(PHASE_KEYS))
    if unknown or not phases:
        raise NuwaError(f"--phases {text!r}: unknown {', '.join(map(repr, unknown)) or 'empty'} "
                        f"(known: {', '.join(PHASE_KEYS)})")
    return phases


@dataclass(frozen=True)
class BenchOptions:
    """`nuwa bench`'s options, named and defaulted as on its command line."""

    board: str = DEFAULT_BOARD
    mem: int | None = None                # guest MiB (None: the board's)
    target: str | None = None             # a running board's URL instead of fresh guests
    out: Path | None = None               # report directory (None: out/bench/<stamp>/)
    quick: bool = False
    repeat: int = 1
    parallel: bool = False                # the modes' guests at the same time
    modes: str = ALL_MODES                # comma-separated, as given
    json: bool = False                    # print the summary as JSON
    platform: str = "c"
    apps: str | None = None               # comma-separated (None: the platform's)
    phases: str | None = None             # comma-separated (None: all)
    lmk_threshold_kb: int | None = None
    accept_new_host_key: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> BenchOptions:
        """From `nuwa bench`'s parsed command line (which has every field)."""
        return cls(**{f.name: getattr(args, f.name) for f in fields(cls)})

    @classmethod
    def for_demo(cls, board: str, mem: int | None, target: str | None,
                 out: Path | None) -> BenchOptions:
        """`nuwa demo`'s C part: the quick bench of template and exec, the two guests at
        once unless one --target board runs them one after the other."""
        return cls(board=board, mem=mem, target=target, out=out, quick=True,
                   modes=",".join(DEMO_MODES), parallel=not target)

    def check(self) -> None:
        """Bad input as one clear error, before anything boots."""
        parse_modes(self.modes)
        parse_phases(self.phases)
        parse_platform(self.platform)
        if self.parallel and self.target:
            raise NuwaError("--parallel needs a fresh guest per mode: one --target board "
                            "runs the modes one after the other")

    @property
    def mode_list(self) -> list[str]:
        return parse_modes(self.modes)

    @property
    def phase_set(self) -> set[str] | None:
        return parse_phases(self.phases)

    @property
    def app_list(self) -> list[str] | None:
        return self.apps.split(",") if self.apps else None

    @property
    def platform_spec(self) -> Platform:
        return parse_platform(self.platform)

    def command_line(self) -> str:
        """The `nuwa bench` command that asks for this run (the report names it)."""
        parts = ["nuwa bench"]
        if self.quick:
            parts.append("--quick")
        if self.repeat != 1:
            parts.append(f"--repeat {self.repeat}")
        if self.modes != ALL_MODES:
            parts.append(f"--modes {self.modes}")
        if self.platform_spec.name != "c":
            parts.append(f"--platform {self.platform_spec.name}")
        if self.apps:
            parts.append(f"--apps {self.apps}")
        if self.target:
            parts.append(f"--target {self.target}")
        if self.parallel:
            parts.append("--parallel")
        if self.phases:
            parts.append(f"--phases {self.phases}")
        return " ".join(parts)
