"""Who: victims and suspects by age band and sex, and the share under 25, against independent
counts from the warehouse tables, the Wilson interval against statsmodels, and the planted
under-25 share of violence."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from svduty.analysis.definition import Definition, load_definition
from svduty.analysis.scope import Scope
from svduty.analysis.who import age_sex, under_25, wilson_interval
from svduty.datasets.person import AGE_BANDS
from svduty.errors import ConfigError
from tests.warehouses import Warehouse

DEFAULT = load_definition()


def independent_people(con: Any, definition: Definition, kind: str = "all") -> pd.DataFrame:
    """One row per person in a serious violence record (whole partnership, every month),
    straight from the feed tables with plain pandas and the definition's rules: ``source,
    record, role, age_band, sex, person_key, age, month``."""
    kinds = [k for k in definition.kinds if kind in ("all", k.key)]

    def allowed(condition: str) -> set[str]:
        return {v for k in kinds for v in k.values(condition)}

    crime = con.table("feed_police_crime").to_pandas()
    flags = sorted({f for k in kinds for f in k.values("flags")})
    hit = crime["ho_code"].isin(allowed("ho_codes")) | crime[flags].any(axis=1)
    crime = crime[crime["record_key"].isin(set(crime.loc[hit, "record_key"]))]
    crime = crime.assign(source="police-crime", age=crime["age_at_event"])
    istv = con.table("feed_istv").to_pandas()
    istv = istv[istv["assault_method"].isin(allowed("istv_methods"))]
    istv = istv.assign(source="istv", role="Victim", age=istv["age_at_event"])
    amb = con.table("feed_ambulance").to_pandas()
    amb = amb[amb["injury"].isin(allowed("ambulance_injuries"))]
    amb = amb.assign(source="ambulance", role="Victim", age=pd.NA)
    cols = ["source", "record_key", "role", "age_band", "sex", "person_key", "age", "month"]
    out = pd.concat([crime[cols], istv[cols], amb[cols]], ignore_index=True)
    out[["age_band", "sex"]] = out[["age_band", "sex"]].fillna("Unknown")
    return out


@pytest.fixture(scope="module")
def people(synthetic_warehouse: Warehouse) -> pd.DataFrame:
    return independent_people(synthetic_warehouse.con, DEFAULT)


def test_age_sex_equals_an_independent_count(
    synthetic_warehouse: Warehouse, people: pd.DataFrame
) -> None:
    result = age_sex(synthetic_warehouse.con, DEFAULT, Scope())
    assert json.loads(json.dumps(result, allow_nan=False)) == result
    got = {(r["source"], r["role"], r["age_band"], r["sex"]): (r["count"], r["people"])
           for r in result["rows"]}  # fmt: skip
    expected = {}
    for key, g in people.groupby(["source", "role", "age_band", "sex"]):
        keyed = g["person_key"].notna().all()
        expected[key] = (len(g), g["person_key"].nunique() if keyed else None)
    assert got == expected
    totals = {(t["source"], t["role"]): t for t in result["totals"]}
    for (source, role), g in people.groupby(["source", "role"]):
        assert totals[(source, role)]["count"] == len(g)
    victims = people[(people["source"] == "police-crime") & (people["role"] == "Victim")]
    assert totals[("police-crime", "Victim")]["people"] == victims["person_key"].nunique()
    assert totals[("istv", "Victim")]["people"] is None  # no person identifier before linkage
    roles = [r["role"] for r in result["rows"] if r["source"] == "police-crime"]
    assert roles == sorted(roles, reverse=True) and set(roles) == {"Victim", "Suspect"}


def test_age_bands_come_in_their_natural_order(synthetic_warehouse: Warehouse) -> None:
    result = age_sex(synthetic_warehouse.con, DEFAULT, Scope())
    order = [*AGE_BANDS, "Unknown"]
    for group in (("police-crime", "Victim"), ("police-crime", "Suspect"), ("ambulance", "Victim")):
        bands = [r["age_band"] for r in result["rows"] if (r["source"], r["role"]) == group]
        ranks = [order.index(b) for b in bands]
        assert ranks == sorted(ranks) and bands[0] == "10-14"
    ambulance = [r for r in result["rows"] if r["source"] == "ambulance"]
    assert ambulance[-1]["age_band"] == "Unknown"  # the call-outs without an age band


def test_under_25_shares_equal_an_independent_computation(
    synthetic_warehouse: Warehouse, people: pd.DataFrame
) -> None:
    result = under_25(synthetic_warehouse.con, DEFAULT, Scope())
    assert json.loads(json.dumps(result, allow_nan=False)) == result
    bands = {"0-9", "10-14", "15-17", "18-24"}
    age = pd.to_numeric(people["age"], errors="coerce")
    known = age.notna() | people["age_band"].isin(AGE_BANDS)
    young = known & age.lt(25).where(age.notna(), people["age_band"].isin(bands))
    frame = people.assign(known=known, young=young.astype(bool))
    shares = {(r["source"], r["role"]): r for r in result["shares"]}
    assert len(shares) == 4
    for (source, role), g in frame.groupby(["source", "role"]):
        row = shares[(source, role)]
        n, k = int(g["known"].sum()), int(g["young"].sum())
        assert (row["count"], row["under_25"], row["unknown_age"]) == (n, k, len(g) - n)
        low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high), abs=1e-12)
        assert row["ci_low"] < row["share"] < row["ci_high"]
    assert shares[("ambulance", "Victim")]["unknown_age"] > 0
    records = {r["source"]: r for r in result["records"]}
    per_record = frame.groupby(["source", "record_key"])[["known", "young"]].any()
    for source, g in per_record.groupby(level="source"):
        assert (records[source]["count"], records[source]["under_25"]) == (
            int(g["known"].sum()),
            int(g["young"].sum()),
        )
    monthly = pd.DataFrame(result["by_month"])
    assert monthly["month"].str.fullmatch(r"\d{4}-\d{2}").all()
    sums = monthly.groupby(["source", "role"])[["count", "under_25"]].sum()
    for (source, role), row in shares.items():
        assert tuple(sums.loc[(source, role)]) == (row["count"], row["under_25"])


def test_violence_naming_someone_under_25_matches_the_planted_share(
    synthetic_warehouse: Warehouse,
) -> None:
    """Planted (synth.crime.YOUTH_SHARE, ``violence_streams.under25_share`` = 0.45): the share
    of violence CRIMES in the under-25 streams, each of which names a victim or suspect under
    25, while adult-stream crimes name nobody under 25. It is not the share of victims under
    25 (a crime names several people, of all ages). So it is compared with the share of
    records naming someone under 25, for a kind drawn from the violence group alone (violence
    with injury: Home Office codes only, whatever the stream), in 2024, before the planted
    intervention cut under-25 violence in one area."""
    planted = synthetic_warehouse.planted["violence_streams"]["under25_share"]
    scope = Scope(dt.date(2024, 1, 1), dt.date(2024, 12, 1))
    result = under_25(synthetic_warehouse.con, DEFAULT, scope, kind="violence_with_injury")
    crimes = next(r for r in result["records"] if r["source"] == "police-crime")
    assert crimes["count"] > 1000
    assert crimes["share"] == pytest.approx(planted, abs=0.04)
    assert crimes["ci_low"] - 0.02 < planted < crimes["ci_high"] + 0.02
    victims = next(r for r in result["shares"] if r["role"] == "Victim")
    assert victims["share"] < crimes["share"]  # victims under 25 are fewer than such crimes


@pytest.mark.parametrize("k", [0, 1, 7, 50, 99, 100])
def test_wilson_interval_agrees_with_statsmodels(k: int) -> None:
    assert wilson_interval(k, 100) == pytest.approx(
        proportion_confint(k, 100, alpha=0.05, method="wilson"), abs=1e-12
    )
    assert wilson_interval(0, 0) is None


def test_an_unknown_kind_is_refused(synthetic_warehouse: Warehouse) -> None:
    with pytest.raises(ConfigError, match="no-such-kind"):
        under_25(synthetic_warehouse.con, DEFAULT, Scope(), kind="no-such-kind")


def test_police_uk_alone_says_it_has_no_ages(real_warehouse: Warehouse) -> None:
    result = age_sex(real_warehouse.con, DEFAULT, Scope())
    assert result["rows"] == [] and result["totals"] == []
    assert "no age or sex" in result["note"]
    shares = under_25(real_warehouse.con, DEFAULT, Scope())
    assert shares["shares"] == shares["records"] == shares["by_month"] == []
    assert "police.uk" in shares["note"] and "no age or sex" in shares["note"]
