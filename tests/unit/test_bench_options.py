"""`nuwa bench`'s options as one dataclass: the command line and `nuwa demo` build it, its
defaults are the command line's, and it says which command asks for the run."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest
from nuwa.bench.options import BenchOptions
from nuwa.cli import build_parser
from nuwa.errors import NuwaError


def parsed(*argv: str) -> BenchOptions:
    return BenchOptions.from_args(build_parser().parse_args(["bench", *argv]))


def test_the_command_line_without_options_gives_the_defaults() -> None:
    assert parsed() == BenchOptions()


def test_every_option_reaches_its_field() -> None:
    opts = parsed("--quick", "--repeat", "3", "--modes", "template,exec", "--platform",
                  "python", "--apps", "weather,todo", "--phases", "apps,fill", "--json",
                  "--lmk-threshold-kb", "9000", "--mem", "512", "--out", "/tmp/r",
                  "--target", "ssh://root@b:22", "--accept-new-host-key")
    assert asdict(opts) == {
        "board": "qemu-arm-virt", "mem": 512, "target": "ssh://root@b:22",
        "out": Path("/tmp/r"), "quick": True, "repeat": 3, "parallel": False,
        "modes": "template,exec", "json": True, "platform": "python",
        "apps": "weather,todo", "phases": "apps,fill", "lmk_threshold_kb": 9000,
        "accept_new_host_key": True}
    assert opts.app_list == ["weather", "todo"] and opts.phase_set == {"apps", "fill"}
    assert opts.command_line() == ("nuwa bench --quick --repeat 3 --modes template,exec "
                                   "--platform python --apps weather,todo --target "
                                   "ssh://root@b:22 --phases apps,fill")


def test_the_demo_asks_for_the_quick_bench_of_template_and_exec() -> None:
    opts = BenchOptions.for_demo("qemu-arm-virt", None, None, Path("/tmp/x"))
    assert opts.command_line() == "nuwa bench --quick --modes template,exec --parallel"
    assert not BenchOptions.for_demo("qemu-arm-virt", 256, "ssh://root@b:22", None).parallel


@pytest.mark.parametrize(("opts", "message"), [
    (BenchOptions(modes="exec"), "template and exec are needed"),
    (BenchOptions(phases="apps,nap"), "unknown 'nap'"),
    (BenchOptions(platform="java"), "java"),
    (BenchOptions(parallel=True, target="ssh://root@b:22"), "--parallel needs"),
])
def test_check_says_what_is_wrong(opts: BenchOptions, message: str) -> None:
    with pytest.raises(NuwaError, match=message):
        opts.check()
