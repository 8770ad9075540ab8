"""The synthetic partnership: deterministic, valid against every contract, loadable, and
carrying the effects it says it planted."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from svduty.config import Settings
from svduty.datasets.contract import validate
from svduty.datasets.csvfile import read_csv_strings
from svduty.datasets.partners import FEEDS
from svduty.reference import load_reference
from svduty.synth import CALIBRATION, generate
from svduty.synth.programmes import REGISTER
from svduty.warehouse import connect

VIOLENCE = set(CALIBRATION["violence"]["codes"])


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _feed_rows(out: Path, feed: str) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in sorted((out / "feeds" / feed).glob("*.csv")):
        rows.extend(_rows(path))
    return rows


@pytest.fixture(scope="module")
def two_years(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """Two years at a quarter of the volume: enough for rates and effects to show."""
    out = tmp_path_factory.mktemp("synth")
    return out, generate(out, seed=7, years=2, scale=0.25)


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, seed=11, years=1, scale=0.05)
    generate(b, seed=11, years=1, scale=0.05)
    generate(c, seed=12, years=1, scale=0.05)
    da, db, dc = _digests(a), _digests(b), _digests(c)
    assert len(da) > 100
    assert da == db
    differ = [k for k in da if da[k] != dc.get(k)]
    assert any(k.startswith("feeds/") for k in differ)
    assert "truth/effects.json" in differ


def test_every_feed_file_meets_its_contract(two_years: tuple[Path, dict[str, Any]]) -> None:
    out, summary = two_years
    for name, feed in FEEDS.items():
        files = sorted((out / "feeds" / name).glob("*.csv"))
        months = [p.stem[len(name) + 1 :] for p in files]
        # schools are shut in August: no exclusions, and no empty file (ingestion refuses those)
        expected = [m for m in summary["months"] if name != "education" or m[5:] != "08"]
        if name == "participants":  # the projects' lists cover their months of referral
            referral = {i for p in REGISTER if p.size for i in range(*p.months)}
            expected = [m for i, m in enumerate(summary["months"]) if i in referral]
        assert months == expected, name
        total = 0
        for path in files:
            data = path.read_bytes()
            assert b"\r" not in data
            contract = feed.contract
            parsed = read_csv_strings(
                path.name, data, contract.header, [c.name for c in contract.columns]
            )
            assert parsed.bad == [], (path.name, parsed.bad[:3])
            month = path.stem[len(name) + 1 :]
            assert parsed.table.num_rows > 0
            failures = validate(parsed.table, contract, {"month": month}).to_table()
            assert failures.num_rows == 0, (path.name, failures.slice(0, 5).to_pylist())
            total += parsed.table.num_rows
        assert total == summary["rows"][name] > 0, name


def test_reference_folder_loads(two_years: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    out, _ = two_years
    con = connect(Settings(data_dir=tmp_path / "d"))
    try:
        results = load_reference(con, out / "reference")
        assert {r.feed for r in results} >= {"reference-boundaries", "reference-rurality"}
        assert con.table("ref_lsoa").count().execute() == 300
        geo = con.table("ref_geography").to_pyarrow().to_pylist()
        assert len({g["ltla24_code"] for g in geo}) == 6
        assert len({g["csp24_code"] for g in geo}) == 6
        assert {g["pfa24_code"] for g in geo} == {"E23900001"}
        pop = con.table("ref_population").to_pyarrow().to_pylist()
        by_lsoa: dict[str, int] = {}
        young = 0
        for row in pop:
            by_lsoa[row["lsoa21_code"]] = by_lsoa.get(row["lsoa21_code"], 0) + row["residents"]
            young += row["residents"] if row["age_band"] in ("0-15", "16-24") else 0
        assert all(1200 <= v <= 2500 for v in by_lsoa.values())
        assert 0.26 < young / sum(by_lsoa.values()) < 0.34
        imd = con.table("ref_imd").to_pyarrow().to_pylist()
        assert {r["decile"] for r in imd if r["domain"] == "imd"} <= set(range(1, 11))
    finally:
        con.disconnect()


def test_truth_matches_the_feeds(two_years: tuple[Path, dict[str, Any]]) -> None:
    out, summary = two_years
    truth = _rows(out / "truth" / "people.csv")
    persons = {r["person_id"]: r for r in _rows(out / "truth" / "persons.csv")}
    assert len(truth) == summary["truth_people_rows"]
    for name, feed in FEEDS.items():
        mine = [t for t in truth if t["feed"] == name]
        if not feed.person_level:
            assert mine == []
            continue
        rows = _feed_rows(out, name)
        header = {c.name: c.header for c in feed.contract.columns}
        in_feed = {
            (r[header[feed.record_id]], r[header[feed.person_id]] if feed.person_id else "")
            for r in rows
        }
        assert len(mine) == len(rows), name
        for t in mine:
            assert (t["record_id"], t["partner_person_id"]) in in_feed, (name, t)
            assert t["person_id"] in persons
        # one partner reference is one true person
        owners: dict[str, str] = {}
        for t in mine:
            if t["partner_person_id"]:
                assert owners.setdefault(t["partner_person_id"], t["person_id"]) == t["person_id"]
    effects = json.loads((out / "truth" / "effects.json").read_text())
    assert effects["rows"] == summary["rows"]
    assert effects["seed"] == 7 and effects["years"] == 2 and effects["scale"] == 0.25
    assert len(effects["county_lines"]["person_ids"]) == 30
    assert all(p in persons for p in effects["county_lines"]["person_ids"])


def _crimes(out: Path) -> dict[str, dict[str, str]]:
    """One row per distinct Crime Reference."""
    return {r["Crime Reference"]: r for r in _feed_rows(out, "police-crime")}


def _population(out: Path) -> int:
    rows = _rows(out / "reference" / "population" / "census2021_lsoa21_age6_synth.csv")
    return sum(int(r["usual_residents"]) for r in rows)


def test_calibrated_rates(two_years: tuple[Path, dict[str, Any]]) -> None:
    out, summary = two_years
    crimes = _crimes(out)
    per_1000_year = _population(out) / 1000 * summary["years"] * summary["scale"]
    violence = sum(r["HO Offence Code"] in VIOLENCE for r in crimes.values()) / per_1000_year
    assert violence == pytest.approx(CALIBRATION["violence"]["rate"], rel=0.15)
    for group, tolerance in (("weapons", 0.3), ("robbery", 0.4)):
        codes = set(CALIBRATION[group]["codes"])
        rate = sum(r["HO Offence Code"] in codes for r in crimes.values()) / per_1000_year
        assert rate == pytest.approx(CALIBRATION[group]["rate"], rel=tolerance), group


def _age(r: dict[str, str]) -> int:
    """Age at the crime, from the row's date of birth and committed date."""
    d, m, y = (int(x) for x in r["Date of Birth"].split("/"))
    cd, cm, cy = (int(x) for x in r["Committed Date"][:10].split("/"))
    return cy - y - ((cm, cd) < (m, d))


