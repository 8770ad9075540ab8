"""The synthetic partnership's crime rates are calibrated on the real police.uk data: the
targets in svduty.synth.crime.CALIBRATION must match the rates computed here from
../shared/data/policeuk and the Census 2021 population of the same area."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from tests.conftest import SHARED, needs_shared

# police.uk category -> the synthetic offence groups it covers
MAPPING = {
    "Violence and sexual offences": ("violence", "homicide"),
    "Robbery": ("robbery",),
    "Possession of weapons": ("weapons",),
}


@needs_shared()
@pytest.mark.shared
def test_calibration_targets_match_police_uk_rates() -> None:
    from svduty.synth.crime import CALIBRATION

    counts: Counter[str] = Counter()
    months: set[str] = set()
    for path in sorted((SHARED / "policeuk").glob("*/*-street.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                counts[row["Crime type"]] += 1
                months.add(row["Month"])
    with open(
        SHARED / "population" / "census2021_lsoa21_age6_cambs_pboro.csv", encoding="utf-8"
    ) as f:
        population = sum(int(r["usual_residents"]) for r in csv.DictReader(f))
    assert population == 894_479
    years = len(months) / 12
    for category, groups in MAPPING.items():
        observed = counts[category] / years / population * 1000
        target = sum(CALIBRATION[g]["rate"] for g in groups)
        assert target == pytest.approx(observed, rel=0.05), category
