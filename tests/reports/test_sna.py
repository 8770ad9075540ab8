"""The Strategic Needs Assessment end to end: the report's files, its counts against
independent counts, the public version's disclosure control read back from the files, and the
same figures from DuckDB and Spark."""

from __future__ import annotations

import csv
import json
import re
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from svduty.analysis.assessment import assess
from svduty.analysis.definition import load_definition
from svduty.analysis.kinds import counts_by_kind
from svduty.analysis.scope import Scope
from svduty.config import Settings
from svduty.privacy.disclosure import audit
from svduty.reports.public import is_count
from svduty.reports.sna import _clean, write_sna
from tests.conftest import SHARED, needs_shared, run_cli
from tests.warehouses import Warehouse, load_real

DEFINITION = load_definition()


@pytest.fixture(scope="module")
def reports(synthetic_warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The full and the public report of the synthetic partnership, written once."""
    root = tmp_path_factory.mktemp("sna")
    con = synthetic_warehouse.con
    full = write_sna(con, DEFINITION, Scope(), root / "full")
    public = write_sna(con, DEFINITION, Scope(), root / "public", public=True)
    return {"full": full, "public": public}


def _figures(paths: dict[str, Path]) -> dict[str, Any]:
    return json.loads(paths["json"].read_text())


def test_the_report_is_three_self_contained_files(reports: dict) -> None:
    paths = reports["full"]
    html = paths["html"].read_text()
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") >= 15
    # nothing is fetched: no script, no stylesheet or image from elsewhere
    assert "<script" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    pdf = paths["pdf"].read_bytes()
    assert pdf.startswith(b"%PDF")
    info = subprocess.run(["pdfinfo", str(paths["pdf"])], capture_output=True, text=True)
    pages = int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))  # type: ignore[union-attr]
    assert pages >= 10
    figures = _figures(paths)
    assert figures["definition_version"] == DEFINITION.version
    assert {"kind", "month", "area", "count"} <= set(figures["counts"][0])
    for part in ("trends", "where", "when", "who", "why", "measures", "quality", "forecast"):
        assert figures[part], part
    assert figures["cohorts"]["available"] and figures["cohorts"]["knife_under_25"]["people"] > 20
    assert "People across agencies" in html


def test_report_counts_equal_the_counts_by_kind(reports: dict, synthetic_warehouse) -> None:
    """The whole-partnership counts add up, kind by kind and month by month, to the counts by
    kind and source (themselves tested against the generated files), and every lower level adds
    up to the level above."""
    figures = _figures(reports["full"])
    independent: Counter[tuple[str, str]] = Counter()
    for r in counts_by_kind(synthetic_warehouse.con, DEFINITION):
        independent[(r["kind"], r["month"].strftime("%Y-%m"))] += r["count"]
    rows = figures["counts"]
    whole = {(r["kind"], r["month"]): r["count"] for r in rows if r["area"] == "all"}
    assert {k: v for k, v in whole.items() if v} == {k: v for k, v in independent.items() if v}
    csps = {a["area"] for a in figures["scope"]["partnership_areas"]}
    by_csp: Counter[tuple[str, str]] = Counter()
    by_lsoa: Counter[tuple[str, str, str]] = Counter()
    area_of = {p["lsoa"]: p["area"] for p in figures["places"]}
    for r in rows:
        if r["area"] in csps:
            by_csp[(r["kind"], r["month"])] += r["count"]
        elif r["area"] != "all":
            by_lsoa[(r["kind"], r["month"], area_of[r["area"]])] += r["count"]
    for (kind, month), n in by_csp.items():
        assert n <= whole[(kind, month)]
    csp_rows = {(r["kind"], r["month"], r["area"]): r["count"] for r in rows if r["area"] in csps}
    assert {k: v for k, v in by_lsoa.items() if v} == {k: v for k, v in csp_rows.items() if v}


def test_synthetic_report_finds_what_was_planted(reports: dict, synthetic_warehouse) -> None:
    figures = _figures(reports["full"])
    planted = synthetic_warehouse.planted
    change = figures["where"]["hotspot_change"]
    assert set(planted["hotspots"]["persistent"]["lsoa21_codes"]) <= set(change["persistent"])
    assert set(planted["hotspots"]["emerging"]["lsoa21_codes"]) <= set(change["new"])
    treated = planted["intervention"]["csp24_code"]
    rows = {(r["kind"], r["area"]): r for r in figures["trends"]["summary"]}
    others = [r["change"]["ratio"] for (k, a), r in rows.items()
              if k == "all" and a not in ("all", treated)]  # fmt: skip
    assert rows[("all", treated)]["change"]["ratio"] < min(others)
    after = [a for a in figures["when"]["school_days"]["after_school"]
             if a["source"] == "police-crime" and a["ages"] != "all"][0]  # fmt: skip
    assert after["share_ci_low"] > 1
    season = rows[("violence_with_injury", "all")]["seasonality"]
    planted_season = planted["seasonality"]["violence"]
    assert abs(season["peak_month"] - planted_season["peak_month"]) <= 1
    assert season["p_value"] < 0.01
    assert season["ci_low"] <= planted_season["amplitude"] <= season["ci_high"]
    html = reports["full"]["html"].read_text()
    assert "Summary" in html and "Association is not cause" in html


def _walk_counts(part: Any, path: str = "") -> list[tuple[str, int]]:
    found = []
    if isinstance(part, dict):
        for k, v in part.items():
            if is_count(k) and isinstance(v, int) and not isinstance(v, bool):
                found.append((f"{path}.{k}", v))
            found += _walk_counts(v, f"{path}.{k}")
    elif isinstance(part, list):
        for i, v in enumerate(part):
            found += _walk_counts(v, f"{path}[{i}]")
    return found


class _Tables(HTMLParser):
    """Every table of an HTML page: its header cells and its rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict[str, list]] = []
        self._cell: list[str] | None = None
        self._row: list[str] = []
        self._header = False

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "table":
            self.tables.append({"head": [], "rows": []})
        elif tag in ("td", "th"):
            self._cell = []
            self._header = tag == "th"
        elif tag == "tr":
            self._row = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self.tables:
            t = self.tables[-1]
            if self._header and not t["head"]:
                t["head"] = self._row
            else:
                t["rows"].append(self._row)

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


