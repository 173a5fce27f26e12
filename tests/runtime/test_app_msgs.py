"""The app message table (runtime/nuwad/app_msgs.h) and the door that reads
every message an app sends against it (issue 19 item 3, issue 20 item 1):
docs/protocol.md's list matches the table, and a hostile app's text reaches
no log line, launch error or reply uncleaned, nor floods the log."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from nuwad_harness import Nuwad, wait_for

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "runtime" / "nuwad" / "app_msgs.h"
STATE_WORDS = {"APP_STARTING": "starting", "APP_RUNNING": "running", "APP_STOPPING": "stopping",
               "APP_SPARE": "spare"}
TEXT_WORDS = {"DOOR_NONE": "none", "DOOR_LINE": "line", "DOOR_LINES": "lines"}
FORGED = "nuwad[1]: control: root launched FORGED"


def table_rows() -> dict[str, tuple[str, str, str]]:
    """name -> (states, kept, cleaned) from the X-macro rows."""
    text = TABLE.read_text().replace("\\\n", " ")
    rows: dict[str, tuple[str, str, str]] = {}
    for m in re.finditer(r'X\(\s*\w+,\s*\w+,\s*"(\w+)",\s*(\w+),\s*(\w+),\s*(.*?),\s*(DOOR_\w+),', text):
        name, _max, keep, states, how = m.groups()
        states = states.replace("IN_LIVE", "IN(APP_STARTING) | IN(APP_RUNNING) | IN(APP_STOPPING)")
        words = [STATE_WORDS[s] for s in re.findall(r"IN\((\w+)\)", states)]
        kept = "8192" if keep == "NUWA_MSG_MAX_PAYLOAD" else keep
        rows[name] = (", ".join(words), kept, TEXT_WORDS[how])
    return rows


def doc_rows() -> dict[str, tuple[str, str, str]]:
    text = (ROOT / "docs" / "protocol.md").read_text()
    section = text.split("### What nuwad takes from an app: the door", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, str, str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] not in ("message", "---"):
            rows[cells[0]] = (cells[1], cells[2], cells[3])
    return rows


def test_the_docs_list_every_row_of_the_table() -> None:
    table = table_rows()
    assert len(table) == 8, table  # the parser read every row
    assert doc_rows() == table


def test_forged_trim_answers_and_errors_are_refused_and_barely_logged(nuwad: Nuwad) -> None:
    pid = nuwad.call("launch", "echo", "--no-spare")["pid"]
    before = nuwad.log.stat().st_size
    got = nuwad.call("call", str(pid), "forge 2000")["reply"]
    assert got == "forged 4000", got
    assert nuwad.call("app-ping", str(pid))["pid"] == pid  # all of it was read
    grown = nuwad.log.read_text(errors="replace")[before:]
    assert FORGED not in grown.replace("?", "")  # no line of the app's poses as nuwad's
    assert "\x1b" not in grown
    assert grown.count(f"(pid {pid})") <= 10, grown[-2000:]  # 4000 messages, a few lines
    assert "no longer logged" in grown
    assert len(grown) < 4096, len(grown)


def test_a_start_failure_reason_is_one_clean_line(start_nuwad: Callable[..., Nuwad], build: Path) -> None:
    d = start_nuwad(apps=f"""
[app forger]
library = {build}/app-echo.so
args = --fail-forged
""")
    status, body = d.request("launch", "forger")
    assert status != 0
    text = body.decode()
    assert "FORGED" in text and "\n" not in text and "\x1b" not in text and "\r" not in text
    wait_for(lambda: "failed to start" in d.log_tail(), 10, "the failure logged")
    line = next(li for li in d.log_tail().splitlines() if "failed to start" in li)
    assert "FORGED" in line and "\x1b" not in line and "\r" not in line
    assert not any(li.lstrip().startswith("2026-01-01T00:00:00 nuwad[1]") for li in d.log_tail().splitlines())


def test_a_reply_reaches_the_client_without_terminal_escapes(nuwad: Nuwad) -> None:
    pid = nuwad.call("launch", "echo", "--no-spare")["pid"]
    assert nuwad.call("call", str(pid), "escape")["reply"] == "a?[2Jb?c\nd\te"


def test_the_door_counts_what_it_refused_and_nuwad_keeps_serving(nuwad: Nuwad) -> None:
    pid = nuwad.call("launch", "echo", "--no-spare")["pid"]
    nuwad.call("call", str(pid), "forge 50")
    other = nuwad.call("launch", "echo", "--no-spare")["pid"]
    assert nuwad.call("app-ping", str(other))["pid"] == other
    rows = {a["pid"]: a for a in nuwad.call("list")}  # type: ignore[union-attr]
    assert {p: r["state"] for p, r in rows.items()} == {pid: "running", other: "running"}
    # 100 forged messages refused, counted against the app that sent them only
    assert rows[pid]["door"]["refused"] >= 100 and rows[pid]["door"]["messages"] >= 100
    assert rows[other]["door"]["refused"] == 0
