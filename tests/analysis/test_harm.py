"""Harm-weighted counts: the weights file, the loader's refusals, and harm by kind against an
independent pandas computation on the synthetic partnership."""

from __future__ import annotations

import datetime as dt
import json
import math
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from svduty.analysis.definition import Definition, load_definition
from svduty.analysis.harm import HarmWeights, harm_by_kind, load_harm_weights
from svduty.analysis.scope import Scope
from svduty.datasets.partners.offences import OFFENCES
from svduty.errors import ConfigError

HEADER = """name = "test weights"
index = "test index"
version = "test-1"
edition = "written by the test"
unit = "test points"
source = "tests/analysis/test_harm.py"
licence = "none: test values, not a published index"
"""

# Made-up weights, for the arithmetic only: several kinds weighted, some codes left without.
TEST_WEIGHTS = {
    "001/00": 5000.0,
    "005/01": 1200.5,
    "008/01": 300.0,
    "008/06": 700.0,
    "034/01": 400.0,
    "010/01": 150.25,
    "019/07": 2500.0,
    "105/01": 10.0,
}


def write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "weights.toml"
    path.write_text(header + body, encoding="utf-8")
    return path


@pytest.fixture
def test_weights(tmp_path: Path) -> HarmWeights:
    body = "".join(f'[weights."{c}"]\nweight = {w}\n' for c, w in TEST_WEIGHTS.items())
    return load_harm_weights(write(tmp_path, body))


# --- the shipped weights --------------------------------------------------------------------


def test_default_file_parses_with_positive_weights_and_named_edition() -> None:
    w = load_harm_weights()
    assert w.weights and all(math.isfinite(v) and v > 0 for v in w.weights.values())
    assert all(math.isfinite(v) and v > 0 for v in w.anchors.values())
    for text in (w.name, w.index, w.version, w.edition, w.unit, w.source, w.licence):
        assert text.strip()
    assert "ons.gov.uk" in w.source and "Open Government Licence" in w.licence
    raw = tomllib.loads(
        resources.files("svduty.analysis")
        .joinpath("definitions/harm-weights-ons-css.toml")
        .read_text("utf-8")
    )
    # every shipped weight names the published evidence it was taken from
    assert all(entry["evidence"].strip() for entry in raw["weights"].values())
    assert all(entry["evidence"].strip() for entry in raw["anchors"].values())


def test_published_homicide_weight_dwarfs_the_lightest_published_offences() -> None:
    """ONS: homicide 7,979 points against 3 for possession of cannabis and 7 for dishonest
    use of electricity. No published weight for common assault (105/01) could be traced, so it
    must stay unweighted rather than be given a made-up one."""
    w = load_harm_weights()
    assert w.weight("001/00") == 7979 == w.weight("004/01")
    assert w.anchors["Possession of cannabis"] == 3
    assert w.weight("001/00") > 1000 * max(w.anchors.values())
    assert w.weight("105/01") is None and "105/01" in w.missing()
    assert set(w.missing()) == set(OFFENCES) - {"001/00", "004/01"}


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "header", "problem"),
    [
        ('[weights."001/00"]\nweight = -5\n', HEADER, "must be a positive number, found -5"),
        ('[weights."001/00"]\nweight = 0\n', HEADER, "must be a positive number, found 0"),
        ('[weights."001/00"]\nweight = nan\n', HEADER, "must be a positive number, found nan"),
        ('[weights."001/00"]\nweight = "7979"\n', HEADER, "must be a number, found str"),
        ('[weights."001/00"]\nweight = true\n', HEADER, "must be a number, found bool"),
        ('[weights."1/0"]\nweight = 3\n', HEADER, 'weights."1/0": not a Home Office offence code'),
        ('[weights."001/00"]\noffence = "Murder"\n', HEADER, 'weights."001/00": no weight'),
        ('[weights."001/00"]\nweigth = 3\n', HEADER, "unknown key(s) weigth"),
        ("", HEADER, "no weight: add [weights"),
        (
            '[weights."001/00"]\nweight = 3\n',
            HEADER.replace('version = "test-1"\n', ""),
            "'version' must be a non-empty text",
        ),  # fmt: skip
        (
            '[anchors."x"]\nweight = -1\n[weights."001/00"]\nweight = 3\n',
            HEADER,
            'anchors."x": the weight must be a positive number',
        ),  # fmt: skip
    ],
)
def test_bad_file_is_refused_naming_file_and_problem(
    tmp_path: Path, body: str, header: str, problem: str
) -> None:
    path = write(tmp_path, body, header)
    with pytest.raises(ConfigError) as e:
        load_harm_weights(path)
    assert str(path) in str(e.value) and "not a valid harm weights file" in str(e.value)
    assert problem in str(e.value)


