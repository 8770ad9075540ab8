"""Linkage at the hub on Bloom-filter encodings only (see :mod:`svduty.privacy.bloom`).

The hub receives, from each partner, a file of encodings: a record id, one keyed Bloom filter per
identifying field and keyed blocking hashes. It never sees a name. Linkage runs in four steps:

1. **Blocking.** Candidate pairs agree on at least one keyed blocking hash (the union over the
   rules, each an equi-join).
2. **Comparison.** The Dice coefficient of each field's filters, for every candidate pair.
3. **Model.** A Fellegi-Sunter model (Fellegi & Sunter 1969), fields independent given match
   status. Each field's Dice coefficient falls into an agreement level: *identical* (Dice 1),
   then levels cut at the 99.9th, 99th and 90th percentiles of that field's Dice among random
   record pairs that are not identical, then *disagree*; a missing value is no evidence. Levels
   set from random pairs do not depend on the hardening (balancing lifts every Dice coefficient
   but keeps their order). The u-probabilities (how often non-matches fall in each level) are
   counted on 200,000 random pairs, nearly all non-matches (Splink's
   ``estimate_u_using_random_sampling``). The m-probabilities (the same for matches) are fitted
   by expectation-maximisation (Dempster, Laird & Rubin 1977; Winkler 1988), once per blocking
   rule on the pairs it found, leaving out the fields it blocks on, as Splink trains per blocking
   rule: among pairs chosen for agreeing on a field, that field says nothing more. No label is
   used. The prior is the share of matches among all pairs of records, and a pair's match
   probability the posterior ``prior * BF / (prior * BF + 1 - prior)``, ``BF`` the product of
   its fields' ``m/u``.
4. **Clusters.** Pairs at or above the threshold are edges; clusters are connected components.
"""

from __future__ import annotations

import binascii
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from svduty.errors import ConfigError
from svduty.privacy.bloom import BLOCK_PREFIX, ENCODING_PREFIX, dice, from_hex

RANDOM_PAIRS = 200_000
QUANTILES = (0.90, 0.99, 0.999)
CHUNK = 100_000
MIN_RULE_PAIRS = 50
MAX_RULE_PAIRS = 50_000_000
#: a block (records sharing one blocking hash) with more pairs than this is skipped, and
#: counted in ``pairs.attrs["skipped_blocks"]``: it would swamp the comparisons and say little
MAX_BLOCK_PAIRS = 1_000_000
PAIR_CHUNK = 4_000_000
DICE_CHUNK = 16_384


def read_encoded(source: pd.DataFrame | str | Path) -> pd.DataFrame:
    """A file of encodings (as :func:`svduty.privacy.bloom.encode_file` writes) or a table of
    them, checked for its columns; empty values become ``None``."""
    if isinstance(source, pd.DataFrame):
        df = source.copy()
    else:
        df = pd.read_csv(source, dtype=str, keep_default_na=False)
    missing = {"id", "scheme"} - set(df.columns)
    if missing or not any(c.startswith(ENCODING_PREFIX) for c in df.columns):
        raise ConfigError(
            f"{source if not isinstance(source, pd.DataFrame) else 'the table'} is not a file of "
            "encodings: expected columns id, scheme and bf:<field> (made by `svduty encode`)"
        )
    return df.astype(object).where(df.notna() & (df != ""), None)


def _scheme(df: pd.DataFrame) -> dict[str, str]:
    return _parse_scheme(df["scheme"].dropna().unique())


def _parse_scheme(schemes: Sequence[str]) -> dict[str, str]:
    if len(schemes) != 1:
        raise ConfigError("a file of encodings must carry one scheme; it was altered or mixed")
    head, _, fields = str(schemes[0]).partition(" fields=")
    parts = dict(p.split("=", 1) for p in head.split()[1:])
    parts.update({f.split(":", 1)[0]: f.split(":", 1)[1] for f in fields.split(",") if f})
    return parts


def check_compatible(left: pd.DataFrame, right: pd.DataFrame) -> list[str]:
    """The fields both files encode alike; :class:`ConfigError` when the files were encoded under
    different secrets or settings (their encodings could not be compared)."""
    return _compatible(_scheme(left), _scheme(right), list(left.columns), list(right.columns))


def _compatible(
    a: dict[str, str], b: dict[str, str], left: list[str], right: list[str]
) -> list[str]:
    for setting in ("bits", "hardening", "key"):
        if a.get(setting) != b.get(setting):
            raise ConfigError(
                f"the two files were encoded with different {setting} "
                f"({'secrets' if setting == 'key' else 'settings'}); both partners must encode "
                "with the same secret and settings"
            )
    fields = [
        c[len(ENCODING_PREFIX) :] for c in left if c.startswith(ENCODING_PREFIX) and c in right
    ]
    differ = [f for f in fields if a.get(f) != b.get(f)]
    if differ:
        raise ConfigError(f"fields {', '.join(differ)} were encoded with different kinds or k")
    if not fields:
        raise ConfigError("the two files have no encoded field in common")
    return fields


