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
"""

from __future__ import annotations

import datetime as _dt
import time
from collections import Counter
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from splink import SettingsCreator

from svduty.config import Settings
from svduty.datasets.partners import FEEDS
from svduty.errors import ConfigError
from svduty.ingest.partners import linkage_dir, read_linkage_partition
from svduty.linkage.files import ID, _normalise, _run_splink, _splink_quiet
from svduty.linkage.model import (
    COMPARISONS,
    choose_blocking_rules,
    choose_training_rules,
    comparison_for,
    parameters_table,
)
from svduty.privacy.keys import derive, master_key
from svduty.privacy.pseudonyms import pseudonym
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


def link_people(con: Any, settings: Settings, threshold: float = 0.9) -> dict[str, Any]:
    """Link the person records of every person-level feed and write ``person_links``.

    Args:
        con: the warehouse (:func:`svduty.warehouse.connect`).
        settings: the data folder and key of that warehouse.
        threshold: the match probability from which two records are the same person, in (0, 1].

    Returns:
        A summary without any identifier: ``records``, ``clusters``, ``pairs``, ``feeds``
        (records per feed), ``seconds``, ``threshold``, ``kept_keys`` (clusters that kept an
        existing key) and the model (columns, rules, prior and m/u parameters per level).
    """
    if not 0 < threshold <= 1:
        raise ConfigError(f"threshold must be a match probability in (0, 1]; got {threshold}")
    started = time.monotonic()
    records = person_records(settings)
    kinds = {c: k for c, k in KINDS.items() if records[c].notna().any()}
    model_frame = records[[ID, "feed", *kinds]].rename(columns={"feed": "source"})
    rules = choose_blocking_rules([model_frame], kinds) if len(records) > 1 else []
    training = choose_training_rules(rules, kinds)
    creator = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name=ID,
        comparisons=[comparison_for(c, k) for c, k in kinds.items()],
        blocking_rules_to_generate_predictions=[r.splink_rule() for r in rules],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        linker_uid="svduty",
    )
    if rules:
        duck = duckdb.connect(":memory:")
        try:
            with _splink_quiet():
                pairs, clusters, model = _run_splink(
                    duck, [model_frame], creator, training, threshold, SEED
                )
        finally:
            duck.close()
        cluster_of = clusters.set_index("id")["cluster_id"].reindex(records[ID]).to_numpy()
    else:
        pairs = pd.DataFrame({"id_l": [], "id_r": [], "match_probability": []})
        cluster_of = list(range(len(records)))
        model = creator.create_settings_dict("duckdb") if kinds else {}
    cluster = pd.Series(cluster_of, index=records.index)
    best = pd.concat(
        [
            pairs[["id_l", "match_probability"]].set_axis(["id", "p"], axis=1),
            pairs[["id_r", "match_probability"]].set_axis(["id", "p"], axis=1),
        ]
    )
    best_p = best.groupby("id")["p"].max().reindex(records[ID]).to_numpy()
    size = cluster.map(cluster.value_counts())

    existing = _existing_keys(con)
    key = derive(master_key(settings), "pseudonym")
    linked = _assign_keys(records, cluster, existing, key)
    kept = int(linked[linked.isin(set(existing["linked_key"].dropna()))].nunique())
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
    prior = model.get("probability_two_random_records_match")
    parameters = parameters_table(model)
    return {
        "records": len(records),
        "clusters": int(cluster.nunique()),
        "pairs": len(pairs),
        "feeds": {str(f): int(n) for f, n in records["feed"].value_counts().sort_index().items()},
        "seconds": round(time.monotonic() - started, 2),
        "threshold": threshold,
        "kept_keys": kept,
        "model": {
            "link_type": "dedupe_only",
            "columns": {c: {"kind": k, "comparison": COMPARISONS[k]} for c, k in kinds.items()},
            "blocking_rules": [r.describe() for r in rules],
            "training_rules": [r.describe() for r in training],
            "probability_two_random_records_match": None if prior is None else float(prior),
            "parameters": parameters.astype(object)
            .where(parameters.notna(), None)
            .to_dict("records"),
        },
    }
