"""The quarterly monitoring report: figures from a real store, the HTML and the PDF."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from svduty.commissioning.monitoring import (
    MonitoringError,
    describe_outcomes,
    monitoring_figures,
    render_monitoring_html,
    write_monitoring,
)
from svduty.commissioning.register import import_register, import_returns
from svduty.config import Settings
from svduty.store.db import Store, open_store

REGISTER = Path(__file__).parents[2] / "docs" / "commissioning" / "sample-register.csv"
CHROMIUM = Path("/usr/bin/chromium")
AREAS = {
    f"E229{i + 1:05d}": name
    for i, name in enumerate(
        ("Northam", "Eastbrook", "Westmere", "Southfield", "Kingsford", "Ashby")
    )
}
RETURNS = """Reference,Quarter,Referrals,Participants,Sessions,Spend
NH-YP-01,2025-Q2,30,25,30,"£10,000"
NH-YP-01,2025-Q3,40,30,33,"£12,000"
EB-YP-01,2025-Q2,20,15,150,"£16,000"
EB-YP-01,2025-Q3,18,14,140,"£15,000"
WM-ED-01,2025-Q3,60,40,,"£30,000.01"
AS-KC-01,2025-Q3,,300,10,£500
"""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(Settings(data_dir=tmp_path / "data"))
    report = import_register(s, REGISTER, areas=AREAS)
    assert not report.rejected and len(report.added) == 7
    (tmp_path / "returns.csv").write_text(RETURNS)
    assert len(import_returns(s, tmp_path / "returns.csv").added) == 6
    yield s
    s.dispose()


def by_ref(figures: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["reference"]: p for p in figures["projects"]}


def test_the_latest_quarter_and_its_figures_by_project(store: Store) -> None:
    f = monitoring_figures(store, areas=AREAS)
    assert f["quarter"] == "2025-Q3" and f["quarters"] == ["2025-Q2", "2025-Q3"]
    p = by_ref(f)
    nh = p["NH-YP-01"]
    assert (nh["spend_quarter"], nh["spend_to_date"], nh["award"]) == (12000, 22000, 42000)
    assert (nh["participants_quarter"], nh["participants_to_date"]) == (30, 55)
    assert nh["spent_share"] == pytest.approx(22000 / 42000)
    assert nh["cost_per_participant"] == pytest.approx(400.0)
    # Half of the year has passed by 30 September (183 of 365 days).
    assert nh["expected_share"] == pytest.approx(183 / 365, abs=1e-4)
    # 4% of the award spent against 30 of 212 days pro rata: behind.
    assert p["AS-KC-01"]["behind"] and not nh["behind"]
    assert f["behind"] == ["AS-KC-01"]
    # A project without returns is reported from the register, and named in the notes.
    kf = p["KF-FD-01"]
    assert kf["source"] == "register" and kf["spend_to_date"] == 39500
    assert any("KF-FD-01" in n for n in f["notes"])
    assert p["AS-KC-01"]["evidence"]["flag"] == "no-clear-evidence"
    assert p["WM-ED-01"]["area_names"] == ["Westmere", "Southfield"]


def test_an_earlier_quarter_counts_only_returns_up_to_it(store: Store) -> None:
    f = monitoring_figures(store, "2025-Q2", areas=AREAS)
    p = by_ref(f)
    assert p["NH-YP-01"]["spend_to_date"] == 10000 == p["NH-YP-01"]["spend_quarter"]
    assert p["WM-ED-01"]["spend_quarter"] is None and not p["WM-ED-01"]["returned"]
    assert f["totals"]["spend_quarter"] == 26000
    with pytest.raises(MonitoringError, match="2025-Q3"):
        monitoring_figures(store, "Q3 2025")


def test_the_areas_and_years_add_up_to_the_totals(store: Store) -> None:
    f = monitoring_figures(store, areas=AREAS, funding={"2025/26": 350_000, "2024/25": 100_000})
    t = f["totals"]
    # By hand: the register's awards, and spend to date (returns, else the register's spend).
    assert t["award"] == 42000 + 65000 + 88000 + 30000 + 70000 + 12500 + 42500
    assert t["spend_to_date"] == pytest.approx(
        22000 + 31000 + 30000.01 + 14800 + 39500 + 500 + 30100
    )
    assert t["spend_quarter"] == pytest.approx(12000 + 15000 + 30000.01 + 500)
    for key in ("award", "spend_quarter", "spend_to_date"):
        assert sum(a[key] or 0 for a in f["areas"]) == pytest.approx(t[key]), key
    for key in ("participants_quarter", "participants_to_date", "referrals_to_date"):
        assert sum(a[key] or 0 for a in f["areas"]) == t[key], key
    # WM-ED-01 serves two areas: its £30,000.01 is shared to the penny.
    areas = {a["name"]: a for a in f["areas"]}
    assert areas["Westmere"]["spend_quarter"] == 15000.01
    assert areas["Southfield"]["spend_quarter"] == 15000.0
    years = {y["financial_year"]: y for y in f["years"]}
    assert years["2025/26"]["award"] == t["award"] == 350_000
    assert years["2025/26"]["funding"] == 350_000 and years["2025/26"]["unawarded"] == 0
    assert years["2024/25"]["projects"] == 0 and years["2024/25"]["unawarded"] == 100_000


def test_outcomes_in_plain_english() -> None:
    supported = {
        "area": {
            "supported": True,
            "reasons": [],
            "did": {"estimate": -0.2, "ci_low": -0.35, "ci_high": -0.03},
            "synthetic_control": {"estimate": 0.05, "ci_low": -0.1, "ci_high": 0.2},
        },
        "cohort": {
            "supported": True,
            "reasons": [],
            "outcomes": [
                {"outcome": "ed", "horizon_months": 12, "estimate": -0.3, "ci_low": -0.5,
                 "ci_high": -0.1, "participants": 80},
            ],
        },
    }  # fmt: skip
    lines = describe_outcomes(supported)
    assert "20% lower than expected" in lines[0] and "unlikely to be chance" in lines[0]
    assert "5% higher" in lines[1] and "cannot be told apart from no change" in lines[1]
    assert "emergency department" in lines[2] and "80 participants" in lines[2]
    refused = describe_outcomes({"area": None, "cohort": {"supported": False, "reasons": ["n"]}})
    assert refused == ["Area evaluation: not yet evaluated.", "Participants' outcomes not "
                       "supported: n."]  # fmt: skip


def test_the_html_is_self_contained_and_names_every_project(store: Store) -> None:
    evaluations = {"EB-YP-01": {"area": {"supported": False, "reasons": ["too few months"]},
                                "cohort": None}}  # fmt: skip
    f = monitoring_figures(store, areas=AREAS, evaluations=evaluations)
    html = render_monitoring_html(f)
    assert html.startswith("<!DOCTYPE html>")
    for ref in by_ref(f):
        assert ref in html
    assert "<script" not in html.lower() and "javascript:" not in html.lower()
    assert not re.search(r"\son[a-z]+\s*=", html)  # no event handlers
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert html.count("<svg") == 1 and 'role="img"' in html
    assert "Area evaluation not supported: too few months." in html
    assert "Not yet evaluated." in html and "Data notes" in html
    assert "No clear evidence" in html and "Knife Crime Workshops" in html


def test_write_without_pdf(store: Store, tmp_path: Path) -> None:
    written = write_monitoring(monitoring_figures(store), tmp_path / "out", pdf=False)
    assert list(written) == ["html"]
    assert written["html"].name == "monitoring-2025-Q3.html"


@pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"{CHROMIUM} is absent")
def test_the_pdf_is_printed(store: Store, tmp_path: Path) -> None:
    written = write_monitoring(monitoring_figures(store, areas=AREAS), tmp_path / "out")
    assert written["pdf"].name == "monitoring-2025-Q3.pdf"
    assert written["pdf"].read_bytes().startswith(b"%PDF")


def test_the_command_writes_the_report(store: Store, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from svduty import cli_monitoring

    data = str(tmp_path / "data")
    runner = CliRunner()
    shown = runner.invoke(cli_monitoring.app, ["-d", data, "monitoring", "report", "--json",
                                               "--quarter", "2025 q2"])  # fmt: skip
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["quarter"] == "2025-Q2"
    done = runner.invoke(cli_monitoring.app, ["-d", data, "monitoring", "report", "--no-pdf"])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "data" / "reports" / "monitoring-2025-Q3.html").is_file()
    bad = runner.invoke(cli_monitoring.app, ["-d", data, "monitoring", "report", "-q"])
    assert bad.exit_code == 2
