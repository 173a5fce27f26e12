"""The config key table (runtime/common/conf_keys.c) against its readers:
docs/runtime.md's key tables and retired keys, the fields the keys set, the
loader's defaults and the one error a retired key gets. The table is read
through `nuwad --config-keys --json`, the format docs/runtime.md names."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

from nuwad_harness import LEAK_CHECK_ENV, TOP, assert_refused_config

COLUMNS = ("key", "value", "default", "meaning")
SECTION_LEADS = {"daemon": "`[daemon]`", "framework": "`[framework]`", "app": "`[app NAME]`"}
# Keys whose field has another name, and why: a count-and-array pair keeps
# the C names; [app] framework is resolved after reading (framework is the
# index); net fills two lists.
FIELD_NOT_KEY = {("framework", "args"): "argv", ("app", "args"): "argv",
                 ("app", "framework"): "framework_name", ("app", "net"): "net_connect",
                 ("daemon", "include"): None}


def run(build: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(build / args[0]), *args[1:]], check=check, capture_output=True,
                          text=True, timeout=30, env={**os.environ, **LEAK_CHECK_ENV})


def table(build: Path) -> dict[str, Any]:
    listing: dict[str, Any] = json.loads(run(build, "nuwad", "--config-keys", "--json").stdout)
    assert listing["keys"]
    return listing


def cells(row: str) -> list[str]:
    """A markdown table row's cells: split on unescaped pipes, `\\|` kept as
    a pipe, code marks dropped."""
    parts = re.split(r"(?<!\\)\|", row.strip().strip("|"))
    return [p.strip().replace("\\|", "|").strip("`") for p in parts]


def config_section() -> str:
    text = (TOP / "docs" / "runtime.md").read_text()
    return re.split(r"\n## ", text.split("\n## Config file\n", 1)[1], maxsplit=1)[0]


def rows_after(text: str, lead: str) -> list[list[str]]:
    """The rows of the first table after the paragraph starting with LEAD."""
    start = text.index("\n" + lead) + 1
    lines = text[start:].splitlines()
    first = next(i for i, ln in enumerate(lines) if ln.startswith("|"))
    rows = []
    for ln in lines[first:]:
        if not ln.startswith("|"):
            break
        rows.append(cells(ln))
    return rows


def documented() -> dict[tuple[str, str], dict[str, str]]:
    """docs/runtime.md's key tables, by (section, key)."""
    text = config_section()
    docs: dict[tuple[str, str], dict[str, str]] = {}
    for section, lead in SECTION_LEADS.items():
        rows = rows_after(text, lead)
        assert tuple(rows[0]) == COLUMNS, (section, rows[0])
        for row in rows[2:]:
            entry = dict(zip(COLUMNS, row, strict=True))
            assert (section, entry["key"]) not in docs, f"[{section}] {entry['key']} documented twice"
            docs[(section, entry["key"])] = entry
    return docs


def test_runtime_md_documents_every_key_as_the_table_says(build: Path) -> None:
    keys = table(build)["keys"]
    docs = documented()
    assert sorted(docs) == sorted((k["section"], k["key"]) for k in keys), \
        "docs/runtime.md and the key table differ"
    for k in keys:
        doc = docs[(k["section"], k["key"])]
        assert doc["value"] == k["value"], (k, doc)
        assert doc["default"] == k["default"], (k, doc)
        assert doc["meaning"] and k["doc"], k


def test_runtime_md_lists_every_retired_key(build: Path) -> None:
    retired = table(build)["retired"]
    rows = rows_after(config_section(), "Retired keys")
    assert tuple(rows[0]) == ("section", "key", "replaced by")
    documented_keys = sorted((r[0].strip("[]"), r[1]) for r in rows[2:])
    assert documented_keys == sorted((r["section"], r["key"]) for r in retired)
    for r in retired:
        row = next(x for x in rows[2:] if x[1] == r["key"])
        assert (r["renamed_to"] or "removed") in row[2], (r, row)


def test_every_field_is_named_as_its_key(build: Path) -> None:
    for k in table(build)["keys"]:
        want = FIELD_NOT_KEY.get((k["section"], k["key"]), k["key"])
        assert k["field"] == want, k


def test_ranges_and_values_agree(build: Path) -> None:
    for k in table(build)["keys"]:
        if k["range"] is not None:
            lo, hi = k["range"]
            assert lo <= hi and k["value"] == f"{lo}..{hi}", k
            if k["default"].lstrip("-").isdigit():
                assert lo <= int(k["default"]) <= hi, k


def test_help_text_lists_every_key(build: Path) -> None:
    text = run(build, "nuwad", "--config-keys").stdout
    for k in table(build)["keys"]:
        assert f"  {k['key']} = {k['value']}  (default: {k['default']})" in text, k
        assert k["doc"] in text, k


def test_every_retired_key_is_one_error_naming_its_replacement(build: Path, tmp_path: Path) -> None:
    rows = table(build)["retired"]
    assert rows
    for r in rows:
        head = {"daemon": "[daemon]\n", "framework": "[framework]\nlibrary = /x.so\n",
                "app": "[framework]\nlibrary = /x.so\n[app a]\n"}[r["section"]]
        text = f"{head}{r['key']} = something\n"
        line = text.count("\n")
        assert_refused_config(build, tmp_path, text, line, f"{r['key']} was ")
        res = run(build, "nuwad", "--foreground", "--config", str(tmp_path / "bad.conf"),
                  "--socket", str(tmp_path / "s"), "--state-dir", str(tmp_path / "st"), check=False)
        assert (r["renamed_to"] or r["why"]) in res.stderr, res.stderr


def test_a_renamed_key_is_one_error_naming_its_successor(build: Path, tmp_path: Path) -> None:
    # nuwa-conf-check loads as nuwad does, with one test-only row: [daemon]
    # tick_period_ms renamed to tick_ms (no key has been renamed yet).
    conf = tmp_path / "old.conf"
    conf.write_text("[daemon]\n# an old config\ntick_period_ms = 500\n")
    res = run(build, "nuwa-conf-check", str(conf), check=False)
    assert res.returncode == 1
    assert res.stderr.strip().splitlines() == [
        f"{conf}:3: tick_period_ms was renamed to tick_ms: write 'tick_ms = 500'"], res.stderr
    conf.write_text("[daemon]\ntick_ms = 500\n")
    assert run(build, "nuwa-conf-check", str(conf)).stdout == "ok tick_ms=500\n"
    # The row is the test's own: nuwad does not know tick_period_ms at all.
    assert_refused_config(build, tmp_path, "[daemon]\ntick_period_ms = 500\n", 2,
                          "unknown key 'tick_period_ms' in [daemon]")
