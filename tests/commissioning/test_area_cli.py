"""``svduty evaluate area`` on the synthetic partnership: the JSON answer, the plot, the
refusals and the errors."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from svduty.cli import app
from svduty.commissioning.area import EvaluationError
from tests.commissioning.conftest import run_on

SVG = "{http://www.w3.org/2000/svg}"


def test_evaluate_area_json_and_plot(warehouse: Any, tmp_path: Path) -> None:
    planted = warehouse.planted["intervention"]
    plot = tmp_path / "es.svg"
    got = run_on(
        warehouse, "evaluate", "area", "--area", planted["csp24_code"],
        "--start", planted["start"], "--plot", str(plot), "--json",
    )  # fmt: skip
    assert got.returncode == 0, got.stderr
    r = json.loads(got.stdout)
    assert r["intervention"] is None
    assert r["treated_areas"] == [planted["csp24_code"]]
    assert len(r["comparison_areas"]) == 5 and planted["csp24_code"] not in r["comparison_areas"]
    assert r["start"] == planted["start"] and r["months_before"] == 12 and r["months_after"] == 12
    assert r["events_before"] > 0 and r["events_after"] > 0
    assert "aged 24 or under" in r["outcome"]
    assert r["supported"] is True and r["reasons"] == []
    for method in ("did", "synthetic_control"):
        m = r[method]
        assert m["ci_low"] < m["estimate"] < m["ci_high"]
        assert -1 < m["estimate"] < 1
    assert abs(sum(r["synthetic_control"]["weights"].values()) - 1) < 1e-9
    assert r["synthetic_control"]["pre_rmspe"] > 0
    assert 0 < r["synthetic_control"]["placebo_rank_p_value"] <= 1
    rows = r["event_study"]["coefficients"]
    assert [x["relative_month"] for x in rows] == list(range(-12, 12))
    assert {"estimate", "ci_low", "ci_high"} <= set(rows[0])
    assert r["placebos"]["did"]["runs"] >= 50 and len(r["placebos"]["runs"]) >= 50
    assert r["plot"] == str(plot)
    root = ET.parse(plot).getroot()  # noqa: S314 (our own output, not untrusted input)
    assert root.tag == SVG + "svg"
    assert root.find(SVG + "title") is not None and root.find(SVG + "desc") is not None
    assert "<script" not in plot.read_text()


def test_evaluate_area_human_output(warehouse: Any) -> None:
    planted = warehouse.planted["intervention"]
    got = run_on(
        warehouse, "evaluate", "area", "--area", planted["csp24_code"],
        "--start", planted["start"], "--no-placebos",
    )  # fmt: skip
    assert got.returncode == 0, got.stderr
    text = " ".join(got.stdout.split())
    assert "Difference-in-differences: violence fell by" in text
    assert "Synthetic control: violence fell by" in text and "95% CI" in text
    default = warehouse.settings.data_dir / "evaluations"
    assert (default / f"area-{planted['csp24_code']}-{planted['start']}-event-study.svg").is_file()


def test_evaluate_area_unsupported_is_an_answer(warehouse: Any) -> None:
    got = run_on(
        warehouse, "evaluate", "area", "--area", "E22900002", "--start", "2024-03",
        "--json",
    )  # fmt: skip
    assert got.returncode == 0, got.stderr
    r = json.loads(got.stdout)
    assert r["supported"] is False and r["did"] is None and r["plot"] is None
    assert any("2 month(s) of data before the start" in x for x in r["reasons"])


def test_evaluate_area_errors(warehouse: Any) -> None:
    unknown = run_on(warehouse, "evaluate", "area", "--area", "E22999999", "--start", "2025-01")
    assert unknown.returncode == 1 and "E22999999 not in the panel" in unknown.stderr
    # In-process (faster): these fail before the warehouse is opened.
    runner = CliRunner()
    args = ["--data-dir", str(warehouse.settings.data_dir), "evaluate", "area"]
    missing = runner.invoke(app, [*args, "--intervention", "NO-SUCH-REF"])
    assert isinstance(missing.exception, EvaluationError)
    assert "no intervention 'NO-SUCH-REF'" in str(missing.exception)
    assert runner.invoke(app, args).exit_code == 2
    both = runner.invoke(app, [*args, "--intervention", "X", "--area", "E22900002"])
    assert both.exit_code == 2