def test_unreadable_or_not_toml_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the harm weights"):
        load_harm_weights(tmp_path / "absent.toml")
    path = write(tmp_path, "weights = [1,\n")
    with pytest.raises(ConfigError, match=r"weights\.toml: not valid TOML"):
        load_harm_weights(path)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, '[weights."001/00"]\nweight = -1\n[weights."abc"]\nweight = 2\n')
    with pytest.raises(ConfigError) as e:
        load_harm_weights(path)
    assert 'weights."001/00"' in str(e.value) and 'weights."abc"' in str(e.value)


# --- harm by kind ------------------------------------------------------------------------------


def expected(con: Any, definition: Definition, weights: HarmWeights, scope: Scope) -> dict:
    """The same figures from the raw feed in pandas: crimes classified by hand from the
    definition's offence codes and flags, weighted by code."""
    feed = con.table("feed_police_crime").to_pandas()
    feed["month"] = pd.to_datetime(feed["month"]).dt.date
    if scope.start:
        feed = feed[feed["month"] >= scope.start]
    if scope.end:
        feed = feed[feed["month"] <= scope.end]
    flags = ["knife", "firearm", "domestic_abuse", "alcohol", "drugs", "county_lines",
             "exploitation"]  # fmt: skip
    crimes = feed.groupby("record_key").agg(
        ho_code=("ho_code", "first"), **{f: (f, "any") for f in flags}
    )
    crimes["weight"] = crimes["ho_code"].map(weights.weights)
    member = {}
    for k in definition.kinds:
        hit = crimes["ho_code"].isin(k.values("ho_codes"))
        for f in k.values("flags"):
            hit |= crimes[f].astype(bool)
        member[k.key] = hit
    any_kind = pd.concat(member.values(), axis=1).any(axis=1)
    sv = crimes[any_kind]
    total_harm = float(sv["weight"].sum())
    out = {}
    for key, hit in {**member, "all": any_kind}.items():
        rows = crimes[hit]
        out[key] = {
            "count": len(rows),
            "harm": float(rows["weight"].sum()),
            "unweighted": int(rows["weight"].isna().sum()),
            "count_share": len(rows) / len(sv),
            "harm_share": float(rows["weight"].sum()) / total_harm if total_harm else None,
        }
    return out


@pytest.mark.parametrize(
    "scope",
    [Scope(), Scope(dt.date(2025, 1, 1), dt.date(2025, 6, 1))],
    ids=["everything", "first-half-2025"],
)
@pytest.mark.parametrize("which", ["test", "shipped"])
def test_harm_equals_independent_pandas_computation(
    synthetic_warehouse: Any, test_weights: HarmWeights, scope: Scope, which: str
) -> None:
    con, definition = synthetic_warehouse.con, load_definition()
    weights = test_weights if which == "test" else load_harm_weights()
    got = harm_by_kind(con, definition, scope, weights)
    want = expected(con, definition, weights, scope)
    rows = {r["kind"]: r for r in got["rows"]}
    assert list(rows) == [k.key for k in definition.kinds] + ["all"]
    for key, w in want.items():
        r = rows[key]
        assert (r["count"], r["unweighted"]) == (w["count"], w["unweighted"]), key
        assert r["harm"] == pytest.approx(w["harm"], rel=1e-12), key
        assert r["count_share"] == pytest.approx(w["count_share"], rel=1e-12), key
        assert r["harm_share"] == pytest.approx(w["harm_share"], rel=1e-12), key
    assert rows["all"]["harm"] > 0 and rows["homicide"]["count"] > 0
    n, un = rows["all"]["count"], rows["all"]["unweighted"]
    assert got["coverage"] == pytest.approx((n - un) / n)
    assert got["weights_version"] == weights.version
    assert got["definition_version"] == definition.version


def test_a_few_homicides_outweigh_many_minor_crimes(
    synthetic_warehouse: Any, test_weights: HarmWeights
) -> None:
    """What the weighting is for: homicide's share of harm far exceeds its share of the count."""
    got = harm_by_kind(synthetic_warehouse.con, load_definition(), weights=test_weights)
    homicide = next(r for r in got["rows"] if r["kind"] == "homicide")
    assert homicide["count_share"] < 0.01
    assert homicide["harm_share"] > 5 * homicide["count_share"]


def test_output_reports_what_it_could_not_weigh(synthetic_warehouse: Any) -> None:
    con = synthetic_warehouse.con
    got = harm_by_kind(con, load_definition())
    json.dumps(got, allow_nan=False)  # plain data, no NaN
    missing = {r["ho_code"]: r["count"] for r in got["codes_without_weight"]}
    feed = con.table("feed_police_crime").to_pandas()
    assert {"034/01", "034/02", "105/01"} <= set(missing)
    assert not {"001/00", "004/01"} & set(missing)
    assert missing["034/01"] == feed[feed.ho_code == "034/01"].record_key.nunique()
    sources = {r["source"] for r in got["other_sources"]}
    assert sources == {"istv", "ambulance", "fire"}
    assert "not harm-weighted" in got["note"] and "no weight" in got["note"]
    assert got["weights_version"] in got["note"]
