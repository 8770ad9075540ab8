"""When: the hour-by-weekday grid and the school-day comparison against independent counts
from the warehouse tables, the planted after-school and weekend-night peaks, and the school
calendar file."""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from svduty.analysis.definition import Definition, load_definition
from svduty.analysis.school_calendar import is_school_day, load_school_calendar
from svduty.analysis.scope import Scope
from svduty.analysis.when import TIMED, hour_by_weekday, school_days
from svduty.errors import ConfigError
from tests.warehouses import Warehouse

DEFAULT = load_definition()
CALENDAR_FILE = (
    Path(__file__).parents[2] / "src/svduty/analysis/definitions/school-holidays-england.toml"
)

# ---------------------------------------------------------------- independent counts


def independent_records(
    con: Any, definition: Definition, kind: str = "all", scope: Scope | None = None
) -> dict[str, pd.DataFrame]:
    """Per timed source, one row per serious violence record in scope: ``record, when, young``
    (someone aged 10-17), straight from the feed tables with plain pandas and the definition's
    rules (not through :func:`svduty.analysis.kinds.classified`)."""
    scope = scope or Scope()
    kinds = [k for k in definition.kinds if kind in ("all", k.key)]

    def wanted(values: pd.Series, condition: str) -> pd.Series:
        allowed = {v for k in kinds for v in k.values(condition)}
        return values.isin(allowed)

    area = None
    if scope.area:
        geo = con.table("ref_geography").to_pandas()
        ref = set(con.table("ref_lsoa").to_pandas()["lsoa21_code"])
        area = set(geo.loc[geo["csp24_code"] == scope.area, "lsoa21_code"]) & ref

    def in_scope(frame: pd.DataFrame, lsoa: str) -> pd.DataFrame:
        month = pd.to_datetime(frame["month"])
        keep = pd.Series(True, index=frame.index)
        if scope.start:
            keep &= month >= pd.Timestamp(scope.start)
        if scope.end:
            keep &= month <= pd.Timestamp(scope.end)
        if area is not None:
            keep &= frame[lsoa].isin(area)
        return frame[keep]

    out = {}
    crime = con.table("feed_police_crime").to_pandas()
    crime["young"] = crime["age_at_event"].between(10, 17)
    flags = [f for k in kinds for f in k.values("flags")]
    crime["hit"] = wanted(crime["ho_code"], "ho_codes") | crime[flags].any(axis=1)
    crimes = crime.groupby("record_key").agg(
        when=("committed", "min"), young=("young", "any"), hit=("hit", "any"),
        month=("month", "first"), lsoa=("lsoa_code", "first"),
    )  # fmt: skip
    out["police-crime"] = in_scope(crimes[crimes["hit"]], "lsoa")
    istv = con.table("feed_istv").to_pandas()
    istv = in_scope(istv[wanted(istv["assault_method"], "istv_methods")], "home_lsoa")
    istv["when"] = istv["assault_time"].fillna(istv["arrival"])
    istv["young"] = istv["age_at_event"].between(10, 17)
    out["istv"] = istv.set_index("record_key")
    amb = con.table("feed_ambulance").to_pandas()
    amb = in_scope(amb[wanted(amb["injury"], "ambulance_injuries")], "lsoa_code")
    amb["when"] = amb["call_time"]
    amb["young"] = amb["age_band"].isin(["10-14", "15-17"])
    out["ambulance"] = amb.set_index("record_key")
    fire = con.table("feed_fire").to_pandas()
    fire = in_scope(fire[wanted(fire["incident_type"], "fire_types")], "lsoa_code")
    fire["when"] = fire["incident_time"]
    fire["young"] = False
    out["fire"] = fire.set_index("record_key")
    return {k: v[["when", "young"]] for k, v in out.items() if len(v)}


def grid_of(result: dict[str, Any]) -> dict[tuple[str, int, int], int]:
    return {(r["source"], r["weekday"], r["hour"]): r["count"] for r in result["rows"]}


