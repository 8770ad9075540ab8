"""Linking two CSV extracts, or deduplicating one, on plain identifiers ("trusted" mode).

:func:`link_files` reads the files as strings, infers a comparison for each column
(:mod:`svduty.linkage.model`), trains a Fellegi-Sunter model without labels with Splink on DuckDB,
and returns the pairs scored at or above a match probability and the clusters they form.
:func:`write_pairs`, :func:`write_clusters` and :func:`write_model` write them.

Nothing here logs or raises with a record's values or ids: messages name the file, the column,
the rule and a row number. Splink's own logging is held at WARNING while it runs.
"""

from __future__ import annotations

import csv
import json
import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import pandas as pd
from splink import DuckDBAPI, Linker, SettingsCreator

from svduty.errors import ConfigError, FileRefused
from svduty.linkage.model import (
    COMPARISONS,
    BlockingRule,
    choose_blocking_rules,
    choose_training_rules,
    classify_column,
    comparison_for,
    parameters_table,
)
from svduty.linkage.review import SCORED_FLOOR, estimate_quality

ID = "svduty_id"  # the id column's name inside the model
_TABLES = {"svduty_left": "left", "svduty_right": "right"}  # Splink's table name -> side
_RESERVED = {ID, "source_dataset", "match_weight", "match_probability", "cluster_id", "unique_id"}
U_MAX_PAIRS = 2_000_000  # random pairs for the u probabilities
U_CHUNKS = 10
MAX_MATCHES_PER_RECORD = 5  # bounds the prior (see prior_ceiling)
CLASSIFY_SAMPLE = 20_000  # values per column looked at to infer its kind


@dataclass(frozen=True)
class LinkResult:
    """What :func:`link_files` found, and the model that found it.

    Attributes:
        pairs: ``id_l, id_r, match_probability``, one row per pair at or above the threshold,
            sorted by ``id_l`` then ``id_r``. Linking, ``id_l`` is from the left file;
            deduplicating, ``id_l`` is the smaller of the two (as strings).
        clusters: ``id, source, cluster_id`` for every record (``source`` is ``left`` or
            ``right``); records joined by pairs at or above the threshold share a cluster, numbered
            from 1 in the order of their first member.
        link_type: Splink's ``link_only`` (two files) or ``dedupe_only`` (one).
        threshold: the match probability at which pairs were kept and clustered.
        seed: the seed of the random sampling for the u probabilities.
        records: how many records each file held (``left``, ``right``).
        columns: each comparison column (as in the file) and the kind inferred for it.
        blocking_rules: the rules that chose which pairs were scored, in words.
        training_rules: the blocking rules of the expectation-maximisation sessions.
        probability_two_random_records_match: the prior the model used (derived from EM).
        parameters: m, u and match weight per comparison level (see
            :func:`svduty.linkage.model.parameters_table`).
        settings: the trained model as Splink writes it (column names as the model saw them).
        scored: ``id_l, id_r, match_probability`` for every candidate pair scored at or above
            ``scored_floor`` (below the threshold too), as ``pairs``; what a clerical review
            sample is drawn from (:func:`svduty.linkage.review.review_sample`).
        estimates: the model's own estimates of precision, recall and F1, from the match
            probabilities of every candidate pair
            (:func:`svduty.linkage.review.estimate_quality`).
    """

    pairs: pd.DataFrame
    clusters: pd.DataFrame
    link_type: str
    threshold: float
    seed: int
    records: dict[str, int]
    columns: dict[str, str]
    blocking_rules: list[str]
    training_rules: list[str]
    probability_two_random_records_match: float
    parameters: pd.DataFrame
    settings: dict[str, Any] = field(repr=False)
    scored: pd.DataFrame | None = field(default=None, repr=False)
    estimates: dict[str, Any] | None = None

    def summary(self) -> dict[str, Any]:
        """The run's parameters and model, JSON-ready, to write beside its outputs."""
        return {
            "link_type": self.link_type,
            "threshold": self.threshold,
            "seed": self.seed,
            "records": self.records,
            "pairs": len(self.pairs),
            "clusters": int(self.clusters["cluster_id"].nunique()),
            "columns": {
                c: {"kind": k, "comparison": COMPARISONS[k]} for c, k in self.columns.items()
            },
            "blocking_rules": self.blocking_rules,
            "training_rules": self.training_rules,
            "probability_two_random_records_match": self.probability_two_random_records_match,
            "parameters": self.parameters.astype(object)
            .where(self.parameters.notna(), None)
            .to_dict("records"),
            "model_estimates": self.estimates,
            "splink_settings": self.settings,
        }