def check_schemes(files: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    """The settings several files of encodings share (``bits``, ``hardening``, ``key`` and each
    field's ``kind:k``), the files named by the mapping's keys.

    Files may encode different fields (a feed without NHS numbers has no ``bf:nhs_number``), but
    a field two files both encode must be encoded alike.

    Raises:
        ConfigError: naming the first file whose secret or settings disagree with the files
            before it (its encodings could not be compared with theirs), or whose scheme is mixed.
    """
    shared: dict[str, str] = {}
    first = ""
    for name, df in files.items():
        try:
            scheme = _scheme(df)
        except ConfigError as e:
            raise ConfigError(f"{name}: {e}") from e
        if not first:
            shared, first = dict(scheme), name
            continue
        for setting in ("bits", "hardening", "key"):
            if scheme.get(setting) != shared.get(setting):
                what = "a different secret" if setting == "key" else f"different {setting}"
                raise ConfigError(
                    f"{name} was encoded with {what} than {first}: its encodings cannot be "
                    "compared; every partner must encode with the partnership's secret and the "
                    "same settings"
                )
        for column in df.columns:
            if column.startswith(ENCODING_PREFIX):
                f = column[len(ENCODING_PREFIX) :]
                if f in shared and scheme.get(f) != shared[f]:
                    raise ConfigError(
                        f"{name} encodes field {f} as {scheme.get(f)}, the files before it as "
                        f"{shared[f]}; encode every file with the same kinds and k"
                    )
                shared.setdefault(f, scheme.get(f, ""))
    return shared


def union_encoded(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Files of encodings stacked into one table, their columns the union of theirs: a field or
    blocking rule a file lacks is missing (``None``) for its records, so the model takes it as
    no evidence and blocking never pairs on it."""
    if not frames:
        return pd.DataFrame({"id": [], "scheme": []}, dtype=object)
    columns = list(dict.fromkeys(c for df in frames for c in df.columns))
    union = pd.concat([df.reindex(columns=columns) for df in frames], ignore_index=True)
    return union.astype(object).where(union.notna(), None)


def candidate_pairs(
    left: pd.DataFrame, right: pd.DataFrame | None = None
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Row numbers (i, j) of the pairs that agree on at least one blocking hash (each pair once;
    ``i < j`` when deduplicating one file), and for each rule which of them it found."""
    other = left if right is None else right
    rules = [c for c in left.columns if c.startswith(BLOCK_PREFIX) and c in other.columns]
    if not rules:
        raise ConfigError("the files have no blocking rule in common (columns block:<rule>)")
    found = {}
    for rule in rules:
        a = pd.DataFrame({"key": left[rule], "i": np.arange(len(left))}).dropna()
        b = pd.DataFrame({"key": other[rule], "j": np.arange(len(other))}).dropna()
        size = (a["key"].value_counts() * b["key"].value_counts()).sum()
        if size > MAX_RULE_PAIRS:
            raise ConfigError(
                f"blocking rule {rule[len(BLOCK_PREFIX) :]} would compare {int(size):,} pairs "
                f"(at most {MAX_RULE_PAIRS:,}); encode with narrower blocking rules"
            )
        pairs = a.merge(b, on="key")
        if right is None:
            pairs = pairs[pairs["i"] < pairs["j"]]
        found[rule] = pairs["i"].to_numpy(np.int64) * len(other) + pairs["j"].to_numpy(np.int64)
    codes = np.unique(np.concatenate(list(found.values())))
    by_rule = {rule[len(BLOCK_PREFIX) :]: np.isin(codes, c) for rule, c in found.items()}
    return codes // len(other), codes % len(other), by_rule


def compare(
    left: pd.DataFrame,
    right: pd.DataFrame,
    i: np.ndarray,
    j: np.ndarray,
    fields: list[str],
) -> np.ndarray:
    """Dice coefficients of the pairs (i, j), one column per field (NaN where either is empty)."""
    out = np.full((len(i), len(fields)), np.nan)
    nbytes = encoding_bytes(left) or encoding_bytes(right)
    for f, name in enumerate(fields):
        column = ENCODING_PREFIX + name
        try:
            a = from_hex(left[column].tolist(), nbytes)
            b = from_hex(right[column].tolist(), nbytes)
        except ValueError as e:
            raise ConfigError(
                f"field {name}: an encoding is not hex of {nbytes} bytes; the file was altered"
            ) from e
        has_a, has_b = left[column].notna().to_numpy(), right[column].notna().to_numpy()
        for start in range(0, len(i), CHUNK):
            ii, jj = i[start : start + CHUNK], j[start : start + CHUNK]
            sims = dice(a[ii], b[jj])
            out[start : start + CHUNK, f] = np.where(has_a[ii] & has_b[jj], sims, np.nan)
    return out


def encoding_bytes(df: pd.DataFrame) -> int:
    """Bytes per encoding of a file (all its fields share one length)."""
    for column in df.columns:
        if column.startswith(ENCODING_PREFIX):
            present = df[column].dropna()
            if len(present):
                return len(present.iloc[0]) // 2
    return 0


@dataclass
class FellegiSunter:
    """A Fellegi-Sunter model over Dice agreement levels, per field.

    ``cuts[f]`` are the Dice thresholds of field ``f``'s levels (level 0 below the first,
    the last level Dice 1); ``m[f]`` and ``u[f]`` the probabilities of each level among matches
    and non-matches; ``prior`` the share of matches among all pairs of records.

    Examples:
        A planted mixture the model must recover: three fields, two of them blocked on by a
        rule each; matches agree on each field nine times in ten, the non-matches a rule finds
        agree on that rule's field only.

        >>> rng = np.random.default_rng(1)
        >>> model = FellegiSunter.from_random_pairs(list("abc"), rng.uniform(0, 0.6, (20000, 3)))
        >>> agree = lambda n: np.where(rng.uniform(size=n) < 0.9, 1.0, 0.3)
        >>> noise = lambda n: rng.uniform(0, 0.6, n)
        >>> sims = np.vstack([
        ...     np.column_stack([agree(400), agree(400), agree(400)]),  # 400 matches
        ...     np.column_stack([np.ones(300), noise(300), noise(300)]),
        ...     np.column_stack([noise(300), np.ones(300), noise(300)]),
        ... ])
        >>> blocks = {"a": (sims[:, 0] == 1, [0]), "b": (sims[:, 1] == 1, [1])}
        >>> model.fit(sims, blocks, total_pairs=1_000_000)
        >>> [round(float(m[-1]), 2) for m in model.m]  # P(identical | match), planted 0.9
        [0.9, 0.89, 0.93]
        >>> found = model.probability(model.levels(sims)) >= 0.5
        >>> int(found[:400].sum()), int(found[400:].sum())  # matches found, non-matches taken
        (388, 0)
    """

    fields: list[str]
    cuts: list[np.ndarray]
    u: list[np.ndarray]
    m: list[np.ndarray] = field(default_factory=list)
    prior: float = 0.01
    iterations: int = 0

    @classmethod
    def from_random_pairs(cls, fields: list[str], sims: np.ndarray) -> FellegiSunter:
        """Levels and u-probabilities from the Dice coefficients of random pairs."""
        cuts, us = [], []
        for f in range(len(fields)):
            s = sims[:, f][~np.isnan(sims[:, f])]
            below = s[s < 1.0]
            q = np.quantile(below, QUANTILES) if len(below) else np.array([])
            c = np.unique(np.append(q[(q > 0) & (q < 1.0)], 1.0))
            cuts.append(c)
            counts = np.bincount(np.searchsorted(c, s, side="right"), minlength=len(c) + 1)
            us.append((counts + 0.5) / (counts.sum() + 0.5 * len(counts)))
        m = [np.geomspace(0.01, 1.0, len(u)) / np.geomspace(0.01, 1.0, len(u)).sum() for u in us]
        return cls(list(fields), cuts, us, m)

    def levels(self, sims: np.ndarray) -> np.ndarray:
        """Agreement levels (-1 where a value is missing) of Dice coefficients."""
        out = np.full(sims.shape, -1, np.int8)
        for f, c in enumerate(self.cuts):
            present = ~np.isnan(sims[:, f])
            out[present, f] = np.searchsorted(c, sims[present, f], side="right")
        return out

    def log_odds(self, levels: np.ndarray) -> np.ndarray:
        """The log Bayes factor (natural log) of each pair: the sum of log(m/u) of its levels."""
        return _log_odds(levels, self.m, self.u)

    def probability(self, levels: np.ndarray) -> np.ndarray:
        """Posterior match probability of each pair."""
        logit = self.log_odds(levels) + np.log(self.prior) - np.log1p(-self.prior)
        return 1.0 / (1.0 + np.exp(-np.clip(logit, -700, 700)))

    def summary(self) -> dict:
        """The fitted model as plain numbers: the prior, and per field its Dice cuts and the m
        and u probabilities of each level (lowest level first)."""
        fields = {
            name: {"cuts": c.tolist(), "m": m.tolist(), "u": u.tolist()}
            for name, c, m, u in zip(self.fields, self.cuts, self.m, self.u, strict=True)
        }
        return {"prior": self.prior, "fields": fields}

    def _em(
        self,
        levels: np.ndarray,
        max_iterations: int,
        tolerance: float,
        counts: np.ndarray | None = None,
    ) -> list:
        """m-probabilities by expectation-maximisation on ``levels`` (``u`` fixed), with a prior
        of its own for these pairs; ``counts``: how many pairs each row of ``levels`` stands
        for (one each when ``None``)."""
        counts = np.ones(len(levels)) if counts is None else counts
        m, prior = [x.copy() for x in self.m], 0.5
        for _ in range(max_iterations):
            logit = _log_odds(levels, m, self.u) + np.log(prior) - np.log1p(-prior)
            p = 1.0 / (1.0 + np.exp(-np.clip(logit, -700, 700)))
            pc = p * counts
            new = []
            for f in range(len(self.fields)):
                present = levels[:, f] >= 0
                weights = np.bincount(levels[present, f], weights=pc[present], minlength=len(m[f]))
                new.append((weights + 1e-3) / (weights.sum() + 1e-3 * len(weights)))
            prior = float(np.clip(pc.sum() / counts.sum(), 1e-6, 1 - 1e-6))
            change = max(np.abs(a - b).max() for a, b in zip(new, m, strict=True))
            m = new
            self.iterations += 1
            if change < tolerance:
                break
        return m

    def fit(
        self,
        sims: np.ndarray,
        blocks: dict[str, tuple[np.ndarray, list[int]]],
        total_pairs: int,
        max_iterations: int = 100,
        tolerance: float = 1e-5,
    ) -> None:
        """Fit ``m`` and ``prior`` on candidate pairs, ``u`` staying as measured on random pairs.

        Blocking selects pairs that agree on the fields of its rules, so among candidates those
        fields no longer behave as they do among random pairs. As in Splink, the m-probabilities
        are therefore estimated by EM once per blocking rule, on the pairs that rule found and
        leaving out the rule's own fields, and each field's estimates are averaged (weighted by
        pairs) over the rules that leave it out. The prior is then the share of matches among
        *all* pairs of records (non-candidates taken as non-matches), found by a fixed-point
        iteration, so that a candidate's posterior counts the evidence of every field, blocked on
        or not, against the prior of a random pair.

        Args:
            sims: Dice coefficients of the candidate pairs, one column per field.
            blocks: rule -> (which candidates it found, the fields it blocks on).
            total_pairs: the number of record pairs in all (candidates or not).
        """
        levels = self.levels(sims)
        patterns, inverse = np.unique(levels, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        counts = np.bincount(inverse, minlength=len(patterns)).astype(float)
        weighted = {
            rule: (np.bincount(inverse[found], minlength=len(patterns)).astype(float), blocked)
            for rule, (found, blocked) in blocks.items()
        }
        self._fit_weighted(patterns, counts, weighted, total_pairs, max_iterations, tolerance)

    def _fit_weighted(
        self,
        levels: np.ndarray,
        counts: np.ndarray,
        blocks: dict[str, tuple[np.ndarray, list[int]]],
        total_pairs: int,
        max_iterations: int = 100,
        tolerance: float = 1e-5,
    ) -> None:
        """:meth:`fit` on distinct agreement patterns: ``levels`` one row per pattern, ``counts``
        the candidates with each, ``blocks`` rule -> (its candidates with each, its fields)."""
        sums = [np.zeros(len(u)) for u in self.u]
        n_field = np.zeros(len(self.fields))
        for found, blocked in blocks.values():
            rows = levels.copy()
            rows[:, blocked] = -1
            if found.sum() < MIN_RULE_PAIRS:
                continue
            for f, m in enumerate(self._em(rows, max_iterations, tolerance, found)):
                if f not in blocked:
                    n = float(found[rows[:, f] >= 0].sum())
                    sums[f] += n * m
                    n_field[f] += n
        # a field blocked on by every rule: EM on all candidates, that field included
        fallback = (
            self._em(levels, max_iterations, tolerance, counts) if (n_field == 0).any() else self.m
        )
        self.m = [sums[f] / n_field[f] if n_field[f] else fallback[f] for f in range(len(sums))]
        log_odds = self.log_odds(levels)
        prior = min(int(counts.sum()), 1) / max(total_pairs, 1)
        for _ in range(max_iterations):
            logit = log_odds + np.log(prior) - np.log1p(-prior)
            posterior = (counts / (1.0 + np.exp(-logit))).sum()
            new = float(np.clip(posterior / total_pairs, 1e-12, 0.5))
            if abs(new - prior) < tolerance * prior:
                break
            prior = new
        self.prior = new


def _log_odds(levels: np.ndarray, m: list[np.ndarray], u: list[np.ndarray]) -> np.ndarray:
    total = np.zeros(len(levels))
    for f in range(len(m)):
        present = levels[:, f] >= 0
        total[present] += (np.log(m[f]) - np.log(u[f]))[levels[present, f]]
    return total


def _random_pairs(n_left: int, n_right: int, dedupe: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20090901)  # fixed: the same files give the same model
    i = rng.integers(0, n_left, RANDOM_PAIRS)
    j = rng.integers(0, n_right, RANDOM_PAIRS)
    keep = i != j if dedupe else np.ones(len(i), bool)
    return i[keep], j[keep]


def link_encoded(
    left: pd.DataFrame | str | Path,
    right: pd.DataFrame | str | Path | None = None,
    threshold: float = 0.5,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Link two files of encodings (or deduplicate one) without any plain identifier.

    Args:
        left: a file of encodings (path) or the table :func:`svduty.privacy.bloom.encode_table`
            made.
        right: the other file; ``None`` to find duplicates within ``left``.
        threshold: the match probability at or above which a pair is a match.

    Returns:
        ``pairs``: ``id_l``, ``id_r``, ``match_probability``, ``match_weight`` (log2 Bayes
        factor) of the pairs at or above the threshold, most probable first; ``clusters``:
        ``source`` (``left``/``right``), ``id`` and ``cluster`` for every record, records in one
        cluster sharing its number. ``pairs.attrs`` holds ``candidates`` (the number of pairs
        compared) and ``model`` (the fitted model's :meth:`FellegiSunter.summary`).

    Examples:
        >>> from svduty.privacy.bloom import encode_table
        >>> people = pd.DataFrame({"ref": ["1", "2"], "surname": ["Dent", "Prefect"],
        ...                        "dob": ["1950-01-02", "1960-03-04"]})
        >>> fields = {"surname": "name", "dob": "date"}
        >>> a = encode_table(people, fields, b"s" * 32, id_column="ref")
        >>> b = encode_table(people.assign(surname=["Dnet", "Prefect"]), fields, b"s" * 32,
        ...                  id_column="ref")
        >>> pairs, clusters = link_encoded(a, b)
        >>> sorted(pairs[["id_l", "id_r"]].values.tolist())
        [['1', '1'], ['2', '2']]
    """
    if not 0.0 < threshold <= 1.0:
        raise ConfigError(f"the threshold is a match probability in (0, 1], found {threshold}")
    dedupe = right is None
    lhs = _side(left)
    if dedupe:
        rhs = lhs
    elif isinstance(right, pd.DataFrame):
        table = read_encoded(right)  # its settings checked before its encodings are unpacked
        _compatible(_parse_scheme(lhs.schemes), _scheme(table), lhs.columns, list(table.columns))
        rhs = _side_from_frame(table, lhs.nbytes)
    else:
        rhs = _side_from_file(right)
    fields = _compatible(
        _parse_scheme(lhs.schemes), _parse_scheme(rhs.schemes), lhs.columns, rhs.columns
    )
    scored = _score(lhs, rhs, fields, threshold, dedupe)
    i, j = scored["i"].to_numpy(), scored["j"].to_numpy()
    pairs = pd.DataFrame(
        {
            "id_l": lhs.ids[i],
            "id_r": rhs.ids[j],
            "match_probability": scored["match_probability"].to_numpy(),
            "match_weight": scored["match_weight"].to_numpy(),
        }
    )
    pairs.attrs = dict(scored.attrs)
    offset = 0 if dedupe else len(lhs)
    clusters = _clusters(lhs.ids, rhs.ids, i, j + offset, dedupe)
    return pairs, clusters


def _side(source: pd.DataFrame | str | Path) -> _Side:
    if isinstance(source, pd.DataFrame):
        return _side_from_frame(read_encoded(source))
    return _side_from_file(source)


def score_pairs(
    left: pd.DataFrame,
    right: pd.DataFrame | None,
    fields: Sequence[str],
    threshold: float,
) -> pd.DataFrame:
    """Block, compare, fit the model and score: the pairs of rows at or above ``threshold``.

    Args:
        left: a table of encodings (:func:`read_encoded`, or :func:`union_encoded` of several).
        right: the other table; ``None`` to deduplicate ``left``.
        fields: the fields compared (each a ``bf:<field>`` column of both tables).
        threshold: the lowest match probability kept, in (0, 1].

    Returns:
        ``i`` and ``j`` (row numbers in ``left`` and ``right``; ``i < j`` when deduplicating),
        ``match_probability`` and ``match_weight`` (log2 Bayes factor), most probable first;
        ``attrs`` holds ``candidates`` (pairs compared) and ``model``
        (:meth:`FellegiSunter.summary`, with the blocking rules used).
    """
    if not 0.0 < threshold <= 1.0:
        raise ConfigError(f"the threshold is a match probability in (0, 1], found {threshold}")
    dedupe = right is None
    lhs = _side_from_frame(left)
    rhs = lhs if dedupe else _side_from_frame(right, lhs.nbytes)
    return _score(lhs, rhs, list(fields), threshold, dedupe)


def dedupe_union(encoded: pd.DataFrame, threshold: float = 0.5) -> tuple[pd.DataFrame, np.ndarray]:
    """Deduplicate a table of encodings that may stack several files with different fields
    (:func:`union_encoded`): every ``bf:`` field compared where both records hold it.

    Returns:
        The pairs at or above ``threshold`` as :func:`score_pairs` gives them (row numbers ``i``
        and ``j``), and each row's cluster number (the connected components of those pairs).

    Examples:
        >>> from svduty.privacy.bloom import encode_table
        >>> people = pd.DataFrame({"ref": ["1", "2", "3"], "surname": ["Dent", "Dnet", "Pra"],
        ...                        "dob": ["1950-01-02", "1950-01-02", "1960-03-04"]})
        >>> a = encode_table(people, {"surname": "name", "dob": "date"}, b"s" * 32,
        ...                  id_column="ref")
        >>> b = encode_table(people.iloc[:1], {"dob": "date"}, b"s" * 32, id_column="ref")
        >>> union = union_encoded([a, b])
        >>> union["bf:surname"].isna().tolist()  # the second file has no surname
        [False, False, False, True]
        >>> pairs, clusters = dedupe_union(union)
        >>> bool(clusters[0] == clusters[1] != clusters[2]), len(clusters)
        (True, 4)
    """
    fields = [c[len(ENCODING_PREFIX) :] for c in encoded.columns if c.startswith(ENCODING_PREFIX)]
    if len(encoded) < 2:
        empty = _no_pairs()
        return empty, np.arange(len(encoded))
    scored = score_pairs(encoded, None, fields, threshold)
    nodes = len(encoded)
    graph = coo_matrix(
        (np.ones(len(scored)), (scored["i"].to_numpy(), scored["j"].to_numpy())),
        shape=(nodes, nodes),
    )
    _, labels = connected_components(graph, directed=False)
    return scored, labels


def _no_pairs() -> pd.DataFrame:
    """No pairs (a table with fewer than two records)."""
    empty = pd.DataFrame(
        {
            "i": np.array([], np.int64),
            "j": np.array([], np.int64),
            "match_probability": np.array([], float),
            "match_weight": np.array([], float),
        }
    )
    empty.attrs = {"candidates": 0, "model": {}}
    return empty


def _rule_fields(rule: str) -> set[str]:
    """The fields a blocking rule (``surname.soundex+dob.year``) uses."""
    return {part.rpartition(".")[0] for part in rule.split("+")}


def _clusters(
    lhs: np.ndarray, rhs: np.ndarray, i: np.ndarray, j: np.ndarray, dedupe: bool
) -> pd.DataFrame:
    nodes = len(lhs) + (0 if dedupe else len(rhs))
    graph = coo_matrix((np.ones(len(i)), (i, j)), shape=(nodes, nodes))
    _, labels = connected_components(graph, directed=False)
    sources = np.repeat(np.array(["left", "right"], object), [len(lhs), 0 if dedupe else len(rhs)])
    ids = lhs if dedupe else np.concatenate([lhs, rhs])
    return pd.DataFrame({"source": sources, "id": ids, "cluster": labels})


# --- the fast path: packed encodings, a sort join per rule, Dice by popcount, EM on patterns ---


@dataclass
class _Side:
    """One file of encodings as the hub links it: ids, each field's encodings as a packed
    ``uint8`` matrix (zero rows where missing) with which rows hold one, and the blocking
    hashes (``None`` where missing)."""

    columns: list[str]
    schemes: list[str]
    ids: np.ndarray
    bf: dict[str, tuple[np.ndarray, np.ndarray]]
    blocks: dict[str, np.ndarray]
    nbytes: int = 0

    def __len__(self) -> int:
        return len(self.ids)


def _not_encodings(name: str) -> ConfigError:
    return ConfigError(
        f"{name} is not a file of encodings: expected columns id, scheme and bf:<field> "
        "(made by `svduty encode`)"
    )


def _side_from_frame(df: pd.DataFrame, nbytes: int = 0) -> _Side:
    """A table of encodings (:func:`read_encoded`) packed, each encoding ``nbytes`` long (as
    the table's first when 0)."""
    nbytes = nbytes or encoding_bytes(df)
    bf, blocks = {}, {}
    for column in df.columns:
        if column.startswith(ENCODING_PREFIX):
            values = df[column]
            present = (values.notna() & (values != "")).to_numpy()
            text = values[present].astype(str)
            name = column[len(ENCODING_PREFIX) :]
            if (text.str.len() != 2 * nbytes).any():
                raise _altered(name, nbytes)
            try:
                packed = from_hex(values.where(present, None).tolist(), nbytes)
            except ValueError as e:
                raise _altered(name, nbytes) from e
            bf[name] = (packed, present)
        elif column.startswith(BLOCK_PREFIX):
            values = df[column]
            blocks[column] = values.where(values.notna() & (values != ""), None).to_numpy(object)
    schemes = [str(s) for s in df["scheme"].dropna().unique()] if "scheme" in df else []
    ids = df["id"].to_numpy(object) if "id" in df else np.arange(len(df)).astype(object)
    return _Side(list(df.columns), schemes, ids, bf, blocks, nbytes)


def _altered(name: str, nbytes: int) -> ConfigError:
    return ConfigError(
        f"field {name}: an encoding is not hex of {nbytes} bytes; the file was altered"
    )


def _side_from_file(path: str | Path, nbytes: int = 0) -> _Side:
    """A file of encodings read with pyarrow and packed, its hex never made Python strings."""
    import csv

    import pyarrow as pa
    import pyarrow.csv as pacsv

    with open(path, newline="", encoding="utf-8-sig") as fh:
        header = next(csv.reader(fh), [])
    if {"id", "scheme"} - set(header) or not any(c.startswith(ENCODING_PREFIX) for c in header):
        raise _not_encodings(str(path))
    table = pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in header}, strings_can_be_null=False
        ),
    )
    schemes = [s for s in table["scheme"].unique().to_pylist() if s]
    ids = table["id"].to_numpy(zero_copy_only=False).astype(object)
    ids[ids == ""] = None
    bf, blocks = {}, {}
    for column in header:
        if column.startswith(ENCODING_PREFIX):
            chunks = table[column].chunks
            if not nbytes:
                lengths = [pa.compute.utf8_length(c) for c in chunks]
                nbytes = max((pa.compute.max(x).as_py() or 0 for x in lengths), default=0) // 2
            bf[column[len(ENCODING_PREFIX) :]] = _unhex(chunks, len(table), nbytes, column)
        elif column.startswith(BLOCK_PREFIX):
            values = table[column].to_numpy(zero_copy_only=False).astype(object)
            values[values == ""] = None
            blocks[column] = values
        table = table.drop_columns([column]) if column in table.column_names else table
    return _Side(header, schemes, ids, bf, blocks, nbytes)


def _unhex(chunks: list, n: int, nbytes: int, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Hex strings of an arrow column as a packed matrix, straight from the arrow buffers."""
    out = np.zeros((n, nbytes), np.uint8)
    present = np.zeros(n, bool)
    start = 0
    name = column[len(ENCODING_PREFIX) :]
    for chunk in chunks:
        size = len(chunk)
        if size:
            offsets = np.frombuffer(chunk.buffers()[1], np.int32)[
                chunk.offset : chunk.offset + size + 1
            ]
            lengths = np.diff(offsets)
            if chunk.null_count:
                lengths = np.where(chunk.is_valid().to_numpy(zero_copy_only=False), lengths, 0)
            if ((lengths != 0) & (lengths != 2 * nbytes)).any():
                raise _altered(name, nbytes)
            rows = np.flatnonzero(lengths)
            data = chunk.buffers()[2]
            if len(rows):
                # empty strings and null slots take no bytes: the buffer is the present hex
                text = memoryview(data)[offsets[0] : offsets[-1]]
                try:
                    raw = binascii.unhexlify(text)
                except (binascii.Error, ValueError) as e:
                    raise _altered(name, nbytes) from e
                out[start + rows] = np.frombuffer(raw, np.uint8).reshape(len(rows), nbytes)
                present[start + rows] = True
        start += size
    return out, present


@dataclass
class _Field:
    """One field of both sides: each row's code (-1 where missing) into a table of the distinct
    encodings (``uint64`` words) and their popcounts."""

    left: np.ndarray
    right: np.ndarray
    table: np.ndarray
    ones: np.ndarray


_MIX = np.random.default_rng(1969).integers(1, 2**63, 4096, dtype=np.uint64) | np.uint64(1)


def _row_hash(packed: np.ndarray) -> np.ndarray:
    words = packed.view(np.uint64) if packed.shape[1] % 8 == 0 else packed.astype(np.uint64)
    out = np.zeros(len(words), np.uint64)
    for w in range(words.shape[1]):
        x = words[:, w] * _MIX[w % len(_MIX)]
        out ^= (x >> np.uint64(29)) ^ x ^ np.uint64(w)
        out *= np.uint64(0x9E3779B97F4A7C15)
    return out


def _field(lhs: _Side, rhs: _Side, name: str) -> _Field:
    """Both sides' encodings of one field coded against one table of distinct encodings."""
    a, pa_ = lhs.bf[name]
    b, pb = (a, pa_) if rhs is lhs else rhs.bf[name]
    if a.shape[1] != b.shape[1] and pa_.any() and pb.any():
        raise _altered(name, a.shape[1])
    ha, hb = _row_hash(a[pa_]), _row_hash(b[pb])
    codes, uniques = pd.factorize(np.concatenate([ha, hb]))
    first = np.full(len(uniques), -1, np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]
    rows = np.concatenate([np.flatnonzero(pa_), np.flatnonzero(pb) + len(a)])[first]
    from_a = rows < len(a)
    width = max(a.shape[1], b.shape[1])
    table = np.zeros((len(uniques), width), np.uint8)
    table[from_a] = a[rows[from_a]]
    table[~from_a] = b[rows[~from_a] - len(a)]
    # a hash collision would merge two encodings: check, and code every row apart if so
    exact = all(
        np.array_equal(table[codes[s : s + CHUNK]], x[np.flatnonzero(p)[s - o : s - o + CHUNK]])
        for x, p, o, n in ((a, pa_, 0, len(ha)), (b, pb, len(ha), len(hb)))
        for s in range(o, o + n, CHUNK)
    )
    if not exact:
        table = np.concatenate([a[pa_], b[pb]])
        codes = np.arange(len(table))
    left = np.full(len(a), -1, np.int32)
    left[pa_] = codes[: len(ha)]
    right = np.full(len(b), -1, np.int32)
    right[pb] = codes[len(ha) :]
    if width % 8 == 0:
        table = np.ascontiguousarray(table).view(np.uint64)
    ones = np.bitwise_count(table).sum(axis=1, dtype=np.int64)
    return _Field(left, right, table, ones)


def _dice_codes(fld: _Field, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Dice coefficients of the pairs (i, j) of one field (NaN where either is missing)."""
    ca, cb = fld.left[i], fld.right[j]
    out = np.full(len(i), np.nan)
    present = (ca >= 0) & (cb >= 0)
    same = present & (ca == cb)
    out[same] = np.where(fld.ones[ca[same]] > 0, 1.0, 0.0)
    need = np.flatnonzero(present & (ca != cb))
    x, y = ca[need], cb[need]
    both = np.bitwise_and(np.take(fld.table, x, axis=0), np.take(fld.table, y, axis=0))
    both = np.bitwise_count(both).sum(axis=1, dtype=np.int64)
    total = fld.ones[x] + fld.ones[y]
    out[need] = np.divide(2.0 * both, total, out=np.zeros(len(total)), where=total > 0)
    return out


def _block_codes(lhs: _Side, rhs: _Side, rules: list[str]) -> list[tuple[np.ndarray, ...]]:
    """Per rule, both sides' blocking hashes as integer codes (-1 where missing)."""
    out = []
    for rule in rules:
        a = lhs.blocks[rule]
        both = a if rhs is lhs else np.concatenate([a, rhs.blocks[rule]])
        codes, uniques = pd.factorize(both)  # None is coded -1
        codes = codes.astype(np.int32)
        out.append((codes[: len(a)], codes if rhs is lhs else codes[len(a) :], len(uniques)))
    return out


def _join(
    lhs: _Side, rhs: _Side, dedupe: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], dict[str, int]]:
    """Candidate pairs: row numbers (i, j), each pair once, and a bit mask per pair of the rules
    that found it (bit r for rule r). A block whose pairs exceed :data:`MAX_BLOCK_PAIRS` is
    skipped and counted; a rule whose other blocks exceed :data:`MAX_RULE_PAIRS` is refused."""
    rules = [c for c in lhs.blocks if c in rhs.blocks]
    if not rules:
        raise ConfigError("the files have no blocking rule in common (columns block:<rule>)")
    if len(rules) > 63:
        raise ConfigError("at most 63 blocking rules")
    coded = _block_codes(lhs, rhs, rules)
    ok, skipped = [], {"blocks": 0, "pairs": 0}
    for (kl, kr, k), rule in zip(coded, rules, strict=True):
        cl = np.bincount(kl[kl >= 0], minlength=k).astype(np.int64)
        cr = cl if dedupe else np.bincount(kr[kr >= 0], minlength=k).astype(np.int64)
        size = cl * cr
        giant = size > MAX_BLOCK_PAIRS
        skipped["blocks"] += int(giant.sum())
        skipped["pairs"] += int(size[giant].sum())
        if int(size[~giant].sum()) > MAX_RULE_PAIRS:
            raise ConfigError(
                f"blocking rule {rule[len(BLOCK_PREFIX) :]} would compare "
                f"{int(size[~giant].sum()):,} pairs (at most {MAX_RULE_PAIRS:,}); encode with "
                "narrower blocking rules"
            )
        ok.append((size > 0) & ~giant)
    bits_dtype = np.uint64 if len(rules) > 7 else np.uint8
    all_i, all_j, all_bits = [], [], []
    for r, (kl, kr, _) in enumerate(coded):
        order = np.argsort(kr, kind="stable").astype(np.int32)
        missing = int((kr < 0).sum())
        counts = np.bincount(kr[kr >= 0], minlength=len(ok[r])).astype(np.int64)
        starts = missing + np.concatenate([[0], np.cumsum(counts)[:-1]])
        left = np.flatnonzero((kl >= 0) & ok[r][np.maximum(kl, 0)]).astype(np.int32)
        reps = counts[kl[left]]
        ends = np.cumsum(reps)
        total = int(ends[-1]) if len(ends) else 0
        cuts = np.searchsorted(ends, np.arange(PAIR_CHUNK, total, PAIR_CHUNK), side="right")
        bounds = np.unique(np.concatenate([[0], cuts, [len(left)]]))
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            li, rp = left[lo:hi], reps[lo:hi]
            i = np.repeat(li, rp)
            base = np.repeat(np.cumsum(rp) - rp, rp)
            j = order[np.repeat(starts[kl[li]], rp) + (np.arange(len(i)) - base)]
            if dedupe:
                keep = i < j
                i, j = i[keep], j[keep]
            bits = np.zeros(len(i), bits_dtype)
            new = np.ones(len(i), bool)
            for s, (sl, sr, _) in enumerate(coded):
                if s == r:
                    bits |= bits_dtype(1 << s)
                    continue
                a = sl[i]
                agree = (a >= 0) & (a == sr[j])
                agree &= ok[s][np.maximum(a, 0)]
                if s < r:
                    new &= ~agree
                else:
                    bits[agree] |= bits_dtype(1 << s)
            all_i.append(i[new])
            all_j.append(j[new])
            all_bits.append(bits[new])
    i = np.concatenate(all_i) if all_i else np.zeros(0, np.int32)
    j = np.concatenate(all_j) if all_j else np.zeros(0, np.int32)
    bits = np.concatenate(all_bits) if all_bits else np.zeros(0, bits_dtype)
    return i, j, bits, rules, skipped


def _patterns(
    model: FellegiSunter, fields: list[_Field], i: np.ndarray, j: np.ndarray
) -> tuple[np.ndarray, int]:
    """Each pair's agreement pattern (its fields' levels, -1 missing, as one integer in base
    ``max levels + 2``), computed in chunks on as many threads as there are cores."""
    base = max(len(c) for c in model.cuts) + 2
    dtype = np.int64 if base ** len(fields) >= 2**31 else np.int32
    out = np.zeros(len(i), dtype)

    def work(start: int) -> None:
        ii, jj = i[start : start + DICE_CHUNK], j[start : start + DICE_CHUNK]
        code = np.zeros(len(ii), dtype)
        for f in range(len(fields) - 1, -1, -1):
            sims = _dice_codes(fields[f], ii, jj)
            level = np.full(len(ii), -1, dtype)
            present = ~np.isnan(sims)
            level[present] = np.searchsorted(model.cuts[f], sims[present], side="right")
            code = code * base + (level + 1)
        out[start : start + DICE_CHUNK] = code

    starts = range(0, len(i), DICE_CHUNK)
    with ThreadPoolExecutor(max(1, min(os.cpu_count() or 1, 8))) as pool:
        list(pool.map(work, starts))
    return out, base


def _decode(patterns: np.ndarray, base: int, n_fields: int) -> np.ndarray:
    """The levels (-1 missing) of agreement patterns, one row each."""
    out = np.zeros((len(patterns), n_fields), np.int8)
    rest = patterns.astype(np.int64)
    for f in range(n_fields):
        out[:, f] = rest % base - 1
        rest //= base
    return out


def _score(
    lhs: _Side, rhs: _Side, fields: list[str], threshold: float, dedupe: bool
) -> pd.DataFrame:
    """:func:`score_pairs` on packed sides."""
    coded = []
    for name in fields:
        coded.append(_field(lhs, rhs, name))
        lhs.bf.pop(name, None)  # the table holds what is needed: free the packed rows
        if rhs is not lhs:
            rhs.bf.pop(name, None)
    i, j, bits, rules, skipped = _join(lhs, rhs, dedupe)
    ri, rj = _random_pairs(len(lhs), len(rhs), dedupe)
    random_sims = np.column_stack([_dice_codes(f, ri, rj) for f in coded])
    model = FellegiSunter.from_random_pairs(fields, random_sims)
    patterns, base = _patterns(model, coded, i, j)
    unique, inverse = np.unique(patterns, return_inverse=True)
    levels = _decode(unique, base, len(fields))
    names = [rule[len(BLOCK_PREFIX) :] for rule in rules]
    blocks = {}
    for r, rule in enumerate(names):
        found = (bits & bits.dtype.type(1 << r)) != 0
        weights = np.bincount(inverse[found], minlength=len(unique)).astype(float)
        blocks[rule] = (
            weights,
            [f for f, name in enumerate(fields) if name in _rule_fields(rule)],
        )
    total = len(lhs) * (len(lhs) - 1) // 2 if dedupe else len(lhs) * len(rhs)
    if len(i):
        counts = np.bincount(inverse, minlength=len(unique)).astype(float)
        model._fit_weighted(levels, counts, blocks, total)
    probability = model.probability(levels)
    weight = model.log_odds(levels) / np.log(2)
    keep = np.flatnonzero(probability[inverse] >= threshold)
    ki, kj = i[keep].astype(np.int64), j[keep].astype(np.int64)
    order = np.lexsort((kj, ki))  # candidates in (i, j) order, then most probable first
    keep, ki, kj = keep[order], ki[order], kj[order]
    scored = pd.DataFrame(
        {
            "i": ki,
            "j": kj,
            "match_probability": probability[inverse[keep]],
            "match_weight": weight[inverse[keep]],
        }
    )
    scored = scored.sort_values("match_probability", ascending=False, kind="stable")
    scored = scored.reset_index(drop=True)
    summary = model.summary() | {"blocking_rules": names}
    scored.attrs = {"candidates": len(i), "model": summary}
    if skipped["blocks"]:
        scored.attrs["skipped_blocks"] = skipped
    return scored
