"""How good a linkage is where no ground truth exists: the model's own estimates, and a clerical
review sample that an analyst labels.

- :func:`estimate_quality` reads precision, recall and F1 off the match probabilities of the
  scored candidate pairs, taking them at their word (a pair at 0.8 is a match four times in five).
- :func:`review_sample` draws pairs for clerical review, stratified by match-probability band
  (:func:`band_edges`), oversampling the uncertain middle, each with its sampling weight;
  :func:`with_record_values` sets both records' compared values side by side and
  :func:`write_review` writes the file, with an empty ``is_match`` column for the analyst.
- :func:`read_review` checks the labelled file and :func:`review_quality` estimates precision per
  band and overall, and recall among the scored pairs, with Wilson intervals.

Notes:
    The sample is a stratified random sample (Cochran 1977, *Sampling Techniques*, 3rd ed., Wiley,
    chapter 5): half of it is spread equally over the bands, half by Neyman allocation (band size
    times the standard deviation ``sqrt(p(1 - p))`` of its mean match probability, at least 0.1),
    which puts the labels where the model is least sure. Estimates weight each labelled pair by
    its band's pairs over its band's labels. Intervals are Wilson's (1927) score intervals; for the
    overall figures, which combine bands of different weights, on Kish's (1965) effective sample
    size ``(sum w)^2 / sum w^2``. See docs/linkage-quality.md.

Nothing here logs or raises with a record's values or ids: messages name the file, the row and
the column.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from svduty.analysis.who import wilson_interval
from svduty.datasets.csvfile import neutralise
from svduty.errors import ConfigError, FileRefused

SCORED_FLOOR = 0.01  # the lowest match probability kept for review (below: noise)
BAND_EDGES = (0.01, 0.1, 0.5, 0.9, 0.99)  # lower edges of the bands, with the threshold
MIN_SPREAD = 0.1  # no band is taken to be certain when allocating the sample
LABEL = "is_match"
REVIEW_COLUMNS = ("id_l", "id_r", "match_probability", "band", "accepted", "sampling_weight")
ESTIMATE_NOTE = (
    "From the model's own match probabilities, taken as calibrated. Recall counts only the "
    "matches among the candidate pairs: a true pair that no blocking rule brought together is "
    "missed and not counted. Check against a clerical review (svduty link-review)."
)
REVIEW_NOTE = (
    "From the analyst's labels, weighted by the sampling weights; recall is among the pairs "
    "scored at or above the review floor, not among matches that were never candidates."
)


def band_edges(threshold: float, floor: float = SCORED_FLOOR) -> list[float]:
    """The lower edges of the match-probability bands: :data:`BAND_EDGES` from ``floor`` up,
    with ``floor`` and ``threshold`` themselves, so that a band is wholly accepted or not.

    Examples:
        >>> band_edges(0.5)
        [0.01, 0.1, 0.5, 0.9, 0.99]
        >>> band_edges(0.95, floor=0.05)
        [0.05, 0.1, 0.5, 0.9, 0.95, 0.99]
    """
    return sorted({floor, threshold} | {e for e in BAND_EDGES if floor < e <= 1})


def band_label(lower: float, upper: float | None) -> str:
    """``[lower, upper)``, or ``[lower, 1]`` for the top band (``upper`` None).

    Examples:
        >>> band_label(0.5, 0.9), band_label(0.99, None)
        ('[0.5, 0.9)', '[0.99, 1]')
    """
    return f"[{lower:g}, 1]" if upper is None else f"[{lower:g}, {upper:g})"


def _bands(probabilities: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """The band (index into ``edges``) of each probability; -1 below the first edge."""
    return np.searchsorted(np.asarray(edges, dtype=float), probabilities, side="right") - 1


def _round(x: float | None) -> float | None:
    return None if x is None else round(float(x), 6)


def _f1(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None:
        return None
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def estimate_quality(
    probabilities: Sequence[float] | np.ndarray, threshold: float, floor: float = SCORED_FLOOR
) -> dict[str, Any]:
    """Precision, recall and F1 as the model sees them, from every candidate pair's probability.

    With ``p`` each scored pair's match probability: the expected true matches among the pairs
    accepted (``p >= threshold``) are the sum of their ``p``; precision is their mean ``p``;
    recall is the sum of ``p`` over accepted pairs over the sum over all scored pairs. These hold
    only as far as the probabilities are calibrated, which an unsupervised model does not
    promise, and recall ignores true pairs never scored (no blocking rule found them).

    Args:
        probabilities: the match probability of every scored candidate pair (or of those at or
            above ``floor``, if that is all there is: then the pairs below are not counted).
        threshold: the match probability from which a pair is accepted.
        floor: the lowest band's lower edge (pairs below it make one more band, ``[0, floor)``).

    Returns:
        ``candidate_pairs``, ``accepted_pairs``, ``expected_true_matches`` and
        ``expected_false_matches`` (among the accepted), ``expected_missed_matches`` (scored
        below the threshold), ``precision``, ``recall``, ``f1`` (None where undefined), ``bands``
        (``band``, ``lower``, ``upper``, ``accepted``, ``pairs``, ``expected_matches``,
        ``mean_probability``, lowest first) and a ``note``.

    Examples:
        >>> e = estimate_quality([0.999, 0.99, 0.8, 0.3, 0.02, 0.001], threshold=0.5)
        >>> e["accepted_pairs"], e["expected_true_matches"], e["precision"]
        (3, 2.789, 0.929667)
        >>> e["recall"], e["f1"]
        (0.896785, 0.91293)
        >>> [(b["band"], b["pairs"]) for b in e["bands"]]
        [('[0, 0.01)', 1), ('[0.01, 0.1)', 1), ('[0.1, 0.5)', 1), ('[0.5, 0.9)', 1), \
('[0.9, 0.99)', 0), ('[0.99, 1]', 2)]
    """
    p = np.asarray(probabilities, dtype=float)
    if not 0 < threshold <= 1:
        raise ConfigError(f"threshold must be a match probability in (0, 1]; got {threshold}")
    accepted = p >= threshold
    expected = float(p[accepted].sum())
    total = float(p.sum())
    precision = float(p[accepted].mean()) if accepted.any() else None
    recall = expected / total if total > 0 else None
    edges = band_edges(threshold, floor)
    which = _bands(p, edges)
    bands = []
    lowers = ([0.0] if (which < 0).any() else []) + edges
    for lower in lowers:
        k = -1 if lower == 0.0 and (which < 0).any() else edges.index(lower)
        upper = edges[k + 1] if k + 1 < len(edges) else None
        inside = p[which == k]
        bands.append(
            {
                "band": band_label(lower, upper),
                "lower": lower,
                "upper": 1.0 if upper is None else upper,
                "accepted": lower >= threshold,
                "pairs": int(inside.size),
                "expected_matches": _round(inside.sum()),
                "mean_probability": _round(inside.mean()) if inside.size else None,
            }
        )
    return {
        "threshold": threshold,
        "candidate_pairs": int(p.size),
        "accepted_pairs": int(accepted.sum()),
        "expected_true_matches": _round(expected),
        "expected_false_matches": _round(accepted.sum() - expected),
        "expected_missed_matches": _round(total - expected),
        "precision": _round(precision),
        "recall": _round(recall),
        "f1": _round(_f1(precision, recall)),
        "bands": bands,
        "note": ESTIMATE_NOTE,
    }


def allocate(sizes: Sequence[int], spreads: Sequence[float], n: int) -> list[int]:
    """How many pairs to draw from each band: half of ``n`` equally, half in proportion to size
    times spread (Neyman), each at most its size, summing to ``min(n, sum(sizes))``.

    Examples:
        >>> allocate([5000, 40, 30, 900], [0.02, 0.45, 0.4, 0.05], 100)
        [53, 14, 13, 20]
        >>> allocate([3, 2], [0.5, 0.5], 10)
        [3, 2]
    """
    size = np.asarray(sizes, dtype=int)
    if n >= size.sum():
        return [int(s) for s in size]
    present = (size > 0).astype(float)
    neyman = size * np.maximum(np.asarray(spreads, dtype=float), MIN_SPREAD)
    target = 0.5 * n * present / present.sum() + 0.5 * n * neyman / neyman.sum()
    take = np.minimum(np.floor(target).astype(int), size)
    while take.sum() < n:
        room = take < size
        gap = np.where(room, target - take, -np.inf)
        take[int(np.argmax(gap))] += 1
    return [int(t) for t in take]


def review_sample(
    scored: pd.DataFrame,
    n: int,
    threshold: float,
    floor: float = SCORED_FLOOR,
    seed: int = 42,
) -> pd.DataFrame:
    """A clerical review sample of ``n`` scored pairs, stratified by match-probability band.

    Args:
        scored: ``id_l, id_r, match_probability`` of the scored pairs (``LinkResult.scored``, or
            the pairs of :func:`svduty.linkage.encoded.link_encoded` run at ``floor``).
        n: how many pairs to draw (all of them when there are fewer).
        threshold: the match probability from which a pair was accepted.
        floor: pairs below it are not drawn (they are nearly all non-matches).
        seed: the seed of the draw and of the row order.

    Returns:
        ``id_l, id_r, match_probability, band, accepted`` (1 or 0) and ``sampling_weight`` (the
        band's pairs over its pairs drawn), in random order (so that the order says nothing of
        the band).

    Raises:
        ConfigError: ``n`` is not positive.

    Examples:
        >>> scored = pd.DataFrame({"id_l": list("abcdef"), "id_r": list("uvwxyz"),
        ...                        "match_probability": [0.999, 0.995, 0.7, 0.6, 0.2, 0.05]})
        >>> s = review_sample(scored, 4, threshold=0.5)
        >>> s.sort_values("band")[["band", "accepted", "sampling_weight"]].values.tolist()
        [['[0.01, 0.1)', 0, 1.0], ['[0.1, 0.5)', 0, 1.0], ['[0.5, 0.9)', 1, 2.0], \
['[0.99, 1]', 1, 2.0]]
    """
    if n < 1:
        raise ConfigError(f"the review sample needs at least one pair; got {n}")
    edges = band_edges(threshold, floor)
    frame = scored[scored["match_probability"] >= floor].reset_index(drop=True)
    which = _bands(frame["match_probability"].to_numpy(dtype=float), edges)
    groups = [np.flatnonzero(which == k) for k in range(len(edges))]
    spreads = []
    for rows in groups:
        mean = float(frame["match_probability"].iloc[rows].mean()) if rows.size else 0.0
        spreads.append(math.sqrt(mean * (1 - mean)))
    take = allocate([g.size for g in groups], spreads, n)
    rng = np.random.default_rng(seed)
    parts = []
    for k, (rows, count) in enumerate(zip(groups, take, strict=True)):
        if not count:
            continue
        drawn = np.sort(rng.choice(rows, size=count, replace=False))
        upper = edges[k + 1] if k + 1 < len(edges) else None
        parts.append(
            frame.iloc[drawn][["id_l", "id_r", "match_probability"]].assign(
                band=band_label(edges[k], upper),
                accepted=int(edges[k] >= threshold),
                sampling_weight=rows.size / count,
            )
        )
    if not parts:
        return pd.DataFrame(columns=list(REVIEW_COLUMNS))
    out = pd.concat(parts, ignore_index=True)
    return out.iloc[rng.permutation(len(out))].reset_index(drop=True)


def with_record_values(
    sample: pd.DataFrame,
    left: pd.DataFrame,
    right: pd.DataFrame | None,
    id_column: str,
    columns: Sequence[str],
) -> pd.DataFrame:
    """The sample with both records' compared values side by side, ``<column> (left)`` and
    ``<column> (right)``, for the analyst to judge (trusted mode only: the values are in clear).

    Args:
        sample: from :func:`review_sample`.
        left, right: the extracts as :func:`svduty.linkage.files.read_extract` reads them;
            ``right`` None when one file was deduplicated.
        id_column: the id column of the extracts.
        columns: the compared columns (``LinkResult.columns``).

    Examples:
        >>> sample = pd.DataFrame({"id_l": ["1"], "id_r": ["9"], "match_probability": [0.7]})
        >>> a = pd.DataFrame({"ref": ["1"], "name": ["Ann"]})
        >>> b = pd.DataFrame({"ref": ["9"], "name": ["=Anne"]})
        >>> with_record_values(sample, a, b, "ref", ["name"]).to_dict("records")
        [{'id_l': '1', 'id_r': '9', 'match_probability': 0.7, 'name (left)': 'Ann', \
'name (right)': "'=Anne"}]
    """
    right = left if right is None else right
    out = sample.copy()
    for side, ids, frame in (("left", "id_l", left), ("right", "id_r", right)):
        values = frame.set_index(id_column)
        for column in columns:
            looked = values[column].reindex(out[ids].astype(str)).to_numpy()
            out[f"{column} ({side})"] = [neutralise(v) for v in looked]
    paired = [f"{c} ({s})" for c in columns for s in ("left", "right")]
    rest = [c for c in out.columns if c not in paired]
    return out[rest[:3] + paired + rest[3:]]


def write_review(sample: pd.DataFrame, path: Path) -> Path:
    """Write the sample for clerical review: a ``row`` number and an empty ``is_match`` first,
    then the values side by side (if any), then ids, probability, band, ``accepted`` and
    ``sampling_weight``.

    Examples:
        >>> import tempfile
        >>> sample = pd.DataFrame({"id_l": ["a"], "id_r": ["u"], "match_probability": [0.7],
        ...                        "band": ["[0.5, 0.9)"], "accepted": [1],
        ...                        "sampling_weight": [2.0]})
        >>> print(write_review(sample, Path(tempfile.mkdtemp()) / "r.csv").read_text(), end="")
        row,is_match,id_l,id_r,match_probability,band,accepted,sampling_weight
        1,,a,u,0.7,"[0.5, 0.9)",1,2.0
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    values = [c for c in sample.columns if c not in REVIEW_COLUMNS]
    values = [c for c in values if c != LABEL]
    out = sample[values + list(REVIEW_COLUMNS)].copy()
    out.insert(0, LABEL, sample.get(LABEL, ""))  # labelled already: kept
    out.insert(0, "row", range(1, len(out) + 1))
    out.to_csv(path, index=False)
    return path