def read_extract(path: Path, id_column: str) -> pd.DataFrame:
    """Read a CSV extract as strings, the id column first, refusing what cannot be linked.

    A byte-order mark, the space after each comma and spaces around values are removed; empty
    values become missing. Leading zeros are kept (nothing is parsed as a number).

    Raises:
        FileRefused: the file is missing, empty, not UTF-8 CSV, has a repeated column name or a
            row with more or fewer fields than the header, lacks ``id_column``, or has an empty or
            repeated id. The message names the file, the column
            and a row number (the header is row 1), never a value.

    Examples:
        >>> import tempfile
        >>> p = Path(tempfile.mkdtemp()) / "a.csv"
        >>> _ = p.write_text("\\ufeffid, name\\n007, Ann \\n008,\\n", encoding="utf-8")
        >>> read_extract(p, "id").to_dict("list")
        {'id': ['007', '008'], 'name': ['Ann', None]}
        >>> read_extract(p, "nhs_number")
        Traceback (most recent call last):
        svduty.errors.FileRefused: ...a.csv: the id column 'nhs_number' is not in the header ...
    """
    source = str(path)
    if not Path(path).is_file():
        raise FileRefused(source, "missing", "the file does not exist; check the path")
    rows: list[list[str]] = []
    lines: list[int] = []  # the line each record starts on, the header's being 1
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f, skipinitialspace=True, strict=True)
            start = 1
            for row in reader:
                if row:  # a blank line is no record
                    rows.append(row)
                    lines.append(start)
                start = reader.line_num + 1
    except UnicodeDecodeError as e:
        raise FileRefused(
            source, "encoding", "the file is not UTF-8 text; save it as CSV UTF-8"
        ) from e
    except csv.Error as e:
        raise FileRefused(
            source, "not-csv", f"the file is not valid CSV after row {start - 1} ({e})"
        ) from e
    if len(rows) < 2:
        raise FileRefused(source, "empty", "the file has no records; expected a header and rows")
    header = [c.strip() for c in rows[0]]
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise FileRefused(
            source, "header", f"column name(s) {', '.join(map(repr, repeated))} appear twice"
        )
    if id_column not in header:
        raise FileRefused(
            source,
            "id-column",
            f"the id column {id_column!r} is not in the header (columns: {', '.join(header)}); "
            "name the column that holds each record's unique id",
        )
    widths = [len(row) != len(header) for row in rows[1:]]
    if any(widths):
        raise FileRefused(
            source,
            "field-count",
            f"{sum(widths)} row(s) do not have the header's {len(header)} fields, the first "
            f"in row {lines[widths.index(True) + 1]} (the header is row 1)",
        )
    frame = pd.DataFrame(rows[1:], columns=header, dtype=object)
    frame = frame.apply(lambda s: s.str.strip()).replace("", None)
    ids = frame[id_column]
    for rule, bad, what in (
        ("id-empty", ids.isna(), "empty"),
        ("id-unique", ids.duplicated(keep=False) & ids.notna(), "repeated"),
    ):
        if bad.any():
            first = lines[int(bad.to_numpy().argmax()) + 1]
            raise FileRefused(
                source,
                rule,
                f"the id column {id_column!r} has {int(bad.sum())} {what} value(s), the first "
                f"in row {first} (the header is row 1); every record needs its own id",
            )
    return frame[[id_column] + [c for c in header if c != id_column]]


