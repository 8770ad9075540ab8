"""Cross-agency person linkage on the synthetic partnership: quality against the truth, no
identifier in the warehouse, and keys that stay put when another month is loaded."""

from __future__ import annotations

import csv
import itertools
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from svduty.config import Settings
from svduty.datasets.partners import FEEDS
from svduty.errors import ConfigError
from svduty.linkage.people import link_people
from svduty.linkage.quality import pair_quality
from svduty.privacy.keys import derive, master_key
from svduty.privacy.pseudonyms import pseudonym
from svduty.synth import PERSON_FEEDS
from svduty.warehouse import connect
from tests.partnership import Linked, warehouse_settings

F1_TARGET = 0.95


@pytest.fixture(scope="module")
def linked(people_synth: Path, people_first: Linked, people_second: Linked) -> dict[str, Any]:
    """February to December linked, then January added: both outputs, summaries and the truth
    (the session's shared warehouses, see ``conftest.py``).

    January's records come first in their clusters, so naming a cluster after its earliest record
    alone would give known people new keys: only keeping the existing keys keeps them."""
    settings = warehouse_settings(people_second.root)
    truth = _truth(people_synth, settings)
    with open(people_synth / "truth" / "persons.csv", encoding="utf-8") as f:
        persons = list(csv.DictReader(f))
    return {
        "first": people_first.summary,
        "second": people_second.summary,
        "before": people_first.rows,
        "after": people_second.rows,
        "truth": truth,
        "persons": persons,
        "log": people_first.log + people_second.log,
        "warehouse": settings.duckdb_path,
    }


def _truth(synth: Path, settings: Settings) -> dict[tuple[str, str, str | None], str]:
    """Each record's true person, under the warehouse's pseudonyms of its references."""
    key = derive(master_key(settings), "pseudonym")
    truth = {}
    with open(synth / "truth" / "people.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            feed = FEEDS[row["feed"]]
            record = pseudonym(key, f"{feed.name}:record", row["record_id"])
            person = (
                pseudonym(key, f"{feed.name}:person", row["partner_person_id"])
                if feed.person_id
                else None
            )
            truth[(feed.name, record, person)] = row["person_id"]
    return truth


def _quality(
    rows: list[dict[str, Any]], truth: dict[tuple[str, str, str | None], str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Pair quality of ``person_links`` rows against the truth: over all pairs, across feeds."""
    truth_groups: dict[str, list[str]] = defaultdict(list)
    found_groups: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        name = "|".join(x or "" for x in _ident(r))
        truth_groups[truth[_ident(r)]].append(name)
        found_groups[r["linked_key"]].append(name)
    overall = pair_quality(_pairs(found_groups), _pairs(truth_groups), dedupe=True)
    across = pair_quality(_pairs(found_groups, True), _pairs(truth_groups, True), dedupe=True)
    return overall, across


def _ident(row: dict[str, Any]) -> tuple[str, str, str | None]:
    return (row["feed"], row["record_key"], row["person_key"])


def _pairs(groups: dict[Any, list[str]], across_only: bool = False) -> set[tuple[str, str]]:
    out = set()
    for members in groups.values():
        for a, b in itertools.combinations(sorted(members), 2):
            if not across_only or a.split("|")[0] != b.split("|")[0]:
                out.add((a, b))
    return out


def test_every_record_once_with_its_cluster(linked: dict[str, Any]) -> None:
    rows = linked["after"]
    assert len(rows) == len(linked["truth"]) == linked["second"]["records"]
    assert {_ident(r) for r in rows} == set(linked["truth"])
    sizes: dict[str, int] = defaultdict(int)
    for r in rows:
        sizes[r["linked_key"]] += 1
    assert len(sizes) == linked["second"]["clusters"]
    for r in rows:
        assert r["cluster_size"] == sizes[r["linked_key"]]
        if r["cluster_size"] == 1:
            assert r["match_probability"] is None
        else:
            assert r["match_probability"] >= 0.9
        assert r["linked_at"].tzinfo is not None
    assert set(linked["second"]["feeds"]) == set(PERSON_FEEDS)


def test_quality_against_the_truth(linked: dict[str, Any]) -> None:
    overall, across = _quality(linked["after"], linked["truth"])
    print("\nperson linkage, all pairs:", overall, "\nacross feeds:", across)
    print("summary:", {k: v for k, v in linked["second"].items() if k != "model"})
    assert overall["f1"] >= F1_TARGET
    assert across["f1"] >= F1_TARGET
    assert across["true_positives"] > 100  # the feeds do share people


def test_no_identifier_leaves_the_linkage_store(linked: dict[str, Any]) -> None:
    values = set()
    for p in linked["persons"]:
        for column in ("forename", "surname", "date_of_birth", "postcode", "nhs_number", "pnc_id"):
            if p[column]:
                values.add(p[column].casefold())
    surnames = {p["surname"].casefold() for p in linked["persons"]}
    # the table as the warehouse file holds it, read back from the file
    con = connect(Settings(data_dir=linked["warehouse"].parent))
    try:
        rows = con.table("person_links").to_pyarrow().to_pylist()
    finally:
        con.disconnect()
    assert len(rows) == len(linked["after"])
    cells = {str(v).casefold() for r in rows for v in r.values() if v is not None}
    assert not cells & values
    assert not any(s in c for c in cells for s in surnames if len(s) > 3)
    summary = json.dumps([linked["first"], linked["second"]]).casefold()
    assert not any(f'"{v}"' in summary for v in values)
    logged = "\n".join(linked["log"]).casefold()
    assert not any(s in logged for s in surnames if len(s) > 3)


def test_keys_of_known_people_stay_when_a_month_is_added(linked: dict[str, Any]) -> None:
    before = {_ident(r): r["linked_key"] for r in linked["before"]}
    after = {_ident(r): r["linked_key"] for r in linked["after"]}
    assert linked["first"]["records"] < linked["second"]["records"]
    assert set(before) < set(after)
    same = sum(after[i] == k for i, k in before.items())
    assert same / len(before) >= 0.99
    assert linked["second"]["kept_keys"] >= 0.95 * linked["first"]["clusters"]
    # the rule itself: a cluster keeps the most common of its records' old keys (ties: the
    # smallest), and never takes a key that none of its records had
    members: dict[str, list[str]] = defaultdict(list)
    for i, k in after.items():
        if i in before:
            members[k].append(before[i])
    old_keys = set(before.values())
    for k, olds in members.items():
        if k in old_keys:
            assert k in olds
    rule = [k == min(olds, key=lambda o: (-olds.count(o), o)) for k, olds in members.items()]
    assert sum(rule) / len(rule) >= 0.99
    for i, k in after.items():
        if i not in before and k in old_keys:
            assert k in members  # a new record joined a known person, and took their key


def test_an_empty_store_links_nothing(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", key_file=tmp_path / "key")
    con = connect(settings)
    try:
        summary = link_people(con, settings)
        assert summary["records"] == 0 and summary["clusters"] == 0
        assert con.table("person_links").count().execute() == 0
        with pytest.raises(ConfigError, match="threshold"):
            link_people(con, settings, threshold=0)
    finally:
        con.disconnect()