def read_review(path: Path) -> pd.DataFrame:
    """Read a labelled review file, refusing any row whose label or bookkeeping is unusable.

    ``is_match`` must be ``1`` (the two records are one person) or ``0`` (they are not) on every
    row; ``accepted`` 1 or 0, ``sampling_weight`` a number of at least 1 and
    ``match_probability`` one in [0, 1], as :func:`write_review` wrote them.

    Returns:
        ``band``, ``accepted``, ``sampling_weight``, ``match_probability`` and ``is_match`` (as
        numbers), one row per labelled pair.

    Raises:
        FileRefused: the file is missing, empty or not UTF-8 CSV (``missing``, ``empty``,
            ``encoding``, ``not-csv``), lacks a column (``review-header``), or a row has an
            unusable label (``review-label``) or other value (``review-value``). The message names
            the row (the header is row 1) and the column, never the value.

    Examples:
        >>> import tempfile
        >>> p = Path(tempfile.mkdtemp()) / "review.csv"
        >>> head = "row,is_match,id_l,id_r,match_probability,band,accepted,sampling_weight\\n"
        >>> rows = '1,1,a,u,0.7,"[0.5, 0.9)",1,2\\n2,yes,b,v,0.2,"[0.1, 0.5)",0,3\\n'
        >>> _ = p.write_text(head + rows)
        >>> read_review(p)
        Traceback (most recent call last):
        svduty.errors.FileRefused: ...review.csv: row 3 (the header is row 1), column 'is_match': \
expected 1 (the same person) or 0 (different people), found something else [rule: review-label]
    """
    source = str(path)
    if not Path(path).is_file():
        raise FileRefused(source, "missing", "the file does not exist; check the path")
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f, strict=True)
            rows = [(reader.line_num, row) for row in reader if row]
    except UnicodeDecodeError as e:
        raise FileRefused(
            source, "encoding", "the file is not UTF-8 text; save it as CSV UTF-8"
        ) from e
    except csv.Error as e:
        raise FileRefused(source, "not-csv", f"the file is not valid CSV ({e})") from e
    if len(rows) < 2:
        raise FileRefused(source, "empty", "the file has no labelled pairs")
    header = [c.strip() for c in rows[0][1]]
    needed = [LABEL, "match_probability", "band", "accepted", "sampling_weight"]
    missing = [c for c in needed if c not in header]
    if missing:
        raise FileRefused(
            source,
            "review-header",
            f"column(s) {', '.join(map(repr, missing))} missing; use the file "
            "`svduty link-files --review-out` wrote, with its header unchanged",
        )
    at = {c: header.index(c) for c in needed}
    records = []
    for line, row in rows[1:]:

        def cell(column: str, row: list[str] = row) -> str:
            i = at[column]
            return row[i].strip() if i < len(row) else ""

        def refuse(rule: str, column: str, expected: str, found: str, line: int = line) -> None:
            raise FileRefused(
                source,
                rule,
                f"row {line} (the header is row 1), column {column!r}: expected {expected}, "
                f"found {found}",
            )

        label = cell(LABEL)
        if label not in ("1", "0"):
            refuse(
                "review-label",
                LABEL,
                "1 (the same person) or 0 (different people)",
                "an empty cell; label every row" if not label else "something else",
            )
        numbers: dict[str, float] = {}
        for column, expected, ok in (
            ("match_probability", "a probability from 0 to 1", lambda x: 0 <= x <= 1),
            ("accepted", "1 or 0", lambda x: x in (0, 1)),
            ("sampling_weight", "a number of at least 1", lambda x: 1 <= x < math.inf),
        ):
            text = cell(column)
            try:
                numbers[column] = float(text)
            except ValueError:
                numbers[column] = math.nan
            if not ok(numbers[column]):
                refuse("review-value", column, expected, "an empty cell" if not text else "other")
        if not cell("band"):
            refuse("review-value", "band", "the band written with the sample", "an empty cell")
        records.append({"band": cell("band"), **numbers, LABEL: int(label)})
    out = pd.DataFrame.from_records(records)
    return out.astype({"accepted": int})