COUNT_HEADERS = {
    "Records", "Under 25", "People counted", "Baseline", "Latest", "People", "In two or more",
    "Victims", "Suspects", "Both",
}  # fmt: skip


def test_the_public_report_shows_no_small_count(reports: dict) -> None:
    figures = _figures(reports["public"])
    assert figures["public"] is True
    small = [(path, v) for path, v in _walk_counts(figures) if 1 <= v <= 4]
    assert small == []
    assert figures["disclosure"]["suppressed"] > 0
    areas = {"all"} | {a["area"] for a in figures["scope"]["partnership_areas"]}
    assert all(r["area"] in areas for r in figures["counts"]), "no LSOA month is published"
    assert not any(s.get("rolling_12") for s in figures["trends"]["series"])
    assert "lsoas" not in figures["forecast"] and "scores" not in figures["forecast"]
    parser = _Tables()
    parser.feed(reports["public"]["html"].read_text())
    checked = 0
    for t in parser.tables:
        for i, head in enumerate(t["head"]):
            if head in COUNT_HEADERS:
                for row in t["rows"]:
                    value = row[i].replace(",", "") if i < len(row) else ""
                    assert value not in {"1", "2", "3", "4"}, (head, row)
                    checked += 1
    assert checked > 20


class _Cells:
    """Adds a cell with its true value, suppressed if the public figures do not show it."""

    def __init__(self, values: list[int], hidden: set[int]) -> None:
        self.values, self.hidden = values, hidden

    def __call__(self, key: tuple, value: int, shown: int | None) -> int:
        self.values.append(value)
        if shown is None:
            self.hidden.add(len(self.values) - 1)
        else:
            assert shown == value, key
        return len(self.values) - 1


