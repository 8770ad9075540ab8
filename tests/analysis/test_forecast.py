"""The place-based forecast: every reference LSOA once, no data from the forecast month or
later, backtest figures equal to an independent computation, planted hotspots found, and the
``svduty forecast`` command."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from svduty.analysis.definition import load_definition
from svduty.analysis.forecast import (
    COVERAGES,
    METHODS,
    NotEnoughHistory,
    backtest,
    forecast,
    forecast_details,
)
from svduty.analysis.kinds import classified
from svduty.analysis.scope import Scope, areas
from svduty.config import Settings
from svduty.demo import run_demo
from svduty.warehouse import connect
from tests.conftest import run_cli
from tests.warehouses import Warehouse

DEFINITION = load_definition()
JUNE_2025 = dt.date(2025, 6, 1)


def _monthly_records(con: object) -> pd.DataFrame:
    """Distinct serious violence records per LSOA and month, counted in pandas."""
    rows = classified(con, DEFINITION).to_pandas()
    rows = rows.drop_duplicates(["source", "record"])
    rows["month"] = pd.to_datetime(rows["month"]).dt.strftime("%Y-%m")
    return rows.groupby(["lsoa", "month"]).size().rename("count").reset_index()


def test_every_reference_lsoa_once_highest_first(real_warehouse: Warehouse) -> None:
    result = forecast(real_warehouse.con, DEFINITION)
    codes = [r["lsoa"] for r in result]
    assert len(codes) == len(set(codes)) == 516
    assert set(codes) == set(areas(real_warehouse.con)["lsoa21_code"])
    assert all(set(r) == {"lsoa", "score"} for r in result)
    assert all(math.isfinite(r["score"]) and r["score"] >= 0 for r in result)
    assert result == sorted(result, key=lambda r: (-r["score"], r["lsoa"]))
    assert forecast_details(real_warehouse.con, DEFINITION)["month"] == "2025-07"


def test_no_data_from_the_forecast_month_or_later(real_warehouse: Warehouse) -> None:
    con = real_warehouse.con
    full = forecast_details(con, DEFINITION, JUNE_2025)
    cut = forecast_details(con, DEFINITION, JUNE_2025, Scope(end=dt.date(2025, 5, 1)))
    assert cut["month"] == full["month"] == "2025-06"
    assert full["lsoas"] == cut["lsoas"]
    assert full["parameters"] == cut["parameters"]
    assert full["parameters"]["chosen_on"][-1] == "2025-05"
    assert forecast(con, DEFINITION, scope=Scope(end=dt.date(2025, 5, 1))) == forecast(
        con, DEFINITION, JUNE_2025
    )
    # June is in the warehouse and does move the July forecast: the equality above is not idle
    assert forecast(con, DEFINITION) != forecast(con, DEFINITION, JUNE_2025)


def test_score_is_the_blend_of_past_counts(real_warehouse: Warehouse) -> None:
    """The top LSOA's June 2025 score, by hand from records counted in pandas."""
    details = forecast_details(real_warehouse.con, DEFINITION, JUNE_2025)
    top = details["lsoas"][0]
    counts = _monthly_records(real_warehouse.con)
    mine = counts[counts["lsoa"] == top["lsoa"]].set_index("month")["count"]
    months = [f"{y}-{m:02d}" for y in (2024, 2025) for m in range(1, 13)][:17]  # to 2025-05
    y = [float(mine.get(m, 0)) for m in months]
    p = details["parameters"]
    weights = [0.5 ** ((len(y) - 1 - i) / p["half_life"]) for i in range(len(y))]
    recent = sum(w * c for w, c in zip(weights, y, strict=True)) / sum(weights)
    long_run = sum(y[-p["long_run_months"] :]) / len(y[-p["long_run_months"] :])
    expected = p["recent_weight"] * recent + (1 - p["recent_weight"]) * long_run
    assert top["score"] == pytest.approx(expected, abs=1e-5)
    assert top["last_month"] == y[-1]
    assert top["last_12_months"] == sum(y[-12:])


def _capture_by_hand(
    frame: pd.DataFrame, key: str, coverage: float
) -> tuple[float, float, float, float]:
    """Crimes and area shares, PAI and PEI of ranking ``frame`` by ``key``."""
    ranked = frame.assign(neg=-frame[key]).sort_values(["neg", "lsoa21_code"])
    total_area, total = frame["area_km2"].sum(), frame["actual"].sum()
    taken: list[float] = []
    area_in = 0.0
    for row in ranked.itertuples():
        if taken and (area_in + row.area_km2) / total_area > coverage:
            break
        taken.append(row.actual)
        area_in += row.area_km2
    captured = sum(taken)
    # perfect foresight: by actual density, the LSOA crossing the same area counted pro rata
    best, left = 0.0, area_in
    for row in frame.assign(d=-frame["actual"] / frame["area_km2"]).sort_values("d").itertuples():
        part = min(1.0, left / row.area_km2)
        best += part * row.actual
        left -= part * row.area_km2
        if left <= 0:
            break
    share = area_in / total_area
    return captured / total, share, captured / total / share, captured / best


