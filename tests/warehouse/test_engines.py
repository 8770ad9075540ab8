"""The same ingestion and the same queries give identical results on DuckDB and on Spark."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from svduty.config import Settings
from svduty.ingest.police_uk import ingest_police_uk
from svduty.ingest.sources import find_sources
from svduty.ingest.status import status
from svduty.reference import load_reference
from svduty.warehouse import connect, engine_of
from svduty.warehouse.views import street_crimes
from tests.conftest import MALFORMED, SHARED, needs_shared

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def _monthly(con: Any) -> list[tuple[str, str, int]]:
    t = con.table("policeuk_street")
    expr = t.group_by(["month", "crime_type"]).aggregate(n=t.count())
    rows = expr.to_pyarrow().to_pylist()
    return sorted((r["month"].strftime("%Y-%m"), r["crime_type"], int(r["n"])) for r in rows)


def _load_everything(engine: str, root: Path) -> Any:
    con = connect(Settings(data_dir=root / engine, engine=engine))
    assert engine_of(con) == engine
    load_reference(con, SHARED)
    ingest_police_uk(con, *find_sources([SHARED / "policeuk"]))
    return con


@needs_shared()
def test_real_data_gives_identical_results_on_both_engines(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    root = tmp_path_factory.mktemp("engines")
    duck = _load_everything("duckdb", root)
    spark = _load_everything("spark", root)
    assert _monthly(duck) == _monthly(spark)
    assert len(_monthly(duck)) == 18 * 14
    s_duck, s_spark = status(duck), status(spark)
    for key in ("loads", "coverage", "quarantine", "reference"):
        assert s_duck[key] == s_spark[key], key

    def outcomes(con: Any) -> list[tuple[str, str]]:
        v = street_crimes(con)
        v = v.filter(v.outcome_month.notnull())
        agg = v.group_by("last_outcome_category").aggregate(n=v.count()).to_pyarrow().to_pylist()
        return sorted((r["last_outcome_category"], r["n"]) for r in agg)

    assert outcomes(duck) == outcomes(spark)

    from svduty.analysis.definition import load_definition
    from svduty.analysis.kinds import counts_by_kind

    definition = load_definition()
    by_kind = counts_by_kind(duck, definition, by=("month", "lsoa"))
    assert by_kind == counts_by_kind(spark, definition, by=("month", "lsoa"))
    assert len(by_kind) > 1000


def test_quarantine_is_identical_on_both_engines(tmp_path: Path) -> None:
    cases = [
        MALFORMED / c for c in ("latin1", "formula-payload", "stop-search-bad", "outcomes-bad")
    ]
    results = {}
    for engine in ("duckdb", "spark"):
        con = connect(Settings(data_dir=tmp_path / engine, engine=engine))
        ingest_police_uk(con, *find_sources(cases))
        q = con.table("quarantine").drop("load_seq").to_pyarrow().to_pylist()
        results[engine] = sorted(tuple(sorted(r.items())) for r in q)
    assert results["duckdb"] == results["spark"]
    assert len(results["duckdb"]) == 8


def test_partner_feeds_load_identically_on_both_engines(tmp_path: Path) -> None:
    from svduty.datasets.partners import FEEDS
    from svduty.ingest.partners import ingest_feed
    from tests.ingest.test_partner_feeds import write_feed

    tables = {}
    for engine in ("duckdb", "spark"):
        settings = Settings(data_dir=tmp_path / engine, engine=engine, key_file=tmp_path / "k")
        con = connect(settings)
        for feed in FEEDS:
            path = write_feed(tmp_path / "files" / f"{feed}-2024-01.csv", feed)
            ingest_feed(con, settings, feed, *find_sources([path]))
        tables[engine] = {
            f.table: sorted(
                tuple(sorted(r.items()))
                for r in con.table(f.table).drop("load_seq").to_pyarrow().to_pylist()
            )
            for f in FEEDS.values()
        }
    assert tables["duckdb"] == tables["spark"]
    assert all(len(rows) == 3 for rows in tables["duckdb"].values())
