"""Rate ratios from the negative binomial model recover planted effects at their stated
confidence, on simulated counts and on the synthetic partnership."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from svduty.analysis.definition import load_definition
from svduty.analysis.kinds import classified
from svduty.analysis.trends import control_limits, rate_ratio
from svduty.config import Settings
from svduty.ingest.partners import ingest_feed
from svduty.ingest.sources import find_sources
from svduty.synth import generate
from svduty.warehouse import connect


def _simulate(rng: np.random.Generator, ratio: float, alpha: float) -> tuple[np.ndarray, ...]:
    areas, months = 40, 24
    exposure = np.repeat(rng.integers(1000, 3000, areas), months).astype(float)
    later = np.tile(np.arange(months) >= 12, areas)
    mu = exposure / 1000 * 2.0 * np.where(later, ratio, 1.0)
    # negative binomial as a gamma-Poisson mixture with variance mu + alpha mu^2
    counts = rng.poisson(rng.gamma(1 / alpha, alpha * mu))
    return counts, exposure, later


def test_interval_covers_the_planted_ratio_at_its_nominal_rate() -> None:
    rng = np.random.default_rng(2026)
    runs = 200
    covered = 0
    alphas = []
    for _ in range(runs):
        counts, exposure, later = _simulate(rng, 0.75, 0.3)
        r = rate_ratio(counts, exposure, later)
        covered += r.ci_low <= 0.75 <= r.ci_high
        alphas.append(r.alpha)
    assert 0.91 <= covered / runs <= 0.99
    assert np.mean(alphas) == pytest.approx(0.3, abs=0.05)


def test_no_change_is_rarely_called_a_change() -> None:
    rng = np.random.default_rng(7)
    p_values = [rate_ratio(*_simulate(rng, 1.0, 0.5)).p_value for _ in range(200)]
    assert 0.01 <= np.mean(np.array(p_values) < 0.05) <= 0.09


def test_control_limits_widen_with_over_dispersion() -> None:
    mu, low, high = control_limits(np.array([90, 110, 100]), alpha=0.01)
    assert mu == 100
    assert (low, high) == pytest.approx((100 - 3 * 200**0.5, 100 + 3 * 200**0.5))


def test_emerging_hotspots_of_the_synthetic_partnership(tmp_path: Path) -> None:
    generate(tmp_path / "synth", seed=11, years=2, scale=1.0)
    effects = json.loads((tmp_path / "synth" / "truth" / "effects.json").read_text())
    emerging = effects["hotspots"]["emerging"]
    settings = Settings(data_dir=tmp_path / "data", key_file=tmp_path / "key")
    con = connect(settings)
    ingest_feed(con, settings, "police-crime", *find_sources([tmp_path / "synth" / "feeds"]))
    c = classified(con, load_definition())
    c = c.filter(c.kind == "violence_with_injury", c.lsoa.isin(emerging["lsoa21_codes"]))
    rows = c.group_by(["lsoa", "month"]).aggregate(n=c.count()).to_pyarrow().to_pylist()
    counts = {(r["lsoa"], r["month"].strftime("%Y-%m")): r["n"] for r in rows}
    months = [f"{y}-{m:02d}" for y in (2024, 2025) for m in range(1, 13)]
    keys = [(lsoa, m) for lsoa in emerging["lsoa21_codes"] for m in months]
    r = rate_ratio(
        np.array([counts.get(k, 0) for k in keys]),
        np.ones(len(keys)),
        np.array([m >= emerging["start"] for _, m in keys]),
    )
    assert r.ci_low <= emerging["multiplier"] <= r.ci_high
    assert r.ratio > 2


def test_year_on_year_finds_the_planted_intervention(tmp_path: Path) -> None:
    """Under-25 violence falls 25% in the treated area from the 13th month. Under-25 crimes are
    45% of violence, so all violence there should fall to 1 - 0.25 * 0.45 = 0.8875 of what it
    would have been: the treated area's year-on-year ratio is the lowest of the six areas, and
    its interval holds 0.8875. (Its interval lies wholly below 1 in only about half of seeds:
    seasonality and area-month noise keep it about 0.1 wide at any scale.)"""
    from svduty.analysis.trends import monthly_counts, year_on_year
    from svduty.reference import load_reference

    generate(tmp_path / "synth", seed=4, years=2, scale=2.0)
    effects = json.loads((tmp_path / "synth" / "truth" / "effects.json").read_text())
    settings = Settings(data_dir=tmp_path / "data", key_file=tmp_path / "key")
    con = connect(settings)
    load_reference(con, tmp_path / "synth" / "reference")
    ingest_feed(con, settings, "police-crime", *find_sources([tmp_path / "synth" / "feeds"]))
    frame = monthly_counts(con, load_definition(), "violence_with_injury", "police-crime")
    assert len(frame) == 6 * 24
    assert frame.groupby("csp24_code")["residents"].first().sum() == effects["population"]
    ratios = year_on_year(frame)
    treated = effects["intervention"]["csp24_code"]
    others = [r.ratio for area, r in ratios.items() if area != treated]
    assert ratios[treated].ratio < min(others)
    expected = 1 - abs(effects["intervention"]["effect"]) * 0.45
    assert ratios[treated].ci_low <= expected <= ratios[treated].ci_high
    assert all(r.ci_low <= 1.0 <= r.ci_high or r.ratio > 1 for a, r in ratios.items()
               if a != treated)  # fmt: skip
