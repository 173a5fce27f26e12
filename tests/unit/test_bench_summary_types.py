"""bench.summary_types: report.json's summary read as typed records, old reports too."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from nuwa.bench.summary_types import Described, Summary, need, view

DATA = Path(__file__).parent / "data" / "reports"


def summary(name: str) -> Summary:
    return Summary.from_json(json.loads((DATA / f"report_{name}.json").read_text())["summary"])


def test_a_full_summary_is_read_with_its_numbers_as_the_json_had_them() -> None:
    s = summary("synthetic")
    assert s.modes == ["template", "exec", "exec+ksm"]
    assert s.launch_ms is not None and isinstance(s.launch_ms["template"], Described)
    assert s.ksm is not None and s.ksm.series and s.vs_ksm is not None
    assert s.template_costs is not None and set(s.template_costs) == {"uss_kb", "pss_kb",
                                                                      "written_kb"}
    assert isinstance(need(s.apps_until_lmk, "apps_until_lmk")["template"], int)
    assert view(s) is s


def test_an_older_summary_lacks_parts_and_a_table_names_the_one_it_needs() -> None:
    s = summary("old")
    assert s.template_costs is None and s.category_uss_kb is None and s.ran is None
    assert s.per_app_uss_kb is not None
    with pytest.raises(KeyError, match="category_uss_kb"):
        need(s.category_uss_kb, "category_uss_kb")


def test_a_failed_summary_has_only_its_modes_and_errors() -> None:
    s = summary("failed")
    assert s.modes == ["template", "exec"] and s.per_app_uss_kb is None and s.ksm is None
    assert s.raw["errors"]