@cache
def _sql_keywords() -> frozenset[str]:
    with duckdb.connect(":memory:") as con:
        sql = "select keyword_name from duckdb_keywords() where keyword_category = 'reserved'"
        return frozenset(row[0] for row in con.sql(sql).fetchall())


def _model_names(columns: Sequence[str]) -> dict[str, str]:
    """Safe SQL names for the model, one per column, readable where possible.

    Examples:
        >>> _model_names(["Last Name", "last_name", "DOB", "1st", "match_weight", "Order"])
        {'Last Name': 'last_name', 'last_name': 'last_name_2', 'DOB': 'dob', '1st': 'c_1st', \
'match_weight': 'match_weight_2', 'Order': 'c_order'}
    """
    names: dict[str, str] = {}
    for column in columns:
        base = re.sub(r"[^a-z0-9]+", "_", column.lower()).strip("_") or "column"
        if base[0].isdigit() or base in _sql_keywords():
            base = "c_" + base
        name, n = base, 1
        while name in names.values() or name in _RESERVED:
            n += 1
            name = f"{base}_{n}"
        names[column] = name
    return names


def _normalise(values: pd.Series, kind: str | None = None) -> pd.Series:
    """Case and spaces out of the way; postcodes and long numbers without spaces; dates as ISO
    (``yyyymmdd`` and UK day-first ``d/m/yyyy`` rewritten, anything else left as text).

    Examples:
        >>> _normalise(pd.Series([" Mary  Ann ", None])).tolist()
        ['mary ann', None]
        >>> _normalise(pd.Series(["sw1a 1aa"]), "postcode").tolist()
        ['sw1a1aa']
        >>> _normalise(pd.Series(["19800131", "1/2/1999", "1999-02-01"]), "date").tolist()
        ['1980-01-31', '1999-02-01', '1999-02-01']
    """
    if kind is None:
        return values.str.casefold().str.replace(r"\s+", " ", regex=True).str.strip()
    if kind in ("postcode", "identifier"):
        return values.str.replace(r"[\s-]+", "", regex=True)
    if kind == "date":
        values = values.str.replace(r"^(\d{4})(\d{2})(\d{2})$", r"\1-\2-\3", regex=True)
        return values.str.replace(
            r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$",
            lambda m: f"{m[3]}-{int(m[2]):02d}-{int(m[1]):02d}",
            regex=True,
        )
    return values


def _comparison_columns(
    paths: Sequence[Path], frames: Sequence[pd.DataFrame], id_column: str, columns: list[str] | None
) -> list[str]:
    if columns is not None:
        if not columns:
            raise ConfigError("no comparison columns were given; name at least one")
        if id_column in columns:
            raise ConfigError(f"the id column {id_column!r} cannot also be a comparison column")
        for path, frame in zip(paths, frames, strict=True):
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise FileRefused(
                    str(path),
                    "column",
                    f"comparison column(s) {', '.join(map(repr, missing))} not in the header "
                    f"(columns: {', '.join(frame.columns)})",
                )
        return list(columns)
    common = [c for c in frames[0].columns if c != id_column and all(c in f for f in frames)]
    if not common:
        raise FileRefused(
            str(paths[-1]),
            "column",
            "the files share no column besides the id; give both files the same column names",
        )
    return common


