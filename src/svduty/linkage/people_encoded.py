"""Linking the partnership's person-level feeds at the hub on encodings alone (encoded mode).

Each partner encodes its feed's files at its own site with ``svduty encode FEED FILE``
(:func:`svduty.privacy.bloom.encode_feed_file`), under the partnership's secret, which the hub
never holds. :func:`link_people_encoded` reads those files at the hub, checks that they were all
encoded under one secret and one setting, stacks them (a field or blocking rule a feed lacks is
missing for its records), deduplicates the stack with the unsupervised Fellegi-Sunter model of
:mod:`svduty.linkage.encoded`, and writes ``person_links`` exactly as the trusted mode's
:func:`svduty.linkage.people.link_people` does: one row per person record of the warehouse, with
a stable keyed pseudonym of its cluster.

The files carry each record's feed, record reference and (where the feed has one that is not an
identifier) person reference; the hub turns the references into its keyed pseudonyms at once
(the warehouse's ``record_key`` and ``person_key``) and keeps neither. No name, date of birth or
postcode reaches the hub: the files hold none, and nothing from them but pseudonyms and counts
is written, logged or returned.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from svduty.config import Settings
from svduty.datasets.partners import FEEDS
from svduty.errors import ConfigError
from svduty.linkage.encoded import check_schemes, dedupe_union, read_encoded, union_encoded
from svduty.linkage.people import _existing_keys, write_links
from svduty.privacy.bloom import BLOCK_PREFIX, ENCODING_PREFIX
from svduty.privacy.keys import derive, master_key
from svduty.privacy.pseudonyms import pseudonym

IDENT = ["feed", "record_key", "person_key"]


def encoded_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files of encodings named by ``paths``: files as given, and every ``*.csv`` file of a
    folder (sorted), so that the hub can be pointed at the folder the partners' files land in.

    Raises:
        ConfigError: a path that does not exist, or no file at all.
    """
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(p for p in path.rglob("*.csv") if p.is_file())
        elif path.is_file():
            files.append(path)
        else:
            raise ConfigError(f"no file or folder of encodings at {path}")
    if not files:
        raise ConfigError("no file of encodings given (the partners' `svduty encode` output)")
    return list(dict.fromkeys(files))


def read_feed_encodings(files: Iterable[str | Path]) -> tuple[pd.DataFrame, dict[str, str]]:
    """The encodings of the feeds' files stacked into one table, and the scheme they share.

    Each file must be a person-level feed's encodings (``svduty encode FEED FILE``: columns
    ``feed``, ``id``, ``bf:<field>``...); files may hold different fields.

    Raises:
        ConfigError: naming the file that is not a feed's encodings, or that was encoded under
            another secret or other settings than the files before it.
    """
    frames: dict[str, pd.DataFrame] = {}
    for path in files:
        df = read_encoded(path)
        if "feed" not in df.columns:
            raise ConfigError(
                f"{path} holds encodings but no feed column: encode each partner file with "
                "`svduty encode FEED FILE`, which records the feed and the references"
            )
        feeds = set(df["feed"].dropna())
        unknown = sorted(f for f in feeds if f not in FEEDS or not FEEDS[f].person_level)
        if unknown or df["feed"].isna().any():
            raise ConfigError(
                f"{path}: the feed column must name person-level feeds "
                f"({', '.join(n for n, f in FEEDS.items() if f.person_level)}); found "
                f"{', '.join(unknown) or 'an empty value'}"
            )
        if len(df):
            frames[str(path)] = df
    scheme = check_schemes(frames)
    union = union_encoded(list(frames.values()))
    for column in ("feed", "person"):
        if column not in union.columns:
            union[column] = None
    return union, scheme


def warehouse_records(con: Any) -> pd.DataFrame:
    """Every person record of the warehouse (``feed``, ``record_key``, ``person_key``), earliest
    first (month, feed, row of its file): the rows ``person_links`` must cover."""
    tables = set(con.list_tables())
    frames = []
    for name, feed in FEEDS.items():
        if not feed.person_level or feed.table not in tables:
            continue
        t = con.table(feed.table).select("record_key", "person_key", "month", "source_row")
        frame = t.to_pandas()
        frame.insert(0, "feed", name)
        frames.append(frame)
    if not frames:
        return pd.DataFrame({c: [] for c in [*IDENT, "month", "source_row"]}, dtype=object)
    records = pd.concat(frames, ignore_index=True)
    records = records.sort_values(["month", "feed", "source_row"], kind="stable")
    records = records.reset_index(drop=True)
    return records.astype(object).where(records.notna(), None)