def test_planted_effects_show_in_raw_counts(two_years: tuple[Path, dict[str, Any]]) -> None:
    out, _ = two_years
    effects = json.loads((out / "truth" / "effects.json").read_text())
    rows = _feed_rows(out, "police-crime")
    crimes = _crimes(out)
    violent = {k: r for k, r in crimes.items() if r["HO Offence Code"] in VIOLENCE}

    def year(r: dict[str, str]) -> int:
        return int(r["Committed Date"][6:10])

    # hotspots: the emerging ones triple from 2025, the persistent ones stand out throughout
    emerging = set(effects["hotspots"]["emerging"]["lsoa21_codes"])
    before = sum(r["LSOA"] in emerging and year(r) == 2024 for r in violent.values())
    after = sum(r["LSOA"] in emerging and year(r) == 2025 for r in violent.values())
    assert after > 2 * before > 0
    per_lsoa: dict[str, int] = {}
    for r in violent.values():
        per_lsoa[r["LSOA"]] = per_lsoa.get(r["LSOA"], 0) + 1
    median = float(np.median(list(per_lsoa.values())))
    persistent = effects["hotspots"]["persistent"]["lsoa21_codes"]
    assert all(per_lsoa[c] > 2 * median for c in persistent)
    # ... four times what their residents and income deprivation (the planted measure, from
    # the published reference files) predict, the prediction fitted on the other LSOAs
    assert "income deprivation domain" in effects["deprivation_measure"]
    residents: dict[str, int] = {}
    for r in _rows(out / "reference" / "population" / "census2021_lsoa21_age6_synth.csv"):
        residents[r["lsoa21_code"]] = residents.get(r["lsoa21_code"], 0) + int(r["usual_residents"])
    income = {
        r["lsoa21_code"]: float(r["Income_score"])
        for r in _rows(out / "reference" / "imd" / "imd2025_synth_lsoa21.csv")
    }
    scores = np.array(list(income.values()))
    rr = effects["deprivation_rate_ratio_per_sd"]
    expected = {
        c: n * rr ** ((income[c] - scores.mean()) / scores.std()) for c, n in residents.items()
    }
    others = set(residents) - set(persistent) - emerging
    k = sum(per_lsoa.get(c, 0) for c in others) / sum(expected[c] for c in others)
    excess = sum(per_lsoa[c] for c in persistent) / (k * sum(expected[c] for c in persistent))
    assert excess == pytest.approx(effects["hotspots"]["persistent"]["multiplier"], rel=0.2)

    # under-25 violence in the intervention partnership falls against the rest of the county
    wards = _rows(out / "reference" / "lookups" / "lsoa21_ward24_ltla24_synth.csv")
    csps = _rows(out / "reference" / "lookups" / "ltla24_csp24_pfa24.csv")
    csp = {r["ltla24_code"]: r["csp24_code"] for r in csps}
    area = {r["lsoa21_code"]: csp[r["ltla24_code"]] for r in wards}
    treated = effects["intervention"]["csp24_code"]
    assert effects["intervention"]["start"] == "2025-01"
    youngest: dict[str, int] = {}
    for r in rows:
        ref = r["Crime Reference"]
        youngest[ref] = min(youngest.get(ref, 200), _age(r))
    counts = {(t, y): 0 for t in (True, False) for y in (2024, 2025)}
    for ref, r in violent.items():
        if youngest[ref] < 25:
            counts[(area[r["LSOA"]] == treated, year(r))] += 1
    ratio = (counts[(True, 2025)] / counts[(True, 2024)]) / (
        counts[(False, 2025)] / counts[(False, 2024)]
    )
    assert 0.6 < ratio < 0.9

    # children's violence on school days peaks after school (15:00-18:00)
    hours = [
        int(r["Committed Date"][11:13])
        for ref, r in violent.items()
        if youngest[ref] < 18 and date(year(r), int(r["Committed Date"][3:5]),
                                       int(r["Committed Date"][:2])).weekday() < 5
    ]  # fmt: skip
    after_school = sum(15 <= h < 18 for h in hours) / len(hours)
    assert after_school > 0.3  # three hours of the day: 0.125 if spread evenly

    # knife crime: about 7% of violence, most robbery, mostly people under 25
    share = sum(r["Knife Flag"] == "Y" for r in violent.values()) / len(violent)
    assert 0.05 < share < 0.09
    robbery = [r for r in crimes.values() if r["HO Offence Code"] in ("034/01", "034/02")]
    assert sum(r["Knife Flag"] == "Y" for r in robbery) > len(robbery) / 2
    knife_people = [r for r in rows if r["Knife Flag"] == "Y" and r["HO Offence Code"] in VIOLENCE]
    assert sum(_age(r) < 25 for r in knife_people) > len(knife_people) / 2

    # the county lines network's trafficking is flagged, and concentrated where it deals
    lines = [r for r in crimes.values() if r["County Lines Flag"] == "Y"]
    assert lines and all(r["HO Offence Code"] == "092/01" for r in lines)
    assert all(r["Exploitation Flag"] == "Y" for r in lines)
    local = sum(r["LSOA"] in effects["county_lines"]["lsoa21_codes"] for r in lines)
    assert local > len(lines) / 2
    assert effects["ed_unknown_to_police_share_realised"] == pytest.approx(0.6, abs=0.05)