def wilson(successes: float, n: float) -> tuple[float, float] | None:
    """Wilson's score interval (95%) for a proportion; ``n`` may be an effective sample size
    (see :func:`svduty.analysis.who.wilson_interval`).

    Examples:
        >>> [round(x, 4) for x in wilson(20, 20)]
        [0.8389, 1.0]
        >>> [round(x, 4) for x in wilson(5, 10)]
        [0.2366, 0.7634]
    """
    if n <= 0:
        return None
    return wilson_interval(min(max(successes, 0.0), n), n)  # type: ignore[arg-type]


def _weighted(y: np.ndarray, w: np.ndarray) -> dict[str, Any]:
    """A weighted proportion with its Wilson interval on Kish's effective sample size."""
    if not w.size or w.sum() <= 0:
        return {"estimate": None, "low": None, "high": None, "effective_n": 0.0}
    estimate = float((w * y).sum() / w.sum())
    n_eff = float(w.sum() ** 2 / (w * w).sum())
    low, high = wilson(estimate * n_eff, n_eff) or (None, None)
    return {
        "estimate": _round(estimate),
        "low": _round(low),
        "high": _round(high),
        "effective_n": round(n_eff, 1),
    }


def review_quality(labelled: pd.DataFrame) -> dict[str, Any]:
    """Precision per band and overall, recall among the scored pairs, and F1, from a labelled
    review sample (:func:`read_review`), with 95% Wilson intervals.

    Precision is the weighted share of true matches among accepted pairs; recall the weighted
    share of accepted pairs among true matches (both with each pair weighted by its sampling
    weight). Per band, the share of true matches is plain (equal weights within a band): below
    the threshold it is the share of missed matches.

    Returns:
        ``labelled``, ``matches``, ``precision`` and ``recall`` (``estimate``, ``low``,
        ``high``, ``effective_n``), ``f1``, ``expected_true_matches`` (among the accepted pairs),
        ``expected_missed_matches`` (scored below the threshold), ``bands`` (``band``,
        ``accepted``, ``pairs``, ``labelled``, ``matches``, ``precision``, ``low``, ``high``,
        ``mean_probability``, lowest first), ``confidence`` and a ``note``.

    Examples:
        >>> labelled = pd.DataFrame({
        ...     "band": ["[0.99, 1]"] * 4 + ["[0.5, 0.9)"] * 2 + ["[0.1, 0.5)"] * 2,
        ...     "accepted": [1] * 6 + [0] * 2, "sampling_weight": [25.0] * 4 + [5.0] * 4,
        ...     "match_probability": [0.999] * 4 + [0.7, 0.6, 0.3, 0.2],
        ...     "is_match": [1, 1, 1, 1, 1, 0, 1, 0]})
        >>> q = review_quality(labelled)
        >>> q["precision"]["estimate"], q["recall"]["estimate"], q["expected_missed_matches"]
        (0.954545, 0.954545, 5.0)
        >>> [(b["band"], b["precision"]) for b in q["bands"]]
        [('[0.1, 0.5)', 0.5), ('[0.5, 0.9)', 0.5), ('[0.99, 1]', 1.0)]
    """
    y = labelled[LABEL].to_numpy(dtype=float)
    w = labelled["sampling_weight"].to_numpy(dtype=float)
    a = labelled["accepted"].to_numpy(dtype=int) == 1
    precision = _weighted(y[a], w[a])
    recall = _weighted(a[y == 1].astype(float), w[y == 1])
    bands = []
    lower = labelled["band"].str.extract(r"^\[([0-9.eE+-]+),", expand=False).astype(float)
    for band in sorted(labelled["band"].unique(), key=lambda b: lower[labelled["band"] == b].min()):
        inside = labelled[labelled["band"] == band]
        matches = int(inside[LABEL].sum())
        interval = wilson(matches, len(inside)) or (None, None)
        bands.append(
            {
                "band": band,
                "accepted": bool(inside["accepted"].iloc[0]),
                "pairs": _round(inside["sampling_weight"].sum()),
                "labelled": len(inside),
                "matches": matches,
                "precision": _round(matches / len(inside)),
                "low": _round(interval[0]),
                "high": _round(interval[1]),
                "mean_probability": _round(inside["match_probability"].mean()),
            }
        )
    return {
        "labelled": len(labelled),
        "matches": int(y.sum()),
        "precision": precision,
        "recall": recall,
        "f1": _round(_f1(precision["estimate"], recall["estimate"])),
        "expected_true_matches": _round((w * y)[a].sum()),
        "expected_missed_matches": _round((w * y)[~a].sum()),
        "bands": bands,
        "confidence": 0.95,
        "note": REVIEW_NOTE,
    }