def test_backtest_equals_an_independent_computation(real_warehouse: Warehouse) -> None:
    con = real_warehouse.con
    result = backtest(con, DEFINITION, months=6)
    assert result["months"] == [f"2025-{m:02d}" for m in range(1, 7)]
    assert {(r["method"], r["coverage"]) for r in result["summary"]} == {
        (m, c) for m in METHODS for c in COVERAGES
    }
    assert all(r["months"] == 6 for r in result["summary"])
    assert all(0 <= r["pei"] <= 1 for r in result["by_month"])
    print(f"\nBacktest of the forecast on real police.uk data, {result['months']}:")
    print(pd.DataFrame(result["summary"]).round(3).to_string(index=False))

    counts = _monthly_records(con)
    lsoa = con.table("ref_lsoa").select("lsoa21_code", "area_km2").to_pandas()
    last_year = counts[(counts["month"] >= "2024-06") & (counts["month"] <= "2025-05")]
    by_lsoa = {"left_on": "lsoa21_code", "right_index": True, "how": "left"}
    frame = (
        lsoa.merge(last_year.groupby("lsoa")["count"].sum().rename("last_year"), **by_lsoa)
        .merge(
            counts[counts["month"] == "2025-06"].set_index("lsoa")["count"].rename("actual"),
            **by_lsoa,
        )
        .fillna({"last_year": 0, "actual": 0})
    )
    frame["density"] = frame["last_year"] / frame["area_km2"]
    for coverage in COVERAGES:
        (row,) = [
            r
            for r in result["by_month"]
            if (r["month"], r["method"], r["coverage"])
            == ("2025-06", "last_12_months_density", coverage)
        ]
        crimes_share, area_share, pai, pei = _capture_by_hand(frame, "density", coverage)
        assert row["total"] == frame["actual"].sum()
        assert row["crimes_share"] == pytest.approx(crimes_share, rel=1e-9)
        assert row["area_share"] == pytest.approx(area_share, rel=1e-9)
        assert area_share <= coverage
        assert row["pai"] == pytest.approx(pai, rel=1e-9)
        assert row["pei"] == pytest.approx(pei, rel=1e-9)


def test_ranking_by_density_is_what_pai_rewards(real_warehouse: Warehouse) -> None:
    """On the real LSOAs, whose areas differ a hundredfold, the forecast ranked by expected
    density beats the same forecast ranked by count, and last year's density is near perfect
    foresight (DOMAIN.md): the baseline the forecast is measured against."""
    summary = backtest(real_warehouse.con, DEFINITION)["summary"]
    at = {(r["method"], r["coverage"]): r for r in summary}
    for c in COVERAGES:
        assert at["forecast", c]["pai"] > 1.5 * at["forecast_count", c]["pai"]
        assert at["perfect_foresight", c]["pei"] == pytest.approx(1.0)
    assert at["last_12_months_density", 0.10]["pei"] > 0.9
    assert at["forecast", 0.05]["pai"] > 0.95 * at["last_12_months_density", 0.05]["pai"]


def test_planted_hotspots_rank_in_the_top_tenth(synthetic_warehouse: Warehouse) -> None:
    con, planted = synthetic_warehouse.con, synthetic_warehouse.planted["hotspots"]
    n = len(areas(con))

    def ranks(month: dt.date | None) -> dict[str, int]:
        return {r["lsoa"]: i for i, r in enumerate(forecast(con, DEFINITION, month))}

    latest, early = ranks(None), ranks(dt.date(2024, 4, 1))
    top = n // 10
    for code in planted["persistent"]["lsoa21_codes"]:
        assert latest[code] < top and early[code] < top
    # the emerging hotspots (from 2025-01) are learnt: in the top tenth a year on, higher than
    # when they began
    at_start = ranks(dt.date(2025, 1, 1))
    for code in planted["emerging"]["lsoa21_codes"]:
        assert latest[code] < top
        assert latest[code] < at_start[code]


def test_months_that_cannot_be_forecast(synthetic_warehouse: Warehouse) -> None:
    con = synthetic_warehouse.con
    assert forecast_details(con, DEFINITION)["month"] == "2026-01"
    with pytest.raises(NotEnoughHistory, match="latest month that can be forecast is 2026-01"):
        forecast(con, DEFINITION, dt.date(2026, 2, 1))
    with pytest.raises(NotEnoughHistory, match="earliest is 2024-04"):
        forecast(con, DEFINITION, dt.date(2024, 3, 1))
    assert forecast_details(con, DEFINITION, dt.date(2024, 4, 1))["history"]["months"] == 3


def test_forecast_command(tmp_path: Path) -> None:
    # the CLI opens the warehouse for writing, so it gets a small one of its own
    settings = Settings(data_dir=tmp_path / "data", key_file=tmp_path / "key")
    con = connect(settings)
    run_demo(con, settings, seed=3, years=1, scale=0.1)
    codes = set(areas(con)["lsoa21_code"])
    con.disconnect()

    result = run_cli("forecast", "--json", data_dir=settings.data_dir)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["lsoa"] for r in rows] and {r["lsoa"] for r in rows} == codes
    assert len(rows) == len(codes)
    assert rows == sorted(rows, key=lambda r: (-r["score"], r["lsoa"]))

    refused = run_cli("forecast", "--month", "2099-01", data_dir=settings.data_dir)
    assert refused.returncode == 1
    assert refused.stderr.strip().count("\n") == 0
    assert "cannot forecast 2099-01" in refused.stderr and "2025-01" in refused.stderr

    table = run_cli("forecast", data_dir=settings.data_dir, env={"COLUMNS": "160"})
    assert table.returncode == 0, table.stderr
    assert "Expected serious violence, 2025-01 (top 20)" in table.stdout
    assert rows[0]["lsoa"] in table.stdout
    assert "PAI at 5% of the area" in table.stdout