@contextmanager
def _splink_quiet() -> Iterator[None]:
    """Splink logs at INFO what it does; only its warnings get through."""
    logger = logging.getLogger("splink")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def link_files(
    left: Path,
    right: Path | None,
    id_column: str,
    columns: list[str] | None = None,
    threshold: float = 0.5,
    seed: int = 42,
    *,
    scored_floor: float = SCORED_FLOOR,
) -> LinkResult:
    """Link two CSV extracts (``link_only``), or deduplicate one (``dedupe_only``), with Splink.

    The model compares every column but the id (or only ``columns``), each by what its name and
    content say it is (names by Jaro-Winkler, dates and postcodes by edit distance, ...), scores
    the pairs found by several blocking rules, and learns its weights from the files themselves:
    u from random pairs (``seed``), m by expectation maximisation. Pairs with a match probability
    at or above ``threshold`` are kept and clustered (connected components).

    Args:
        left: the first CSV file.
        right: the second CSV file, or None to deduplicate ``left``.
        id_column: the column holding each record's unique id, in every file.
        columns: the columns to compare; by default every column the files share but the id.
        threshold: the match probability from which a pair is a match, in (0, 1].
        seed: the seed of the random sampling, so that a run can be repeated exactly.
        scored_floor: the lowest match probability kept in ``scored`` (at most ``threshold``).
            Every candidate pair, however unlikely, counts in ``estimates``.

    Returns:
        The pairs, clusters and trained model (:class:`LinkResult`).

    Raises:
        FileRefused: a file cannot be read, lacks the id column or a comparison column, or has
            empty or repeated ids (the message names the file, the column and the rule).
        ConfigError: ``threshold`` or ``columns`` is not usable.

    Examples:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp())
        >>> people = ["ann,lee,1990-01-01", "bob,ray,1985-05-05", "cat,ng,1970-07-07"]
        >>> _ = (d / "a.csv").write_text("\\n".join(["id,first_name,surname,dob"] + [
        ...     f"a{i},{p}" for i, p in enumerate(people)]))
        >>> _ = (d / "b.csv").write_text("\\n".join(["id,first_name,surname,dob"] + [
        ...     f"b{i},{p}" for i, p in enumerate(reversed(people))]))
        >>> result = link_files(d / "a.csv", d / "b.csv", "id")
        >>> sorted(zip(result.pairs.id_l, result.pairs.id_r))
        [('a0', 'b2'), ('a1', 'b1'), ('a2', 'b0')]
    """
    if not 0 < threshold <= 1:
        raise ConfigError(f"threshold must be a match probability in (0, 1]; got {threshold}")
    if not 0 < scored_floor <= 1:
        raise ConfigError(f"scored_floor must be a probability in (0, 1]; got {scored_floor}")
    floor = min(scored_floor, threshold)
    paths = [Path(left)] + ([Path(right)] if right is not None else [])
    frames = [read_extract(p, id_column) for p in paths]
    chosen = _comparison_columns(paths, frames, id_column, columns)
    names = _model_names(chosen)
    model_frames = [
        f[[id_column, *chosen]].rename(columns={id_column: ID, **names}) for f in frames
    ]
    kinds: dict[str, str] = {}
    for column in names.values():
        for f in model_frames:
            f[column] = _normalise(f[column])
        sample = pd.concat([f[column].dropna() for f in model_frames])
        sample = sample.sample(min(len(sample), CLASSIFY_SAMPLE), random_state=seed)
        kinds[column] = classify_column(column, sample)
        for f in model_frames:
            f[column] = _normalise(f[column], kinds[column])
    link_type: Literal["link_only", "dedupe_only"] = (
        "link_only" if len(frames) == 2 else "dedupe_only"
    )
    rules = choose_blocking_rules(model_frames, kinds)
    training = choose_training_rules(rules, kinds)
    settings = SettingsCreator(
        link_type=link_type,
        unique_id_column_name=ID,
        comparisons=[comparison_for(c, k) for c, k in kinds.items()],
        blocking_rules_to_generate_predictions=[r.splink_rule() for r in rules],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        linker_uid="svduty",  # so that the written model is the same from run to run
    )
    if rules:
        con = duckdb.connect(":memory:")
        try:
            with _splink_quiet():
                pairs, clusters, model, scored, probabilities = _run_splink_scored(
                    con, model_frames, settings, training, threshold, seed, floor
                )
        finally:
            con.close()
    else:  # no rule finds a single pair: Splink would score every pair instead
        pairs = pd.DataFrame({"id_l": [], "id_r": [], "match_probability": []})
        pairs = pairs.astype({"id_l": str, "id_r": str, "match_probability": float})
        tables = list(_TABLES)[: len(model_frames)]
        nodes = pd.concat(
            [f[[ID]].assign(source_dataset=t) for f, t in zip(model_frames, tables, strict=True)],
            ignore_index=True,
        )
        clusters = _clusters(nodes.assign(cluster_id=nodes.index))
        model = settings.create_settings_dict("duckdb")
        scored, probabilities = pairs.copy(), np.zeros(0)
    originals = {v: k for k, v in names.items()}
    return LinkResult(
        pairs=pairs,
        clusters=clusters,
        link_type=link_type,
        threshold=threshold,
        seed=seed,
        records={side: len(f) for side, f in zip(("left", "right"), frames, strict=False)},
        columns={originals[c]: k for c, k in kinds.items()},
        blocking_rules=[r.describe() for r in rules],
        training_rules=[r.describe() for r in training],
        probability_two_random_records_match=float(model["probability_two_random_records_match"]),
        parameters=parameters_table(model),
        settings=model,
        scored=scored,
        estimates=estimate_quality(probabilities, threshold, floor),
    )


