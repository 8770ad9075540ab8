"""Linking the people of every person-level feed into one pseudonymous person key.

:func:`link_people` reads the sealed identifiers of every partition of the linkage store
(:mod:`svduty.ingest.partners`), deduplicates the union of all feeds' person records with the
trusted-mode Splink model of :mod:`svduty.linkage.files` (names, date of birth, postcode, and the
NHS number and PNC id where a feed holds them), clusters the pairs at a match probability, and
writes ``person_links``: one row per person record with a keyed pseudonym of its cluster
(``linked_key``). Nothing else leaves the linkage store: no identifier is written to the warehouse,
logged or returned.

Keys are stable: a cluster holding records that already had a ``linked_key`` keeps the most common
of them (ties: the smallest), so loading one more month and linking again keeps the keys of the
people already known.

The pairs are scored on DuckDB (in memory) or on Spark (``engine="spark"``), always with a model
trained on DuckDB, so both engines find the same people. A full run seals its model into the
linkage store; an incremental run (``incremental=True``) scores with it only the pairs that
involve a record not yet linked, and joins those to the people already known.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from splink import DuckDBAPI, Linker, SettingsCreator
from splink.blocking_rule_library import CustomRule

from svduty.config import Settings
from svduty.datasets.partners import FEEDS
from svduty.errors import ConfigError
from svduty.ingest.partners import linkage_dir, read_linkage_partition
from svduty.linkage.files import (
    ID,
    U_CHUNKS,
    U_MAX_PAIRS,
    _normalise,
    _splink_quiet,
    prior_ceiling,
)
from svduty.linkage.model import (
    COMPARISONS,
    BlockingRule,
    choose_blocking_rules,
    choose_training_rules,
    comparison_for,
    parameters_table,
)
from svduty.privacy.keys import derive, master_key
from svduty.privacy.pseudonyms import pseudonym
from svduty.privacy.vault import Vault
from svduty.warehouse import Replace, commit

TABLE = "person_links"
#: The model's comparison columns and their kinds (see :data:`svduty.linkage.model.COMPARISONS`).
#: An exact id is compared only where both records hold it (a feed without it has it missing).
KINDS = {
    "forename": "forename",
    "surname": "surname",
    "date_of_birth": "date",
    "postcode": "postcode",
    "nhs_number": "identifier",
    "pnc_id": "identifier",
}
_DOMAIN = "person-links:linked"
SEED = 42
ENGINES = ("duckdb", "spark")
MODEL_FILE = "model.json.sealed"
_MODEL_FORMAT = 1
_NEW = "svduty_new"  # 1 for a record not yet linked (incremental runs)
#: Splink's jar functions the model uses on Spark (Spark has neither natively).
_SPARK_UDFS = (
    ("jaro_winkler", "uk.gov.moj.dash.linkage.JaroWinklerSimilarity"),
    ("damerau_levenshtein", "uk.gov.moj.dash.linkage.LevDamerauDistance"),
)


def person_records(settings: Settings) -> pd.DataFrame:
    """Every person record in the linkage store, normalised for the model.

    Columns: ``svduty_id`` (a row number as text), ``feed``, ``record_key``, ``person_key``,
    ``month`` (the partition's, ``YYYY-MM``), ``source_row`` and the columns of :data:`KINDS`
    (missing where the feed has no such column). The frame holds identifiers: it must not leave
    the process.
    """
    frames = []
    root = linkage_dir(settings)
    for name, feed in FEEDS.items():
        if not feed.person_level or not (root / name).is_dir():
            continue
        dob_format = feed.contract.column(feed.dob).format if feed.dob else None
        for path in sorted((root / name).glob("*/*.arrow.sealed")):
            table = read_linkage_partition(settings, path)
            cols: dict[str, Any] = {
                "feed": name,
                "record_key": table["record_key"].to_pylist(),
                "person_key": (
                    table["person_key"].to_pylist() if "person_key" in table.column_names else None
                ),
                "month": path.name.removesuffix(".arrow.sealed"),
                "source_row": table["source_row"].to_pylist(),
            }
            for column in KINDS:
                if column not in table.column_names:
                    cols[column] = None
                elif column == "date_of_birth":
                    dob = table[column].combine_chunks()
                    if dob_format:
                        dob = pc.strftime(
                            pc.strptime(dob, format=dob_format, unit="s", error_is_null=True),
                            format="%Y-%m-%d",
                        )
                    cols[column] = dob.to_pylist()
                else:
                    cols[column] = table[column].to_pylist()
            frames.append(pd.DataFrame(cols, dtype=object))
    columns = ["feed", "record_key", "person_key", "month", "source_row", *KINDS]
    if not frames:
        return pd.DataFrame({ID: []} | {c: [] for c in columns}, dtype=object)
    records = pd.concat(frames, ignore_index=True)
    # earliest first: the order that names a new cluster after its first record
    records = records.sort_values(["month", "feed", "source_row"], kind="stable")
    records = records.reset_index(drop=True)
    for column, kind in KINDS.items():
        values = records[column].astype(object).where(records[column].notna(), None)
        values = _normalise(values.astype("string").astype(object))
        records[column] = _normalise(values, kind).astype(object)
        records[column] = records[column].where(records[column].notna(), None)
    records.insert(0, ID, [str(i) for i in range(len(records))])
    return records


def _existing_keys(con: Any) -> pd.DataFrame:
    t = con.table(TABLE)
    frame = t.select("feed", "record_key", "person_key", "linked_key").to_pandas()
    return frame.astype(object).where(frame.notna(), None)


def _assign_keys(
    records: pd.DataFrame, clusters: pd.Series, existing: pd.DataFrame, key: bytes
) -> pd.Series:
    """The ``linked_key`` of each record's cluster.

    A cluster keeps the most common existing key among its records (ties: the smallest); where two
    clusters claim one key, the cluster with more records holding it keeps it. Others get a
    pseudonym of their earliest record (records come earliest first).

    Examples:
        >>> recs = pd.DataFrame({"feed": ["f"] * 6, "record_key": list("abcdef"),
        ...                      "person_key": [None] * 6})
        >>> old = pd.DataFrame({"feed": ["f"] * 5, "record_key": list("abcde"),
        ...                     "person_key": [None] * 5,
        ...                     "linked_key": ["K2", "K1", "K2", "K4", "K3"]})
        >>> keys = _assign_keys(recs, pd.Series([1, 1, 1, 2, 2, 3]), old, b"k" * 32).tolist()
        >>> keys[:5], keys[5] not in {"K1", "K2", "K3", "K4"}
        (['K2', 'K2', 'K2', 'K3', 'K3'], True)
    """
    ident = ["feed", "record_key", "person_key"]
    fill = {"person_key": ""}
    old = existing.fillna(fill).drop_duplicates(ident).set_index(ident)["linked_key"]
    index = pd.MultiIndex.from_frame(records[ident].fillna(fill))
    known = pd.Series(old.reindex(index).to_numpy(), index=records.index)
    claims = []
    for cluster, keys in known.groupby(clusters.to_numpy(), sort=False):
        for k, n in Counter(keys.dropna()).items():
            claims.append((-n, k, cluster))
    chosen: dict[Any, str] = {}
    taken: set[str] = set(old.dropna())
    used: set[str] = set()
    for _, k, cluster in sorted(claims, key=lambda c: (c[0], c[1], str(c[2]))):
        if cluster not in chosen and k not in used:
            chosen[cluster] = k
            used.add(k)
    first = records.groupby(clusters.to_numpy(), sort=False).head(1)
    for i in first.index:
        cluster = clusters.loc[i]
        if cluster in chosen:
            continue
        base = f"{records.at[i, 'feed']}:{records.at[i, 'record_key']}:"
        base += records.at[i, "person_key"] or ""
        n, k = 0, pseudonym(key, _DOMAIN, base)
        while k in used or k in taken:  # a split cluster's old first record already named it
            n += 1
            k = pseudonym(key, _DOMAIN, f"{base}#{n}")
        chosen[cluster] = k
        used.add(k)
    return clusters.map(chosen)


def model_path(settings: Settings) -> Path:
    """Where the trained model of the last full run is kept, sealed: the linkage store's
    ``model.json.sealed``."""
    return linkage_dir(settings) / MODEL_FILE


def save_model(settings: Settings, model: dict[str, Any]) -> Path:
    """Seal the trained model into the linkage store (as the partitions are sealed).

    The model holds the compared columns and their kinds, the blocking rules, the prior and the m
    and u probabilities of each comparison level: no term-frequency table and no value.
    """
    path = model_path(settings)
    data = json.dumps(model, indent=1).encode("utf-8")  # in order: kinds is the comparisons
    Vault(derive(master_key(settings), "vault")).write(path, data)
    return path


def load_model(settings: Settings) -> dict[str, Any] | None:
    """The model :func:`save_model` sealed, or None where no full run has saved one."""
    path = model_path(settings)
    if not path.is_file():
        return None
    data = Vault(derive(master_key(settings, create=False), "vault")).read(path)
    model = json.loads(data)
    return model if model.get("format") == _MODEL_FORMAT else None


def _rule_sql(rule: BlockingRule, new_only: bool) -> str:
    """A blocking rule as SQL both engines read (plain column names), with, for incremental
    linkage, the condition that one side of the pair is a new record.

    Examples:
        >>> print(_rule_sql(BlockingRule(("forename", "surname"), swapped=True), True))
        l.forename = r.surname and l.surname = r.forename and (l.svduty_new = 1 or r.svduty_new = 1)
        >>> _rule_sql(BlockingRule(("date_of_birth", "surname"), prefixes=(0, 1)), False)
        'l.date_of_birth = r.date_of_birth and substr(l.surname, 1, 1) = substr(r.surname, 1, 1)'
    """
    for column in rule.columns:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", column):
            raise ValueError(f"column {column!r} is not a plain SQL name")
    if rule.swapped:
        a, b = rule.columns
        sql = f"l.{a} = r.{b} and l.{b} = r.{a}"
    else:
        sql = " and ".join(
            f"substr(l.{c}, 1, {n}) = substr(r.{c}, 1, {n})" if n else f"l.{c} = r.{c}"
            for c, n in rule.terms()
        )
    return f"{sql} and (l.{_NEW} = 1 or r.{_NEW} = 1)" if new_only else sql


def _creator(kinds: dict[str, str], rules: list[BlockingRule], new_only: bool) -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name=ID,
        comparisons=[comparison_for(c, k) for c, k in kinds.items()],
        blocking_rules_to_generate_predictions=[CustomRule(_rule_sql(r, new_only)) for r in rules],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        linker_uid="svduty",
    )


def _rules(model: dict[str, Any]) -> list[BlockingRule]:
    return [
        BlockingRule(tuple(r["columns"]), bool(r["swapped"]), tuple(r.get("prefixes", ())))
        for r in model["blocking_rules"]
    ]


def _train(
    frame: pd.DataFrame,
    kinds: dict[str, str],
    rules: list[BlockingRule],
    training: list[BlockingRule],
) -> dict[str, Any]:
    """Train the model on DuckDB: u from random pairs, m by expectation maximisation.

    Training always runs here, whichever engine then scores the pairs, so that one set of
    records gives one model: Splink samples the pairs for u by a hash of each record's id mixed
    with the seed, and DuckDB's hash is not Spark's, so the two engines would draw different
    samples and learn (slightly) different weights. Training is bounded (at most
    :data:`~svduty.linkage.files.U_MAX_PAIRS` random pairs, and the training rules' blocked pairs,
    each rule under :data:`~svduty.linkage.model.MAX_PAIRS_PER_RULE`), so it fits one machine;
    scoring every candidate pair is what grows with the partnership, and that is what Spark does.
    """
    duck = duckdb.connect(":memory:")
    try:
        with _splink_quiet():
            db_api = DuckDBAPI(connection=duck)
            table = db_api.register(frame, table_name="svduty_people")
            linker = Linker(table, _creator(kinds, rules, False), log_level=None)
            linker.training.estimate_u_using_random_sampling(
                max_pairs=U_MAX_PAIRS, seed=SEED, num_chunks=U_CHUNKS
            )
            for i, rule in enumerate(training):
                linker.training.estimate_parameters_using_expectation_maximisation(
                    rule.splink_rule(),
                    estimate_without_term_frequencies=True,
                    populate_probability_two_random_records_match_from_trained_values=(
                        i == len(training) - 1
                    ),
                )
            model = linker.misc.save_model_to_json()
    finally:
        duck.close()
    prior = model["probability_two_random_records_match"]
    model["probability_two_random_records_match"] = min(prior, prior_ceiling([frame]))
    return model


def _prediction_settings(model: dict[str, Any], engine: str, new_only: bool) -> dict[str, Any]:
    """The saved model as Splink settings for ``engine``: the comparisons written in that
    engine's SQL, with the trained prior and m and u probabilities copied level by level."""
    out = _creator(model["kinds"], _rules(model), new_only).create_settings_dict(engine)
    trained = model["splink"]
    out["probability_two_random_records_match"] = trained["probability_two_random_records_match"]
    for mine, theirs in zip(out["comparisons"], trained["comparisons"], strict=True):
        if mine["output_column_name"] != theirs["output_column_name"]:
            raise ValueError("the saved model's comparisons do not match the columns")
        levels = zip(mine["comparison_levels"], theirs["comparison_levels"], strict=True)
        for level, saved in levels:
            for name in ("m_probability", "u_probability"):
                if name in saved:
                    level[name] = saved[name]
    if new_only:
        out["additional_columns_to_retain"] = [_NEW]
    return out


def _spark_api(settings: Settings) -> Any:
    """Splink's Spark backend on the project's session.

    Splink's similarity functions (Jaro-Winkler, Damerau-Levenshtein) come from a jar it ships,
    which is normally put on the classpath when the session is built. The project's session is
    built without it (and there is one per process), so the jar is added to the running session
    (``ADD JAR``) and only the two functions the model uses are registered; Splink is told not
    to register its own (it would warn for every other function). Intermediate tables are
    persisted in memory rather than written as Parquet: they hold identifiers.
    """
    from pyspark.sql.types import DoubleType
    from splink.backends.spark import SparkAPI, similarity_jar_location

    from svduty.warehouse.spark_store import spark_session

    spark = spark_session(settings)
    jar = similarity_jar_location()
    if "'" in jar:
        raise ConfigError("the path of Splink's similarity jar holds a quote; install it elsewhere")
    spark.sql(f"ADD JAR '{jar}'")
    for name, cls in _SPARK_UDFS:
        spark.udf.registerJavaFunction(name, cls, DoubleType())
    return SparkAPI(
        spark_session=spark, break_lineage_method="persist", register_udfs_automatically=False
    )


def score_pairs(
    records: pd.DataFrame,
    model: dict[str, Any],
    *,
    engine: str = "duckdb",
    settings: Settings | None = None,
    new: pd.Series | None = None,
    threshold: float | None = None,
) -> tuple[pd.DataFrame, int]:
    """Score the candidate pairs of ``records`` with a trained model, on DuckDB or Spark.

    Args:
        records: as :func:`person_records` returns them (the id and the model's columns).
        model: a trained model as :func:`save_model` keeps it.
        engine: ``duckdb`` (in memory) or ``spark`` (the session of ``settings``).
        settings: the data folder (needed for Spark).
        new: for incremental linkage, which records are new (a boolean per record): only pairs
            with at least one new record are scored.
        threshold: keep only the pairs with at least this match probability (None: every pair).

    Returns:
        ``id_l, id_r, match_probability`` (the smaller id first, sorted), and how many pairs were
        scored in all.
    """
    if engine not in ENGINES:
        raise ConfigError(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}")
    columns = ["id_l", "id_r", "match_probability"]
    empty = pd.DataFrame(
        {c: pd.Series(dtype=object if c != columns[2] else float) for c in columns}
    )
    if not model.get("blocking_rules") or len(records) < 2:
        return empty, 0
    frame = records[[ID, *model["kinds"]]].copy()
    if new is not None:
        frame[_NEW] = new.astype("int64").to_numpy()
        if not frame[_NEW].any():
            return empty, 0
    settings_dict = _prediction_settings(model, engine, new is not None)
    where = "" if threshold is None else f"match_probability >= {float(threshold)!r}"
    select = f"{ID}_l as id_l, {ID}_r as id_r, match_probability"
    duck = None
    if engine == "duckdb":
        duck = duckdb.connect(":memory:")
        db_api: Any = DuckDBAPI(connection=duck)
    else:
        if settings is None:
            raise ConfigError("linking on Spark needs the data folder's settings")
        db_api = _spark_api(settings)
    cached = None
    try:
        with _splink_quiet():
            if duck is None:
                # made once, in the JVM: a frame from pandas would be re-read from Python by
                # every one of the dozens of scans of the blocking rules
                cached = db_api.spark.createDataFrame(
                    pa.Table.from_pandas(frame, preserve_index=False)
                )
                cached = cached.persist()
            table = db_api.register(frame if cached is None else cached, table_name="svduty_people")
            linker = Linker(table, settings_dict, log_level=None)
            predictions = linker.inference.predict(warning_mode="never")
            try:
                if duck is not None:
                    rel = predictions.as_duckdbpyrelation()
                    scored = int(rel.aggregate("count(*)").fetchone()[0])  # type: ignore[index]
                    pairs = (rel.filter(where) if where else rel).select(select).df()
                else:
                    sdf = predictions.as_spark_dataframe()
                    scored = int(sdf.count())
                    pairs = (
                        (sdf.filter(where) if where else sdf)
                        .selectExpr(*select.split(", "))
                        .toPandas()
                    )
            finally:
                linker.table_management.delete_tables_created_by_splink_from_db()
                if duck is None:
                    db_api.spark.catalog.dropTempView("svduty_people")
    finally:
        if cached is not None:
            cached.unpersist()
        if duck is not None:
            duck.close()
    a, b = pairs["id_l"].astype(str), pairs["id_r"].astype(str)
    # ids are row numbers as text: the smaller number first
    first = a.astype("int64") <= b.astype("int64")
    out = pd.DataFrame(
        {
            "id_l": a.where(first, b).astype(object),
            "id_r": b.where(first, a).astype(object),
            "match_probability": pairs["match_probability"].astype(float),
        }
    )
    order = out["id_l"].astype("int64") * (len(records) + 1) + out["id_r"].astype("int64")
    out = out.iloc[order.argsort(kind="stable")].reset_index(drop=True)
    return out, scored


def _components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Connected components of ``n`` nodes joined by edges ``left[i]``-``right[i]``.

    Examples:
        >>> _components(5, np.array([0, 3]), np.array([2, 4])).tolist()
        [0, 1, 0, 2, 2]
    """
    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _existing_links(con: Any) -> pd.DataFrame:
    """The current ``person_links``, with each record's best match probability."""
    t = con.table(TABLE)
    frame = t.select(
        "feed", "record_key", "person_key", "linked_key", "match_probability"
    ).to_pandas()
    return frame.astype(object).where(frame.notna(), None)


def write_links(
    con: Any,
    settings: Settings,
    records: pd.DataFrame,
    cluster: pd.Series,
    best_p: Any,
    existing: pd.DataFrame,
) -> int:
    """Write ``person_links``: for each record (``feed, record_key, person_key``) its cluster's
    stable key (:func:`_assign_keys`), the cluster's size and the record's best match probability
    (``best_p``, NaN for none). Returns the number of clusters that kept an existing key."""
    key = derive(master_key(settings), "pseudonym")
    linked = _assign_keys(records, cluster, existing, key)
    kept = int(linked[linked.isin(set(existing["linked_key"].dropna()))].nunique())
    size = cluster.map(cluster.value_counts())
    now = _dt.datetime.now(_dt.UTC)
    table = pa.table(
        {
            "feed": pa.array(records["feed"].tolist(), pa.string()),
            "record_key": pa.array(records["record_key"].tolist(), pa.string()),
            "person_key": pa.array(records["person_key"].tolist(), pa.string()),
            "linked_key": pa.array(linked.tolist(), pa.string()),
            "cluster_size": pa.array(size.astype("int64").tolist(), pa.int64()),
            "match_probability": pa.array(
                [None if pd.isna(p) else float(p) for p in best_p], pa.float64()
            ),
            "linked_at": pa.array([now] * len(records), pa.timestamp("us", tz="UTC")),
        }
    )
    commit(con, [Replace(TABLE, {}, table)])
    return kept


def link_people(
    con: Any,
    settings: Settings,
    threshold: float = 0.9,
    *,
    engine: str = "duckdb",
    incremental: bool = False,
) -> dict[str, Any]:
    """Link the person records of every person-level feed and write ``person_links``.

    A full run trains the model (on DuckDB, see :func:`_train`), scores every candidate pair on
    ``engine`` with it, clusters the pairs at ``threshold`` (connected components) and seals the
    model into the linkage store (:func:`save_model`). Both engines score the same pairs with the
    same model, so they find the same people.

    An incremental run (``incremental=True``) scores, with the saved model and no retraining, only
    the pairs with at least one new record (one not yet in ``person_links``); the existing people
    (records sharing a ``linked_key``) are kept as they are and joined by the new pairs at the
    threshold, so two known people may merge but a known person is never split. It falls back to a
    full run, saying why in ``fallback``, where there is no saved model, no existing link, or the
    columns compared have changed (a feed with a new identifier arrived).

    Args:
        con: the warehouse (:func:`svduty.warehouse.connect`).
        settings: the data folder and key of that warehouse.
        threshold: the match probability from which two records are the same person, in (0, 1].
        engine: where the pairs are scored: ``duckdb`` (in memory) or ``spark`` (the project's
            session, :func:`svduty.warehouse.spark_store.spark_session`).
        incremental: link only the new records to the people already linked.

    Returns:
        A summary without any identifier: ``records``, ``clusters``, ``pairs`` (at or above the
        threshold, found in this run), ``feeds`` (records per feed), ``seconds``, ``threshold``,
        ``kept_keys`` (clusters that kept an existing key), ``engine``, ``mode`` (``full`` or
        ``incremental``), ``fallback`` (why an incremental run ran in full, else None),
        ``new_records`` (records not in ``person_links`` before), ``pairs_scored`` (candidate
        pairs compared) and the model (columns, rules, prior and m/u parameters per level).
    """
    if not 0 < threshold <= 1:
        raise ConfigError(f"threshold must be a match probability in (0, 1]; got {threshold}")
    if engine not in ENGINES:
        raise ConfigError(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}")
    started = time.monotonic()
    records = person_records(settings)
    kinds = {c: k for c, k in KINDS.items() if records[c].notna().any()}
    links = _existing_links(con)
    existing = links[["feed", "record_key", "person_key", "linked_key"]]

    ident = ["feed", "record_key", "person_key"]
    fill = {"person_key": ""}
    known = links.fillna(fill).drop_duplicates(ident).set_index(ident)
    index = pd.MultiIndex.from_frame(records[ident].fillna(fill))
    old_key = pd.Series(known["linked_key"].reindex(index).to_numpy(), index=records.index)
    old_p = pd.Series(known["match_probability"].reindex(index).to_numpy(), index=records.index)
    new = old_key.isna()

    model = load_model(settings) if incremental else None
    fallback = None
    if incremental:
        if model is None:
            fallback = "no saved model: link in full once first"
        elif not old_key.notna().any():
            fallback = "no existing links"
        elif model["kinds"] != kinds:
            fallback = "the columns compared have changed since the model was trained"
    if incremental and fallback is None:
        assert model is not None
        mode = "incremental"
        pairs, scored = score_pairs(
            records, model, engine=engine, settings=settings, new=new, threshold=threshold
        )
        # the known people: each record joined to the first record sharing its key
        # (records are numbered by position: their id is their row number)
        held = old_key.notna()
        position = pd.Series(np.arange(len(records)), index=records.index)[held]
        first = position.groupby(old_key[held].to_numpy()).transform("first")
        left = np.concatenate([first.to_numpy(np.int64), pairs["id_l"].astype("int64").to_numpy()])
        right = np.concatenate(
            [position.to_numpy(np.int64), pairs["id_r"].astype("int64").to_numpy()]
        )
    else:
        mode = "full"
        frame = records[[ID, *kinds]]
        rules = choose_blocking_rules([frame], kinds) if len(records) > 1 else []
        training = choose_training_rules(rules, kinds)
        model = {
            "format": _MODEL_FORMAT,
            "kinds": kinds,
            "blocking_rules": [
                {"columns": list(r.columns), "swapped": r.swapped, "prefixes": list(r.prefixes)}
                for r in rules
            ],
            "training_rules": [r.describe() for r in training],
            "records": len(records),
            "trained_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "splink": (
                _train(frame, kinds, rules, training)
                if rules
                else _creator(kinds, rules, False).create_settings_dict("duckdb")
            ),
        }
        pairs, scored = score_pairs(
            records, model, engine=engine, settings=settings, threshold=threshold
        )
        if rules:
            save_model(settings, model)
        else:  # nothing to link incrementally against
            model_path(settings).unlink(missing_ok=True)
        left = pairs["id_l"].astype("int64").to_numpy()
        right = pairs["id_r"].astype("int64").to_numpy()
        old_p = pd.Series(np.nan, index=records.index)
    cluster = pd.Series(_components(len(records), left, right), index=records.index)
    best = pd.concat(
        [
            pairs[["id_l", "match_probability"]].set_axis(["id", "p"], axis=1),
            pairs[["id_r", "match_probability"]].set_axis(["id", "p"], axis=1),
            pd.DataFrame({"id": records[ID], "p": old_p.astype(float)}),
        ]
    )
    best_p = best.groupby("id")["p"].max().reindex(records[ID]).to_numpy()
    kept = write_links(con, settings, records, cluster, best_p, existing)
    splink_model = model["splink"] if kinds else {}
    prior = splink_model.get("probability_two_random_records_match")
    parameters = parameters_table(splink_model)
    return {
        "records": len(records),
        "clusters": int(cluster.nunique()),
        "pairs": len(pairs),
        "feeds": {str(f): int(n) for f, n in records["feed"].value_counts().sort_index().items()},
        "seconds": round(time.monotonic() - started, 2),
        "threshold": threshold,
        "kept_keys": kept,
        "engine": engine,
        "mode": mode,
        "fallback": fallback,
        "new_records": int(new.sum()),
        "pairs_scored": scored,
        "model": {
            "link_type": "dedupe_only",
            "columns": {
                c: {"kind": k, "comparison": COMPARISONS[k]} for c, k in model["kinds"].items()
            },
            "blocking_rules": [r.describe() for r in _rules(model)],
            "training_rules": model["training_rules"],
            "trained_at": model["trained_at"],
            "probability_two_random_records_match": None if prior is None else float(prior),
            "parameters": parameters.astype(object)
            .where(parameters.notna(), None)
            .to_dict("records"),
        },
    }
