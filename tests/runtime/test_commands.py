"""The control command table (runtime/common/ctl_commands.h) against its
readers: docs/protocol.md's command list, the read-only lists of
docs/protocol.md and docs/security.md, docs/runtime.md's nuwactl synopsis,
nuwactl --help, nuwad's usage errors and its rights checks. The table is read
through `nuwactl --help --json`, the format docs/protocol.md documents."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nuwad_harness import LEAK_CHECK_ENV, TOP, Nuwad, write_config

DOCS = TOP / "docs"
ROOT = os.geteuid() == 0
COLUMNS = ("command", "arguments", "rights", "answered", "what it does")


def table(build: Path) -> list[dict[str, Any]]:
    res = subprocess.run([str(build / "nuwactl"), "--help", "--json"], check=True,
                         capture_output=True, text=True, timeout=30, env={**os.environ, **LEAK_CHECK_ENV})
    commands: list[dict[str, Any]] = json.loads(res.stdout)["commands"]
    assert commands
    return commands


def cells(row: str) -> list[str]:
    """A markdown table row's cells: split on unescaped pipes, `\\|` kept as
    a pipe, code marks dropped."""
    parts = re.split(r"(?<!\\)\|", row.strip().strip("|"))
    return [p.strip().replace("\\|", "|").strip("`") for p in parts]


def documented() -> dict[str, dict[str, str]]:
    """docs/protocol.md's command table (section "### Commands"), by name."""
    text = (DOCS / "protocol.md").read_text()
    section = text.split("\n### Commands\n", 1)[1]
    section = re.split(r"\n##+ ", section, maxsplit=1)[0]
    rows = [ln for ln in section.splitlines() if ln.startswith("|")]
    assert tuple(cells(rows[0])) == COLUMNS, rows[0]
    docs: dict[str, dict[str, str]] = {}
    for row in rows[2:]:
        entry = dict(zip(COLUMNS, cells(row), strict=True))
        assert entry["command"] not in docs, f"{entry['command']} documented twice"
        docs[entry["command"]] = entry
    return docs


def test_protocol_md_lists_every_command_as_the_table_says(build: Path) -> None:
    commands = table(build)
    docs = documented()
    names = [c["name"] for c in commands]
    assert sorted(docs) == sorted(names), "docs/protocol.md and the command table differ"
    for c in commands:
        doc = docs[c["name"]]
        assert doc["arguments"] == c["args"], (c["name"], doc, c)
        assert doc["rights"] == c["rights"], (c["name"], doc, c)
        assert doc["answered"] == c["answer"], (c["name"], doc, c)
        assert doc["what it does"], c["name"]


def test_read_only_lists_in_the_docs_agree(build: Path) -> None:
    read_only = sorted(c["name"] for c in table(build) if c["rights"] == "read-only")
    for doc, lead in (("protocol.md", "only the read-only ones"),
                      ("security.md", "read-only ones:")):
        text = (DOCS / doc).read_text()
        listed = text.split(lead, 1)[1].split(")", 1)[0].split(";", 1)[0]
        assert sorted(re.findall(r"`([a-z-]+)`", listed)) == read_only, doc


def test_runtime_md_synopsis_names_every_command(build: Path) -> None:
    text = (DOCS / "runtime.md").read_text()
    synopsis = text.split("\n## nuwactl\n", 1)[1].split("\n\n", 1)[0]
    # each line's first word, at six spaces, and every word after " | "
    named = set(re.findall(r"(?:^ {6}|\| )([a-z][a-z-]*)", synopsis, re.MULTILINE))
    assert named == {c["name"] for c in table(build)}, synopsis


def test_help_lists_every_command(build: Path) -> None:
    res = subprocess.run([str(build / "nuwactl"), "--help"], check=True, capture_output=True,
                         text=True, timeout=30, env={**os.environ, **LEAK_CHECK_ENV})
    lines = [ln.strip() for ln in res.stdout.splitlines()]
    for c in table(build):
        usage, help_text = c["usage"], c["help"]
        assert any(ln.startswith(usage) for ln in lines), usage
        assert any(ln.endswith(help_text) for ln in lines), help_text
    # Without a command: the same help, on stderr, exit status 2 (usage).
    res = subprocess.run([str(build / "nuwactl")], check=False, capture_output=True, text=True,
                         timeout=30, env={**os.environ, **LEAK_CHECK_ENV})
    assert res.returncode == 2 and all(c["usage"] in res.stderr for c in table(build))


def test_wrong_argument_counts_get_the_tables_usage_line(nuwad: Nuwad) -> None:
    for c in table(nuwad.build):
        counts = [c["min_args"] - 1] if c["min_args"] > 0 else []
        if c["max_args"] is not None:
            counts.append(c["max_args"] + 1)
        for count in counts:
            status, body = nuwad.request(c["name"], *["x"] * count)
            assert (status, body.decode()) == (1, f"usage: {c['usage']}"), (c["name"], count)
    status, body = nuwad.request("frobnicate")
    assert (status, body) == (1, b"unknown command 'frobnicate'")
    assert nuwad.call("ping")["pong"] is True  # type: ignore[index]


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A work dir another uid can search, so that nuwad's own check decides."""
    path = Path(tempfile.mkdtemp(prefix="nuwa-commands-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.skipif(not ROOT, reason="a status peer needs another uid (CI runs the tests as root)")
def test_a_status_peer_may_use_the_read_only_rows_only(build: Path, open_dir: Path) -> None:
    conf = write_config(open_dir / "nuwad.conf", build,
                        daemon="socket_group = nogroup\nstatus_group = nogroup")
    d = Nuwad(build, open_dir, conf, LEAK_CHECK_ENV)
    try:
        d.wait_ready()

        def as_status_peer(*words: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([str(build / "nuwactl"), "--socket", str(d.sock), *words],
                                  check=False, capture_output=True, text=True, timeout=30,
                                  user=65533, group=65533, extra_groups=[65534],
                                  env={**os.environ, **LEAK_CHECK_ENV})

        for c in table(build):
            res = as_status_peer(c["name"], *["echo"] * c["min_args"])
            denied = "permission denied" in res.stderr
            assert denied == (c["rights"] == "control"), (c["name"], res.stderr)
        assert "permission denied" in as_status_peer("frobnicate").stderr  # not in the table
        assert d.call("list") == []
    finally:
        d.stop()