def test_no_published_total_recovers_a_suppressed_count(reports: dict) -> None:
    """The reader's attack: every published count and total of the public figures, with the
    true values from the full figures, solved by linear programming for each suppressed cell."""
    full, public = _figures(reports["full"]), _figures(reports["public"])
    months = full["trends"]["months"]
    csps = [a["area"] for a in full["scope"]["partnership_areas"]]
    area_of = {p["lsoa"]: p["area"] for p in full["places"]}
    true_month = {(r["kind"], r["area"], r["month"]): r["count"] for r in full["counts"]}
    true_lsoa: Counter[tuple[str, str]] = Counter()
    for r in full["counts"]:
        if r["area"] in area_of:
            true_lsoa[(r["kind"], r["area"])] += r["count"]
    shown_month = {(r["kind"], r["area"], r["month"]): r["count"] for r in public["counts"]}
    shown_total = {(r["kind"], r["area"]): r["count"] for r in public["trends"]["summary"]}
    shown_lsoa = {(r["kind"], r["area"]): r["count"] for r in public["lsoa_totals"]}
    suppressed = 0
    for kind in full["kind_labels"]:
        values: list[int] = []
        hidden: set[int] = set()
        add = _Cells(values, hidden)
        month_ix, total_ix = {}, {}
        for a in ["all", *csps]:
            for m in months:
                month_ix[(a, m)] = add((a, m), true_month[(kind, a, m)],
                                       shown_month[(kind, a, m)])  # fmt: skip
            total_ix[a] = add((a, "total"), sum(true_month[(kind, a, m)] for m in months),
                              shown_total[(kind, a)])  # fmt: skip
        lsoa_ix = {c: add((c, "lsoa"), true_lsoa[(kind, c)], shown_lsoa[(kind, c)])
                   for c in area_of}  # fmt: skip
        groups: list[tuple[list[int], int | None]] = []
        for a in ["all", *csps]:
            groups.append(([month_ix[(a, m)] for m in months], total_ix[a]))
        for m in months:
            groups.append(([month_ix[(a, m)] for a in csps], month_ix[("all", m)]))
        groups.append(([total_ix[a] for a in csps], total_ix["all"]))
        for a in csps:
            groups.append(([lsoa_ix[c] for c in area_of if area_of[c] == a], total_ix[a]))
        assert audit(values, groups, hidden) == [], kind
        assert all(values[i] not in range(1, 5) for i in set(range(len(values))) - hidden)
        suppressed += len(hidden)
    assert suppressed > 0


def test_sna_command_writes_the_interface_files(tmp_path: Path) -> None:
    from svduty.demo import run_demo
    from svduty.warehouse import connect

    settings = Settings(data_dir=tmp_path / "data", key_file=tmp_path / "key")
    con = connect(settings)
    run_demo(con, settings, seed=5, years=2, scale=0.1)
    con.disconnect()
    env = {"SVDUTY_KEY_FILE": str(tmp_path / "key")}
    done = run_cli("sna", "--out", str(tmp_path / "out"), "--public", "--from", "2024-07",
                   data_dir=settings.data_dir, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    for name in ("report.html", "report.pdf", "figures.json"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    figures = json.loads((tmp_path / "out" / "figures.json").read_text())
    assert figures["scope"]["from"] == "2024-07" and figures["public"] is True
    bad = run_cli("sna", "--out", str(tmp_path / "x"), "--area", "Atlantis",
                  data_dir=settings.data_dir, env=env)  # fmt: skip
    assert bad.returncode == 1 and "Atlantis" in bad.stderr and "Eastbrook" in bad.stderr


# --- the real data -----------------------------------------------------------------------


def _independent_real() -> Counter[tuple[str, str]]:
    """Counts by kind and month straight from the police.uk street files."""
    out: Counter[tuple[str, str]] = Counter()
    for path in sorted(SHARED.glob("policeuk/*/*-street.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                hit = False
                for kind in DEFINITION.kinds:
                    if row["Crime type"] in kind.values("police_uk"):
                        out[(kind.key, row["Month"])] += 1
                        hit = True
                if hit:
                    out[("all", row["Month"])] += 1
    return out


@needs_shared()
def test_real_counts_by_kind_and_month_equal_an_independent_count(real_warehouse) -> None:
    figures = assess(real_warehouse.con, DEFINITION, Scope(), parts=())
    got = {(r["kind"], r["month"]): r["count"] for r in figures["counts"] if r["area"] == "all"}
    expected = _independent_real()
    assert {k: v for k, v in got.items() if v} == dict(expected)
    assert figures["scope"]["lsoas"] == 516 and figures["scope"]["months"] == 18


def _comparable(figures: dict[str, Any]) -> Any:
    """Figures with floats at 9 significant digits (sums may add in another order)."""

    def walk(x: Any) -> Any:
        if isinstance(x, float):
            return float(f"{x:.9g}")
        if isinstance(x, dict):
            return {k: walk(v) for k, v in x.items()}
        if isinstance(x, list):
            return [walk(v) for v in x]
        return x

    return walk(_clean(figures))


@needs_shared()
@pytest.mark.spark
@pytest.mark.slow
def test_real_report_figures_are_identical_on_duckdb_and_spark(
    real_warehouse, tmp_path: Path
) -> None:
    duck = assess(real_warehouse.con, DEFINITION, Scope())
    spark = load_real(Settings(data_dir=tmp_path / "spark", engine="spark"))
    on_spark = assess(spark, DEFINITION, Scope())
    a, b = _comparable(duck), _comparable(on_spark)
    for key in a:
        assert a[key] == b[key], key
    assert set(a) == set(b)