def independent_grid(records: dict[str, pd.DataFrame]) -> dict[tuple[str, int, int], int]:
    out = {}
    for source, frame in records.items():
        when = frame["when"].dropna()
        counts = pd.crosstab(when.dt.dayofweek, when.dt.hour)
        for w in range(7):
            for h in range(24):
                out[(source, w, h)] = int(counts.at[w, h]) if (
                    w in counts.index and h in counts.columns
                ) else 0  # fmt: skip
    return out


# ---------------------------------------------------------------- hour by weekday


@pytest.fixture(scope="module")
def grid(synthetic_warehouse: Warehouse) -> dict[str, Any]:
    return hour_by_weekday(synthetic_warehouse.con, DEFAULT, Scope())


def test_grid_equals_an_independent_count(
    synthetic_warehouse: Warehouse, grid: dict[str, Any]
) -> None:
    records = independent_records(synthetic_warehouse.con, DEFAULT)
    assert set(records) == set(TIMED)  # every timed feed has serious violence in the synth
    assert grid_of(grid) == independent_grid(records)
    assert len(grid["rows"]) == 168 * len(TIMED)
    assert json.loads(json.dumps(grid, allow_nan=False)) == grid  # plain data for the report
    totals = {t["source"]: t for t in grid["totals"]}
    for source, frame in records.items():
        assert totals[source]["records"] == len(frame)
        assert totals[source]["count"] == int(frame["when"].notna().sum())
    ed = synthetic_warehouse.con.table("feed_istv").to_pandas()
    ed = ed[ed["record_key"].isin(records["istv"].index)]
    assert totals["istv"]["time_from_arrival"] == int(ed["assault_time"].isna().sum()) > 0
    assert "arrival" in grid["note"]


def test_grid_of_one_kind_in_one_area_and_year_equals_an_independent_count(
    synthetic_warehouse: Warehouse,
) -> None:
    con = synthetic_warehouse.con
    scope = Scope(dt.date(2024, 6, 1), dt.date(2025, 3, 1), "E22900003")
    result = hour_by_weekday(con, DEFAULT, scope, kind="knife")
    records = independent_records(con, DEFAULT, "knife", scope)
    assert grid_of(result) == independent_grid(records)
    assert sum(r["count"] for r in result["rows"]) > 50
    with pytest.raises(ConfigError, match="not in svduty-default"):
        hour_by_weekday(con, DEFAULT, scope, kind="no-such-kind")


def test_friday_and_saturday_nights_stand_out(grid: dict[str, Any]) -> None:
    """Planted (synth.timing.PROFILES['night']): violence climbs through the evening and peaks
    late on Friday and Saturday, spilling into the small hours of Saturday and Sunday."""
    cells = pd.DataFrame([r for r in grid["rows"] if r["source"] == "police-crime"])
    count = cells.set_index(["weekday", "hour"])["count"]
    weekend_nights = [(d, h) for d in (4, 5) for h in (21, 22, 23)] + [
        (d, h) for d in (5, 6) for h in (0, 1, 2)
    ]
    midweek_nights = [(d, h) for d in (0, 1, 2, 3) for h in (21, 22, 23)] + [
        (d, h) for d in (1, 2, 3) for h in (0, 1, 2)
    ]
    assert all(count[c] > count.mean() for c in weekend_nights)
    assert count[weekend_nights].mean() > 1.4 * count[midweek_nights].mean()
    # the evening peak: 18:00-23:59 above the day's mean on every day of the week
    for d in range(7):
        day = count.loc[d]
        assert day.loc[18:23].mean() > day.mean()


# ---------------------------------------------------------------- school days


@pytest.fixture(scope="module")
def schools(synthetic_warehouse: Warehouse) -> dict[str, Any]:
    return school_days(synthetic_warehouse.con, DEFAULT, Scope())