def _trained_linker(
    con: duckdb.DuckDBPyConnection,
    frames: Sequence[pd.DataFrame],
    settings: SettingsCreator,
    training: Sequence[BlockingRule],
    seed: int,
) -> tuple[Linker, dict[str, Any]]:
    """Train the model (u by random sampling, m by EM per training rule, the prior capped) and
    return a linker that predicts with it, and the model as Splink saves it."""
    db_api = DuckDBAPI(connection=con)
    names = list(_TABLES)[: len(frames)]
    tables = [db_api.register(f, table_name=n) for f, n in zip(frames, names, strict=True)]
    linker = Linker(tables if len(tables) == 2 else tables[0], settings, log_level=None)
    linker.training.estimate_u_using_random_sampling(
        max_pairs=U_MAX_PAIRS, seed=seed, num_chunks=U_CHUNKS
    )
    for i, rule in enumerate(training):
        last = i == len(training) - 1
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule.splink_rule(),
            estimate_without_term_frequencies=True,
            # The prior (how likely two random records match) is derived once, from every session.
            populate_probability_two_random_records_match_from_trained_values=last,
        )
    model = linker.misc.save_model_to_json()
    prior = model["probability_two_random_records_match"]
    model["probability_two_random_records_match"] = min(prior, prior_ceiling(frames))
    linker = Linker(tables if len(tables) == 2 else tables[0], model, log_level=None)
    return linker, model


def _run_splink_scored(
    con: duckdb.DuckDBPyConnection,
    frames: Sequence[pd.DataFrame],
    settings: SettingsCreator,
    training: Sequence[BlockingRule],
    threshold: float,
    seed: int,
    floor: float,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any], pd.DataFrame, np.ndarray]:
    """Train the model, score every candidate pair and cluster at ``threshold``: the pairs at or
    above it, the clusters, the model, the pairs scored at or above ``floor`` and every candidate
    pair's match probability (for :mod:`svduty.linkage.review`)."""
    linker, model = _trained_linker(con, frames, settings, training, seed)
    predictions = linker.inference.predict(warning_mode="never")  # every candidate pair
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold
    )
    relation = predictions.as_duckdbpyrelation()
    probabilities = relation.select("match_probability").fetchnumpy()["match_probability"]
    kept = relation.filter(f"match_probability >= {float(floor)!r}").df()
    dedupe = len(frames) == 1
    scored = _pairs(kept, floor, dedupe)
    pairs = _pairs(kept, threshold, dedupe)
    clusters = _clusters(clustered.as_pandas_dataframe())
    return pairs, clusters, model, scored, np.asarray(probabilities, dtype=float)


