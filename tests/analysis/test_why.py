"""Risk factors: the negative binomial regressions recover a planted deprivation effect, never
use the crime domain, and agree with an independent fit on the real data."""

from __future__ import annotations

import csv
import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from svduty.analysis.definition import load_definition
from svduty.analysis.scope import Scope
from svduty.analysis.why import DOMAINS, fit_negative_binomial, risk_factors
from svduty.errors import ConfigError
from tests.conftest import SHARED
from tests.warehouses import Warehouse

FACTORS = {*DOMAINS, "rural", "density"}


def _rows(result: dict, model: str) -> dict[str, dict]:
    return {r["factor"]: r for r in result["rows"] if r["model"] == model}


def test_intervals_cover_planted_ratios_of_a_two_factor_model() -> None:
    rng = np.random.default_rng(2027)
    covered = {"x": 0, "rural": 0}
    runs = 120
    for _ in range(runs):
        x = pd.DataFrame({"x": rng.standard_normal(300), "rural": rng.random(300) < 0.4})
        exposure = rng.integers(1200, 2500, 300).astype(float)
        mu = exposure / 1000 * 8 * 1.5 ** x["x"] * np.where(x["rural"], 0.6, 1.0)
        y = rng.poisson(rng.gamma(1 / 0.3, 0.3 * mu))  # NB2, alpha 0.3
        fit = fit_negative_binomial(y, x, exposure)
        for name, truth in (("x", 1.5), ("rural", 0.6)):
            r = fit.rate_ratio(name)
            covered[name] += r["ci_low"] <= truth <= r["ci_high"]
    assert all(0.9 <= c / runs <= 0.99 for c in covered.values())


def test_counts_without_over_dispersion_fall_back_to_poisson() -> None:
    rng = np.random.default_rng(5)
    x = pd.DataFrame({"x": rng.standard_normal(200)})
    y = rng.poisson(30 * 1.3 ** x["x"])
    fit = fit_negative_binomial(y, x, np.ones(200))
    r = fit.rate_ratio("x")
    assert all(math.isfinite(v) for v in r.values())
    assert r["ci_low"] < 1.3 < r["ci_high"]
    assert fit.alpha < 0.01


def test_planted_deprivation_effect_recovered(
    synthetic_warehouse: Warehouse, tmp_path: Path
) -> None:
    """The generator plants 1.5 per SD of the standardised income domain score on every police
    crime group and on deliberate fires. Violence also carries the town-centre hotspots (in the
    most deprived LSOAs) and the intervention, so its association with deprivation is not the
    planted ratio alone; deliberate fires carry deprivation and season only, so both models
    must recover 1.5 there (a definition may count them: it is data)."""
    planted = synthetic_warehouse.planted
    assert planted["deprivation_rate_ratio_per_sd"] == 1.5
    assert "income deprivation domain" in planted["deprivation_measure"]
    fires = tmp_path / "fires.toml"
    fires.write_text(
        'name = "deliberate fires"\nversion = "test-fires-1"\n[kinds.deliberate_fires]\n'
        'label = "Deliberate fires"\nfire_types = ["Deliberate primary fire", '
        '"Deliberate secondary fire", "Arson endangering life", "Vehicle arson", "Other"]\n',
        encoding="utf-8",
    )
    con = synthetic_warehouse.con
    result = risk_factors(
        con, load_definition(fires), Scope(), kind="deliberate_fires", source="fire"
    )
    fire = con.table("feed_fire")
    assert result["count"] == fire.count().execute() > 800
    assert result["lsoas"] == 300
    for model in ("unadjusted", "adjusted"):
        income = _rows(result, model)["income"]
        assert income["ci_low"] <= 1.5 <= income["ci_high"], (model, income)

    # violence: the hotspots (x4, x3) sit in the most deprived LSOAs, so the association
    # overstates the planted per-LSOA effect, as the note warns a reader it may
    violence = risk_factors(con, load_definition(), Scope(), kind="violence_with_injury")
    assert _rows(violence, "unadjusted")["income"]["ci_low"] > 1.5