def test_school_day_counts_equal_an_independent_count(
    synthetic_warehouse: Warehouse, schools: dict[str, Any]
) -> None:
    records = independent_records(synthetic_warehouse.con, DEFAULT)
    cal = load_school_calendar()
    days = pd.date_range("2024-01-01", "2025-12-31")
    n_school = int(is_school_day(days, cal).sum())
    n_holiday = int((days.dayofweek < 5).sum()) - n_school
    assert json.loads(json.dumps(schools, allow_nan=False)) == schools
    rows = pd.DataFrame(schools["rows"]).set_index(["source", "ages", "hour"])
    for source, frame in records.items():
        span = next(d for d in schools["days"] if d["source"] == source)
        assert (span["school_days"], span["holiday_weekdays"]) == (n_school, n_holiday)
        when = frame["when"].dropna()
        young = frame.loc[when.index, "young"].astype(bool)
        weekday = when[when.dt.dayofweek < 5]
        school = pd.Series(is_school_day(weekday, cal), index=weekday.index)
        groups = [("all", weekday.index)]
        if source != "fire":
            groups.append(("10-17", weekday.index[young.loc[weekday.index].to_numpy()]))
        for ages, index in groups:
            hours = weekday.loc[index].dt.hour
            on_school = school.loc[index]
            for h in range(24):
                got = rows.loc[(source, ages, h)]
                assert got["count_school_days"] == int(((hours == h) & on_school).sum())
                assert got["count_holiday_weekdays"] == int(((hours == h) & ~on_school).sum())
                assert got["per_school_day"] == pytest.approx(got["count_school_days"] / n_school)


def test_the_planted_after_school_peak_of_under_18s_is_found(schools: dict[str, Any]) -> None:
    """Planted (synth.timing.PROFILES['youth']): violence involving children concentrates in
    15:00-18:59 on school days (about 57% of the day's events) and spreads over the afternoon
    and evening in the holidays (about 34%).

    The synth's holidays (synth.timing.HOLIDAYS, the same approximate dates every year) differ
    by a few days from the calendar file's (the February half term of 2025 and the Easter
    holidays, for instance), so some days are misclassified both ways; that dilutes the
    contrast a little but cannot reverse it, so the test asks for a clear, significant
    difference rather than the planted figures. Crimes naming a 10-17-year-old include some
    of the young-adult stream (timed like adults' violence), which dilutes it too."""
    after = {(a["source"], a["ages"]): a for a in schools["after_school"]}
    young = after[("police-crime", "10-17")]
    assert young["hourly_ci_low"] > 2  # the window's hourly rate against the rest of the day
    assert young["share_school_days"] > 0.4
    assert young["share_school_days"] - young["share_holiday_weekdays"] > 0.05
    assert young["share_ci_low"] > 1 and young["share_p_value"] < 0.001
    assert young["day_ci_low"] > 1  # more window records per school day than holiday weekday
    # the adults' night profile is the same in term and holiday: the contrast is the children's
    everyone = after[("police-crime", "all")]
    assert young["share_ratio"] > everyone["share_ratio"]
    # ED attendances of 10-17-year-olds point the same way (too few for a firm test here)
    assert after[("istv", "10-17")]["share_ratio"] > 1
    assert "like-for-like" in schools["note"] and "typical" in schools["note"]


def test_ambulance_ages_are_used_only_when_the_bands_fit(synthetic_warehouse: Warehouse) -> None:
    result = school_days(synthetic_warehouse.con, DEFAULT, Scope(), ages=(12, 17))
    groups = {(a["source"], a["ages"]) for a in result["after_school"]}
    assert ("ambulance", "12-17") not in groups and ("police-crime", "12-17") in groups
    assert "do not fit these ages" in result["note"]


# ---------------------------------------------------------------- the school calendar


def test_weekends_and_bank_holidays_are_never_school_days() -> None:
    cal = load_school_calendar()
    days = pd.date_range(cal.first_day, cal.last_day)
    school = is_school_day(days, cal)
    assert not school[days.dayofweek >= 5].any()
    data = tomllib.loads(CALENDAR_FILE.read_text(encoding="utf-8"))
    assert not is_school_day(data["bank_holidays"], cal).any()
    for h in data["holiday"]:
        assert not is_school_day(pd.date_range(h["first"], h["last"]), cal).any(), h["name"]
    expected = {f"{y}-{m:02d}-{d:02d}" for y in (2024, 2025, 2026)
                for m, d in ((1, 1), (12, 25))}  # fmt: skip
    assert expected <= {str(d) for d in data["bank_holidays"]}


