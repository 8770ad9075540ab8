"""Incremental person linkage: a new month's records are linked to the people already known,
with the saved model, scoring only the pairs that involve a new record."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from svduty.linkage.people import link_people as link
from svduty.linkage.people import load_model, model_path, person_records, score_pairs
from svduty.linkage.quality import pair_quality
from svduty.warehouse import connect
from tests.linkage.test_people import F1_TARGET, _ident, _pairs, _quality, _truth
from tests.partnership import Linked, copy_warehouse, links, load_people

#: Measured on this partnership: the incremental people agree with a full relink on every pair
#: (F1 1.0); a little room is left for a merge that only the full run finds.
AGREEMENT = 0.99


@pytest.fixture(scope="module")
def runs(
    tmp_path_factory: pytest.TempPathFactory,
    people_synth: Path,
    people_first: Linked,
    people_second: Linked,
) -> dict[str, Any]:
    """February to December linked in full (``incremental=True`` with no saved model yet: the
    session's ``people_first``), January added incrementally to a copy of that warehouse, and a
    full relink of the same records (the session's ``people_second``: January loaded into
    another copy and every record linked in full)."""
    tmp = tmp_path_factory.mktemp("incremental")
    settings = copy_warehouse(people_first.root, tmp)
    con = connect(settings)
    try:
        load_people(con, settings, people_synth / "feeds", last=True)
        added = link(con, settings, incremental=True)
        after = links(con)
        # the pairs the incremental run scored, scored again the same way
        records = person_records(settings)
        known = {_ident(r) for r in people_first.rows}
        new = records.apply(
            lambda r: (r["feed"], r["record_key"], r["person_key"]) not in known, axis=1
        )
        model = load_model(settings)
        assert model is not None
        scored, n_scored = score_pairs(records, model, new=new)
        again = link(con, settings, incremental=True)  # nothing new
        again_rows = links(con)
    finally:
        con.disconnect()
    with open(people_synth / "truth" / "persons.csv", encoding="utf-8") as f:
        persons = list(csv.DictReader(f))
    return {
        "first": people_first.summary,
        "added": added,
        "again": again,
        "full": people_second.summary,
        "before": people_first.rows,
        "after": after,
        "again_rows": again_rows,
        "full_rows": people_second.rows,
        "records": records,
        "new": new,
        "scored": scored,
        "n_scored": n_scored,
        "sealed": people_first.sealed,
        "model": model,
        "truth": _truth(people_synth, settings),
        "persons": persons,
    }


def test_a_first_incremental_run_falls_back_to_a_full_one(runs: dict[str, Any]) -> None:
    first = runs["first"]
    assert first["mode"] == "full" and "no saved model" in first["fallback"]
    assert first["new_records"] == first["records"] == len(runs["before"])
    assert runs["full"]["mode"] == "full" and runs["full"]["fallback"] is None


def test_only_pairs_with_a_new_record_are_scored(runs: dict[str, Any]) -> None:
    added = runs["added"]
    assert added["mode"] == "incremental" and added["fallback"] is None
    assert added["new_records"] == int(runs["new"].sum()) == added["records"] - len(runs["before"])
    assert 0 < added["new_records"] < 0.2 * added["records"]
    assert added["pairs_scored"] == runs["n_scored"] == len(runs["scored"]) > 0
    new_ids = set(runs["records"].loc[runs["new"], "svduty_id"])
    assert all(
        a in new_ids or b in new_ids
        for a, b in zip(runs["scored"].id_l, runs["scored"].id_r, strict=True)
    )
    # far fewer than a full run compares
    assert added["pairs_scored"] < 0.25 * runs["full"]["pairs_scored"]
    # the same model: nothing was retrained
    assert added["model"]["trained_at"] == runs["first"]["model"]["trained_at"]
    assert added["model"]["parameters"] == runs["first"]["model"]["parameters"]
    # nothing new, nothing scored, nothing changed
    assert runs["again"]["mode"] == "incremental" and runs["again"]["new_records"] == 0
    assert runs["again"]["pairs_scored"] == 0
    keys = {_ident(r): r["linked_key"] for r in runs["after"]}
    assert {_ident(r): r["linked_key"] for r in runs["again_rows"]} == keys


def test_known_people_keep_their_keys_and_are_never_split(runs: dict[str, Any]) -> None:
    before = {_ident(r): r["linked_key"] for r in runs["before"]}
    after = {_ident(r): r["linked_key"] for r in runs["after"]}
    assert set(before) < set(after)
    olds_of: dict[str, set[str]] = defaultdict(set)  # new key -> the old keys it took in
    news_of: dict[str, set[str]] = defaultdict(set)  # old key -> the new keys its records have
    for i, k in before.items():
        olds_of[after[i]].add(k)
        news_of[k].add(after[i])
    assert all(len(news) == 1 for news in news_of.values())  # no known person was split
    changed = [i for i, k in before.items() if after[i] != k]
    assert len(changed) <= 0.01 * len(before)
    for i in changed:  # a key changes only where a new record joined two known people
        assert len(olds_of[after[i]]) >= 2
    for k, olds in olds_of.items():
        assert k in olds  # a known person never takes a key none of its records had
    # a new record that joined known people took their key
    joined = [k for i, k in after.items() if i not in before and k in olds_of]
    assert joined


def test_quality_and_agreement_with_a_full_relink(runs: dict[str, Any]) -> None:
    overall, across = _quality(runs["after"], runs["truth"])
    print("\nincremental vs truth:", overall, "\nacross feeds:", across)
    assert overall["f1"] >= F1_TARGET and across["f1"] >= F1_TARGET
    groups: dict[str, dict[str, list[str]]] = {"inc": defaultdict(list), "full": defaultdict(list)}
    for name, rows in (("inc", runs["after"]), ("full", runs["full_rows"])):
        for r in rows:
            groups[name][r["linked_key"]].append("|".join(x or "" for x in _ident(r)))
    agreement = pair_quality(_pairs(groups["inc"]), _pairs(groups["full"]), dedupe=True)
    print("incremental vs full relink:", agreement)
    print("summaries:", {k: v for k, v in runs["added"].items() if k != "model"})
    assert agreement["f1"] >= AGREEMENT


def test_the_saved_model_is_sealed_and_holds_no_identifier(runs: dict[str, Any]) -> None:
    assert not runs["sealed"].lstrip().startswith(b"{")
    assert b"probability" not in runs["sealed"]
    model = runs["model"]
    assert set(model["kinds"]) >= {"forename", "surname", "date_of_birth", "postcode"}
    assert model["splink"]["comparisons"] and model["blocking_rules"]
    assert "tf_table" not in json.dumps(model).casefold()
    strings = set(re.findall(r'"((?:[^"\\]|\\.)*)"', json.dumps(model)))
    values = set()
    for p in runs["persons"]:
        for column in ("forename", "surname", "date_of_birth", "postcode", "nhs_number", "pnc_id"):
            if p[column]:
                values.add(p[column].casefold())
                values.add(p[column].casefold().replace(" ", ""))
    assert not {s.casefold() for s in strings} & values


def test_the_link_command_links_new_records_only(tmp_path: Path, demo_warehouse: Path) -> None:
    from tests.conftest import run_cli

    # a copy of the session's demo (seed 2, one year, scale 0.03), loaded and linked by run_demo
    settings = copy_warehouse(demo_warehouse, tmp_path)
    env = {"SVDUTY_KEY_FILE": str(settings.key_file)}
    # the demo linked its people in full, which saved the model
    done = run_cli(
        "link", "--new-only", "--engine", "duckdb", "--json", data_dir=settings.data_dir, env=env
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["mode"] == "incremental" and summary["engine"] == "duckdb"
    assert summary["new_records"] == summary["pairs_scored"] == 0 < summary["records"]
    model_path(settings).unlink()
    again = run_cli("link", "--new-only", data_dir=settings.data_dir, env=env)
    assert again.returncode == 0, again.stderr
    assert "linked in full (no saved model" in " ".join(again.stdout.split())
    assert model_path(settings).is_file()
    wrong = run_cli("link", "--engine", "oracle", data_dir=settings.data_dir, env=env)
    assert wrong.returncode != 0 and "duckdb or spark" in wrong.stderr
