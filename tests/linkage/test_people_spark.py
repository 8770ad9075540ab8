"""Person linkage on Splink's Spark backend: the same people as on DuckDB for the same records."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from svduty.linkage.people import link_people, load_model, person_records, score_pairs
from svduty.warehouse import connect
from tests.linkage.test_people import F1_TARGET, _ident, _quality, _truth
from tests.partnership import Linked, copy_warehouse, links, load_people

pytestmark = pytest.mark.spark


def _partition(rows: list[dict[str, Any]]) -> set[frozenset[tuple[str, str, str | None]]]:
    """The records grouped into people, whatever the keys are called."""
    groups: dict[str, set[tuple[str, str, str | None]]] = defaultdict(set)
    for r in rows:
        groups[r["linked_key"]].add(_ident(r))
    return {frozenset(g) for g in groups.values()}


def test_duckdb_and_spark_find_the_same_people(
    tmp_path: Path, people_synth: Path, people_first: Linked
) -> None:
    # February to December linked on DuckDB (the session's shared warehouse), then a copy of it
    # linked again on Spark
    on_duckdb, duck_rows = people_first.summary, people_first.rows
    settings = copy_warehouse(people_first.root, tmp_path)
    con = connect(settings)
    try:
        on_spark = link_people(con, settings, engine="spark")
        spark_rows = links(con)
        # a new month, linked incrementally on Spark
        load_people(con, settings, people_synth / "feeds", last=True)
        added = link_people(con, settings, engine="spark", incremental=True)
        added_rows = links(con)
        records = person_records(settings)
        known = {_ident(r) for r in spark_rows}
        idents = zip(records["feed"], records["record_key"], records["person_key"], strict=True)
        new = pd.Series([i not in known for i in idents], index=records.index)
        model = load_model(settings)
        assert model is not None
        on_duck_pairs, on_duck_scored = score_pairs(records, model, new=new, threshold=0.9)
    finally:
        con.disconnect()
    print("\nduckdb:", {k: v for k, v in on_duckdb.items() if k != "model"})
    print("spark:", {k: v for k, v in on_spark.items() if k != "model"})
    assert on_spark["engine"] == "spark" and on_duckdb["engine"] == "duckdb"
    # one model, trained the same way whichever engine scores the pairs (DuckDB's parallel sums
    # may differ in the last digits from one run to the next)
    same = ("columns", "blocking_rules", "training_rules", "link_type")
    assert all(on_spark["model"][k] == on_duckdb["model"][k] for k in same)
    assert on_spark["model"]["probability_two_random_records_match"] == pytest.approx(
        on_duckdb["model"]["probability_two_random_records_match"], rel=1e-6
    )
    levels = zip(on_spark["model"]["parameters"], on_duckdb["model"]["parameters"], strict=True)
    for mine, theirs in levels:
        assert mine["comparison"] == theirs["comparison"] and mine["level"] == theirs["level"]
        for name in ("m_probability", "u_probability"):
            if theirs[name] is None:
                assert mine[name] is None
            else:
                assert mine[name] == pytest.approx(theirs[name], rel=1e-6)
    assert on_spark["pairs_scored"] == on_duckdb["pairs_scored"] > 0
    assert on_spark["pairs"] == on_duckdb["pairs"]
    assert on_spark["records"] == on_duckdb["records"] > 1000
    assert _partition(spark_rows) == _partition(duck_rows)
    # the second run found the same people, so every person kept the key the first gave
    assert {_ident(r): r["linked_key"] for r in spark_rows} == {
        _ident(r): r["linked_key"] for r in duck_rows
    }
    probability = {_ident(r): r["match_probability"] for r in duck_rows}
    for r in spark_rows:
        if r["match_probability"] is None:
            assert probability[_ident(r)] is None
        else:
            assert r["match_probability"] == pytest.approx(probability[_ident(r)], abs=1e-6)
    assert added["mode"] == "incremental" and added["engine"] == "spark"
    assert added["new_records"] == int(new.sum()) > 0
    assert added["pairs_scored"] == on_duck_scored > 0  # the same pairs as DuckDB would score
    assert added["pairs"] == len(on_duck_pairs)
    truth = _truth(people_synth, settings)
    for rows in (duck_rows, spark_rows, added_rows):
        overall, across = _quality(rows, truth)
        assert overall["f1"] >= F1_TARGET
        assert across["f1"] >= F1_TARGET