def test_each_academic_year_has_a_councils_195_term_days() -> None:
    cal = load_school_calendar()
    for year in range(2023, 2027):
        days = pd.date_range(f"{year}-09-01", f"{year + 1}-08-31")
        assert int(is_school_day(days, cal).sum()) == 195, year
    assert is_school_day(np.array(["2025-05-05", "2025-05-06"], "datetime64[D]"), cal).tolist() == [
        False,
        True,
    ]  # early May bank holiday in term, and the day after


def test_a_partnerships_own_calendar_is_used(tmp_path: Path) -> None:
    path = tmp_path / "own.toml"
    path.write_text(
        'name = "Own"\nversion = "own-1"\nacademic_years = ["2024/25"]\n'
        "bank_holidays = [2024-12-25]\n"
        '[[holiday]]\nacademic_year = "2024/25"\nname = "Winter"\n'
        "first = 2024-12-16\nlast = 2025-01-10\n"
    )
    cal = load_school_calendar(path)
    got = is_school_day(["2024-12-13", "2024-12-16", "2025-01-10", "2025-01-13"], cal)
    assert got.tolist() == [True, False, False, True]
    with pytest.raises(ConfigError, match="covers 2024-09-01 to 2025-08-31"):
        is_school_day(["2025-09-01"], cal)


GOOD = (
    'name = "x"\nversion = "1"\nacademic_years = ["2024/25"]\n'
    '[[holiday]]\nacademic_year = "2024/25"\nname = "Half term"\n'
    "first = 2024-10-28\nlast = 2024-11-01\n"
)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("name = ", "not valid TOML"),
        (GOOD.replace('version = "1"\n', ""), "'version' must be a non-empty text"),
        (GOOD.replace("2024/25", "2024/26"), "academic year '2024/26' is not written like"),
        (GOOD.replace("last = 2024-11-01", "last = 2024-10-01"), "is after 'last'"),
        (GOOD.replace("first = 2024-10-28", "first = 2025-10-28"), "outside its academic year"),
        (GOOD.replace("first = 2024-10-28", 'first = "28/10/2024"'), "must be dates"),
        (GOOD + "bank_holidays = []\n", "holiday 1 (Half term): unknown key 'bank_holidays'"),
        (
            GOOD.replace(
                'academic_years = ["2024/25"]\n',
                'academic_years = ["2024/25"]\nbank_holidays = [2024-12-28]\n',
            ),
            "bank holiday 2024-12-28 is a Saturday",
        ),  # fmt: skip
        (
            GOOD + '[[holiday]]\nacademic_year = "2024/25"\nname = "Again"\n'
            "first = 2024-10-31\nlast = 2024-11-04\n",
            "overlap",
        ),  # fmt: skip
        ('name = "x"\nversion = "1"\nacademic_years = ["2024/25"]\n', "no [[holiday]] table"),
        ('colour = "red"\n' + GOOD, "unknown key 'colour'"),
    ],
)
def test_a_bad_calendar_is_refused_naming_the_file(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_school_calendar(path)
    assert str(path) in str(e.value) and problem in str(e.value)


def test_a_missing_calendar_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the school calendar"):
        load_school_calendar(tmp_path / "absent.toml")


# ---------------------------------------------------------------- real data


def test_police_uk_alone_gives_notes_not_failures(real_warehouse: Warehouse) -> None:
    grid = hour_by_weekday(real_warehouse.con, DEFAULT, Scope())
    assert grid["rows"] == [] and grid["totals"] == []
    assert "no time of day" in grid["note"] and "police.uk" in grid["note"]
    result = school_days(real_warehouse.con, DEFAULT, Scope())
    assert result["rows"] == [] and result["after_school"] == []
    assert "no time of day" in result["note"]