def prior_ceiling(frames: Sequence[pd.DataFrame]) -> float:
    """The largest prior the model may use: as if each record had :data:`MAX_MATCHES_PER_RECORD`
    matches. EM on a few blocked pairs (a small file) can derive a prior near 1, which would
    link every candidate pair.

    Examples:
        >>> one, other = pd.DataFrame(index=range(1000)), pd.DataFrame(index=range(5000))
        >>> prior_ceiling([one, other]), round(prior_ceiling([one]), 5)
        (0.001, 0.01001)
    """
    sizes = [max(len(f), 2) for f in frames]
    if len(sizes) == 2:
        ceiling = MAX_MATCHES_PER_RECORD / max(sizes)
    else:
        ceiling = MAX_MATCHES_PER_RECORD * 2 / (sizes[0] - 1)
    return min(ceiling, 0.5)


def _pairs(predictions: pd.DataFrame, threshold: float, dedupe: bool) -> pd.DataFrame:
    p = predictions[predictions["match_probability"] >= threshold]
    a, b = p[f"{ID}_l"].astype(str), p[f"{ID}_r"].astype(str)
    # deduplicating, the smaller id goes first; linking, the left file's id
    first = a <= b if dedupe else p["source_dataset_l"] == "svduty_left"
    out = pd.DataFrame(
        {
            "id_l": a.where(first, b),
            "id_r": b.where(first, a),
            "match_probability": p["match_probability"].astype(float),
        }
    )
    return out.sort_values(["id_l", "id_r"], kind="stable").reset_index(drop=True)


def _clusters(clustered: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "id": clustered[ID].astype(str),
            # deduplicating, Splink has no source_dataset column: every record is from the left
            "source": clustered.get("source_dataset", pd.Series("", clustered.index))
            .map(_TABLES)
            .fillna("left"),
            "splink_cluster": clustered["cluster_id"].astype(str),
        }
    )
    out = out.sort_values(["source", "id"], kind="stable").reset_index(drop=True)
    # Renumbered in order of first member, so that the numbers do not carry Splink's node ids.
    order = {c: i + 1 for i, c in enumerate(out["splink_cluster"].drop_duplicates())}
    out["cluster_id"] = out.pop("splink_cluster").map(order).astype(int)
    return out


def write_pairs(result: LinkResult, path: Path) -> Path:
    """Write the pairs as CSV with the header ``id_l,id_r,match_probability``.

    Examples:
        >>> import tempfile
        >>> pairs = pd.DataFrame({"id_l": ["a1"], "id_r": ["b7"], "match_probability": [0.98]})
        >>> r = LinkResult(pairs, pd.DataFrame(), "link_only", 0.5, 42, {}, {}, [], [], 1e-4,
        ...                pd.DataFrame(), {})
        >>> print(write_pairs(r, Path(tempfile.mkdtemp()) / "p.csv").read_text(), end="")
        id_l,id_r,match_probability
        a1,b7,0.98
    """
    path = Path(path)
    result.pairs[["id_l", "id_r", "match_probability"]].to_csv(path, index=False)
    return path


def write_clusters(result: LinkResult, path: Path) -> Path:
    """Write the clusters as CSV with the header ``id,source,cluster_id``, one row per record."""
    path = Path(path)
    result.clusters[["id", "source", "cluster_id"]].to_csv(path, index=False)
    return path


def write_model(result: LinkResult, path: Path) -> Path:
    """Write the run's parameters and trained model (:meth:`LinkResult.summary`) as JSON."""
    path = Path(path)
    path.write_text(json.dumps(result.summary(), indent=2) + "\n", encoding="utf-8")
    return path