def test_factors_counts_and_note_on_the_synthetic_partnership(
    synthetic_warehouse: Warehouse,
) -> None:
    con, definition = synthetic_warehouse.con, load_definition()
    result = risk_factors(con, definition, Scope())
    assert result["source"] == "police-crime" and result["imd_edition"] == "2025"
    assert set(_rows(result, "unadjusted")) == FACTORS
    assert set(_rows(result, "adjusted")) == {"income", "rural", "density"}
    assert not {"crime", "imd"} & {r["factor"] for r in result["rows"]}
    assert "crime domain" in result["note"] and "Association is not cause" in result["note"]
    # an independent count: police crimes with any code or flag of any kind, in the county
    crimes = con.table("feed_police_crime").to_pandas()
    codes = {c for k in definition.kinds for c in k.values("ho_codes")}
    flags = sorted({f for k in definition.kinds for f in k.values("flags")})
    serious = crimes["ho_code"].isin(codes) | crimes[flags].any(axis=1)
    lsoas = set(con.table("ref_lsoa").to_pandas()["lsoa21_code"])
    records = crimes[serious & crimes["lsoa_code"].isin(lsoas)]["record_key"].nunique()
    assert result["count"] == records and result["lsoas"] == 300
    for row in result["rows"]:
        assert row["ci_low"] < row["rate_ratio"] < row["ci_high"]
        assert row["lsoas"] == 300 and row["alpha"] >= 0
    income = _rows(result, "unadjusted")["income"]
    assert any("income deprivation" in s for s in result["sentences"]) == (
        income["p_value"] < 0.05 and income["rate_ratio"] >= 1.2
    )
    json.dumps(result, allow_nan=False)
    with pytest.raises(ConfigError, match="not in the definition"):
        risk_factors(con, definition, Scope(), kind="burglary")


def test_one_partnership_area_uses_its_own_lsoas(synthetic_warehouse: Warehouse) -> None:
    con = synthetic_warehouse.con
    scope = Scope(area="Eastbrook").resolve(con)
    result = risk_factors(con, load_definition(), scope, kind="violence_with_injury")
    geo = con.table("ref_geography").to_pandas()
    assert result["lsoas"] == int((geo["csp24_code"] == scope.area).sum())
    assert result["area"] == "E22900002" and result["area_name"] == "Eastbrook"


def test_real_data_matches_an_independent_fit(real_warehouse: Warehouse) -> None:
    """516 LSOAs, finite intervals, and the income ratio of an independent fit from the
    police.uk files, the Census and the IoD 2025 file, read here with the csv module."""
    result = risk_factors(real_warehouse.con, load_definition(), Scope())
    assert result["source"] == "police-uk" and result["lsoas"] == 516
    assert set(_rows(result, "unadjusted")) == FACTORS
    assert all(math.isfinite(r[k]) for r in result["rows"] for k in ("ci_low", "ci_high"))

    def read(path: Path) -> list[dict[str, str]]:
        with open(path, newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))

    residents: Counter[str] = Counter()
    for r in read(SHARED / "population" / "census2021_lsoa21_age6_cambs_pboro.csv"):
        residents[r["lsoa21_code"]] += int(r["usual_residents"])
    income = {
        r["lsoa21_code"]: float(r["Income_score"])
        for r in read(SHARED / "imd" / "imd2025_cambs_pboro_lsoa21.csv")
    }
    kinds = {"Violence and sexual offences", "Robbery", "Possession of weapons"}
    counts: Counter[str] = Counter()
    for path in sorted((SHARED / "policeuk").glob("*/*-street.csv")):
        for r in read(path):
            if r["Crime type"] in kinds and r["LSOA code"] in residents:
                counts[r["LSOA code"]] += 1
    frame = pd.DataFrame({"residents": pd.Series(residents)})
    frame["y"] = pd.Series(counts).reindex(frame.index).fillna(0)
    frame["income"] = pd.Series(income)
    frame["z"] = (frame["income"] - frame["income"].mean()) / frame["income"].std(ddof=0)
    assert len(frame) == 516 and result["count"] == frame["y"].sum()
    fit = smf.negativebinomial("y ~ z", frame, exposure=frame["residents"]).fit(disp=0, maxiter=500)
    ours = _rows(result, "unadjusted")["income"]
    assert ours["rate_ratio"] == pytest.approx(math.exp(fit.params["z"]), abs=2e-4)
    low, high = np.exp(fit.conf_int().loc["z"])
    assert (ours["ci_low"], ours["ci_high"]) == pytest.approx((low, high), abs=2e-3)
    assert ours["alpha"] == pytest.approx(fit.params["alpha"], abs=1e-3)
