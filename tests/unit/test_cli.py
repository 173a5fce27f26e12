"""The `nuwa` command line: subcommands registered, bad input -> one error line."""
from __future__ import annotations

import pytest
from nuwa import cli


def test_subcommands_are_registered() -> None:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert {"image", "run", "exec", "demo", "image-bench"} <= set(sub.choices)


def test_unknown_board_is_one_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["image", "--board", "no-such-board", "--offline"]) == 1
    err = capsys.readouterr().err
    assert err.count("nuwa: error:") == 1
    assert "unknown board 'no-such-board'" in err


def test_exec_without_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["exec", "--"]) == 1
    assert "nothing to run" in capsys.readouterr().err


def test_bad_target_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["exec", "--target", "telnet://x", "--", "true"]) == 1
    assert "bad target 'telnet://x'" in capsys.readouterr().err
