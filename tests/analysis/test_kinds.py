"""The local definition of serious violence and counts by kind, against independent counts."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from svduty.analysis.definition import load_definition
from svduty.analysis.kinds import counts_by_kind
from svduty.config import Settings
from svduty.datasets.partners import FEEDS
from svduty.errors import ConfigError
from svduty.ingest.partners import ingest_feed
from svduty.ingest.police_uk import ingest_police_uk
from svduty.ingest.sources import find_sources
from svduty.synth import generate
from svduty.warehouse import connect
from tests.conftest import SHARED, needs_shared

DEFAULT = load_definition()


def test_default_definition_covers_the_kinds_the_duty_names() -> None:
    keys = {k.key for k in DEFAULT.kinds}
    assert {
        "homicide", "knife", "violence_with_injury", "robbery", "weapons_possession",
        "drug_supply_county_lines", "domestic_abuse", "sexual_violence", "arson_endangering_life",
    } <= keys  # fmt: skip
    assert DEFAULT.version == "svduty-default-2026.1"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('name = "x"\nversion = "1"\n[kinds.a]\nho_codes = ["999/99"]', "unknown value(s) 999/99"),
        ('name = "x"\nversion = "1"\n[kinds.a]\ncolour = ["red"]', "kinds.a.colour is not a"),
        ('name = "x"\nversion = "1"\n[kinds.a]\nlabel = "A"', "kinds.a has no condition"),
        ('name = "x"\n[kinds.a]\nflags = ["knife"]', "'version' must be a non-empty text"),
        ('name = "x"\nversion = "1"', "no [kinds.*] table"),
        ("name = ", "not valid TOML"),
    ],
)
def test_a_broken_definition_is_refused_saying_where(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "definition.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_definition(path)
    assert str(path) in str(e.value) and problem in str(e.value)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    root = tmp_path_factory.mktemp("kinds")
    generate(root / "synth", seed=5, years=1, scale=0.3)
    settings = Settings(data_dir=root / "data", key_file=root / "key")
    con = connect(settings)
    for feed in FEEDS:
        ingest_feed(con, settings, feed, *find_sources([root / "synth" / "feeds" / feed]))
    return con, root / "synth"


def _independent(synth: Path) -> Counter[tuple[str, str, str]]:
    """(source, month, kind) counts straight from the generated CSV files."""
    out: Counter[tuple[str, str, str]] = Counter()
    crimes: dict[str, dict[str, Any]] = defaultdict(dict)
    for path in sorted((synth / "feeds" / "police-crime").glob("*.csv")):
        month = path.stem[-7:]
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                crime = crimes[row["Crime Reference"]]
                crime["month"] = month
                crime["code"] = row["HO Offence Code"]
                for flag in ("Knife Flag", "DA Flag", "County Lines Flag", "Firearm Flag"):
                    crime[flag] = crime.get(flag, False) or row[flag] == "Y"
    flag_of = {"knife": "Knife Flag", "domestic_abuse": "DA Flag",
               "county_lines": "County Lines Flag", "firearm": "Firearm Flag"}  # fmt: skip
    for crime in crimes.values():
        any_kind = False
        for kind in DEFAULT.kinds:
            hit = crime["code"] in kind.values("ho_codes") or any(
                crime[flag_of[f]] for f in kind.values("flags")
            )
            if hit:
                out[("police-crime", crime["month"], kind.key)] += 1
                any_kind = True
        if any_kind:
            out[("police-crime", crime["month"], "all")] += 1
    for path in sorted((synth / "feeds" / "istv").glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                for kind in DEFAULT.kinds:
                    if row["Assault Method"] in kind.values("istv_methods"):
                        out[("istv", path.stem[-7:], kind.key)] += 1
    return out


def test_counts_by_kind_equal_an_independent_count(synthetic: tuple[Any, Path]) -> None:
    con, synth = synthetic
    rows = counts_by_kind(con, DEFAULT)
    assert {r["definition_version"] for r in rows} == {DEFAULT.version}
    got = Counter(
        {(r["source"], r["month"].strftime("%Y-%m"), r["kind"]): r["count"] for r in rows}
    )
    expected = _independent(synth)
    police = {k: v for k, v in got.items() if k[0] == "police-crime"}
    assert police == {k: v for k, v in expected.items() if k[0] == "police-crime"}
    istv = {k: v for k, v in got.items() if k[0] == "istv" and k[2] != "all"}
    assert istv == {k: v for k, v in expected.items() if k[0] == "istv"}
    assert sum(v for k, v in police.items() if k[2] == "knife") > 50


def test_an_edited_definition_changes_the_counts_and_says_so(
    synthetic: tuple[Any, Path], tmp_path: Path
) -> None:
    con, _ = synthetic
    path = tmp_path / "local.toml"
    path.write_text(
        'name = "Local"\nversion = "local-1"\n'
        '[kinds.knife]\nflags = ["knife"]\n'
        '[kinds.public_order]\nho_codes = ["066/01"]\n'
    )
    local = load_definition(path)
    rows = counts_by_kind(con, local)
    assert {r["definition_version"] for r in rows} == {"local-1"}
    assert {r["kind"] for r in rows} <= {"knife", "public_order", "all"}
    knife = lambda rs: sum(r["count"] for r in rs if r["kind"] == "knife" and  # noqa: E731
                           r["source"] == "police-crime")  # fmt: skip
    assert knife(rows) == knife(counts_by_kind(con, DEFAULT))


@needs_shared()
@pytest.mark.shared
def test_police_uk_counts_by_kind_match_the_files(tmp_path: Path) -> None:
    con = connect(Settings(data_dir=tmp_path / "d"))
    ingest_police_uk(con, *find_sources([SHARED / "policeuk"]))
    mapping = {k.key: set(k.values("police_uk")) for k in DEFAULT.kinds if k.values("police_uk")}
    expected: Counter[tuple[str, str]] = Counter()
    for path in sorted((SHARED / "policeuk").glob("*/*-street.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                kinds = [k for k, cats in mapping.items() if row["Crime type"] in cats]
                for k in kinds:
                    expected[(row["Month"], k)] += 1
                if kinds:
                    expected[(row["Month"], "all")] += 1
    rows = [r for r in counts_by_kind(con, DEFAULT) if r["source"] == "police-uk"]
    got = Counter({(r["month"].strftime("%Y-%m"), r["kind"]): r["count"] for r in rows})
    assert got == expected
    assert sum(v for (_, k), v in got.items() if k == "weapons_possession") == 1540