def attach(
    encodings: pd.DataFrame, records: pd.DataFrame, key: bytes
) -> tuple[np.ndarray, dict[str, int]]:
    """For each warehouse record, the row of ``encodings`` that is its (-1 where none is).

    An encoding is attached through the hub's pseudonyms of its references: (feed, record,
    person) where the file carries the person reference, else (feed, record) when that names one
    warehouse person. The counts say what could not be attached: ``unmatched`` encodings (no
    warehouse row: a row quarantined at loading, or a file never loaded), ``ambiguous`` ones (a
    record reference of several people and no person reference) and ``duplicates`` (a record
    encoded twice: the first is used).
    """
    feed = encodings["feed"].to_numpy()
    record_keys = [
        pseudonym(key, f"{f}:record", str(v)) for f, v in zip(feed, encodings["id"], strict=True)
    ]
    person_keys = [
        None if v is None else pseudonym(key, f"{f}:person", str(v))
        for f, v in zip(feed, encodings["person"], strict=True)
    ]
    keyed = pd.DataFrame(
        {
            "feed": feed,
            "record_key": record_keys,
            "person_key": person_keys,
            "row": range(len(feed)),
        }
    )
    rows = records[IDENT].assign(at=range(len(records)))
    full = rows.dropna(subset=["person_key"]).merge(
        keyed.dropna(subset=["person_key"]), on=IDENT, how="inner"
    )
    # by record alone: only where the record names one person of the warehouse
    people = rows.groupby(["feed", "record_key"], dropna=False)["person_key"].nunique(dropna=False)
    single = people[people == 1].reset_index()[["feed", "record_key"]]
    loose = keyed[keyed["person_key"].isna()].drop(columns="person_key")
    partial = loose.merge(single, on=["feed", "record_key"]).merge(
        rows.drop(columns="person_key"), on=["feed", "record_key"]
    )
    matched = pd.concat([full[["at", "row"]], partial[["at", "row"]]], ignore_index=True)
    matched = matched.sort_values(["at", "row"], kind="stable")
    first = matched.drop_duplicates("at")
    row_of = np.full(len(records), -1, np.int64)
    row_of[first["at"].to_numpy(np.int64)] = first["row"].to_numpy(np.int64)
    used = set(first["row"].tolist())
    known = set(matched["row"].tolist())
    in_records = set(zip(records["feed"], records["record_key"], strict=True))
    ambiguous = sum(
        1
        for r in loose.itertuples(index=False)
        if r.row not in known and (r.feed, r.record_key) in in_records
    )
    return row_of, {
        "unmatched": len(encodings) - len(known) - ambiguous,
        "ambiguous": ambiguous,
        "duplicates": len(known) - len(used),
    }


def link_people_encoded(
    con: Any, settings: Settings, paths: Iterable[str | Path], threshold: float = 0.9
) -> dict[str, Any]:
    """Link the person records of every person-level feed on the partners' encodings, and write
    ``person_links`` (the table :func:`svduty.linkage.people.link_people` writes).

    Args:
        con: the warehouse (:func:`svduty.warehouse.connect`).
        settings: the data folder and key of that warehouse (for its pseudonyms).
        paths: the partners' files of encodings (``svduty encode FEED FILE``), or folders of them
            (every ``*.csv`` below).
        threshold: the match probability from which two records are the same person, in (0, 1].

    Returns:
        A summary without any identifier: ``records`` (warehouse person records), ``clusters``,
        ``pairs``, ``feeds`` (records per feed), ``seconds``, ``threshold``, ``kept_keys``
        (clusters that kept an existing key), ``files``, ``encodings`` (rows read),
        ``unmatched_encodings`` (encodings of no warehouse record), ``ambiguous_encodings``,
        ``duplicate_encodings``, ``records_without_encoding`` (records linked to nothing: no
        partner file encoded them), ``candidates`` and ``model`` (the scheme's settings less its
        key tag, the blocking rules, the prior and each field's Dice cuts and m/u probabilities).

    Raises:
        ConfigError: a bad threshold; a file that is not a feed's encodings, or that was encoded
            under another secret or settings than the others (the message names it).
    """
    if not 0 < threshold <= 1:
        raise ConfigError(f"threshold must be a match probability in (0, 1]; got {threshold}")
    started = time.monotonic()
    files = encoded_files(paths)
    encodings, scheme = read_feed_encodings(files)
    records = warehouse_records(con)
    key = derive(master_key(settings), "pseudonym")
    row_of, counts = attach(encodings, records, key)

    linked_rows = np.flatnonzero(row_of >= 0)
    table = encodings.iloc[row_of[linked_rows]].reset_index(drop=True)
    table = table[[c for c in table.columns if c.startswith((ENCODING_PREFIX, BLOCK_PREFIX))]]
    table.insert(0, "id", [str(r) for r in linked_rows])
    pairs, labels = dedupe_union(table, threshold)

    # clusters over all warehouse records: those without an encoding stand alone
    cluster = np.arange(len(records), dtype=np.int64) + len(table)
    cluster[linked_rows] = labels
    cluster_s = pd.Series(cluster, index=records.index)
    best = np.full(len(records), np.nan)
    if len(pairs):
        ends = np.concatenate([pairs["i"].to_numpy(np.int64), pairs["j"].to_numpy(np.int64)])
        p = np.concatenate([pairs["match_probability"].to_numpy()] * 2)
        top = pd.Series(p).groupby(ends).max()
        best[linked_rows[top.index.to_numpy()]] = top.to_numpy()
    kept = write_links(con, settings, records, cluster_s, best, _existing_keys(con))
    model = dict(pairs.attrs.get("model", {}))
    model["scheme"] = {k: v for k, v in scheme.items() if k != "key"}
    return {
        "mode": "encoded",
        "records": len(records),
        "clusters": int(cluster_s.nunique()),
        "pairs": len(pairs),
        "feeds": {str(f): int(n) for f, n in records["feed"].value_counts().sort_index().items()},
        "seconds": round(time.monotonic() - started, 2),
        "threshold": threshold,
        "kept_keys": kept,
        "files": len(files),
        "encodings": len(encodings),
        "unmatched_encodings": counts["unmatched"],
        "ambiguous_encodings": counts["ambiguous"],
        "duplicate_encodings": counts["duplicates"],
        "records_without_encoding": int((row_of < 0).sum()),
        "candidates": int(pairs.attrs.get("candidates", 0)),
        "model": model,
    }
