"""How good a linkage is, against pairs known to be true: precision, recall and F1.

Notes:
    Pairwise measures as in Christen (2012), *Data Matching*, Springer, chapter 7: precision is
    the share of predicted pairs that are true, recall the share of true pairs predicted, and F1
    their harmonic mean. Hand and Christen (2018, "A note on using the F-measure for evaluating
    record linkage algorithms", Statistics and Computing 28:539-547) show that F1 weighs the two
    differently from one linkage to another: report precision and recall beside it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from svduty.errors import FileRefused

Pair = tuple[str, str]


def _pairs(pairs: Iterable[Pair] | pd.DataFrame, dedupe: bool) -> set[Pair]:
    if isinstance(pairs, pd.DataFrame):
        pairs = zip(pairs["id_l"].astype(str), pairs["id_r"].astype(str), strict=True)
    out = {(str(a), str(b)) for a, b in pairs}
    if dedupe:
        # within one file a pair has no order, and a record is not its own duplicate
        out = {(min(a, b), max(a, b)) for a, b in out if a != b}
    return out


def pair_quality(
    predicted: set[Pair] | pd.DataFrame, truth: set[Pair], dedupe: bool
) -> dict[str, Any]:
    """Compare predicted pairs with true ones.

    Args:
        predicted: pairs of ids, or a frame with ``id_l`` and ``id_r`` (``LinkResult.pairs``).
        truth: the true pairs.
        dedupe: the pairs are within one file, so ``(a, b)`` and ``(b, a)`` are the same pair.
            Linking two files, the first id is from the left file and order matters.

    Returns:
        ``true_positives``, ``false_positives``, ``false_negatives``, ``precision``, ``recall``
        and ``f1`` (precision is 1.0 when nothing was predicted, recall 1.0 when nothing is true).

    Examples:
        >>> q = pair_quality({("a", "b"), ("c", "d")}, {("b", "a"), ("e", "f")}, dedupe=True)
        >>> q["true_positives"], q["false_positives"], q["false_negatives"]
        (1, 1, 1)
        >>> q["precision"], q["recall"], q["f1"]
        (0.5, 0.5, 0.5)
        >>> pair_quality({("b", "a")}, {("a", "b")}, dedupe=False)["true_positives"]
        0
        >>> frame = pd.DataFrame({"id_l": ["a", "c"], "id_r": ["b", "x"], "match_probability": 1})
        >>> round(pair_quality(frame, {("a", "b")}, dedupe=False)["f1"], 4)
        0.6667
    """
    found = _pairs(predicted, dedupe)
    true = _pairs(truth, dedupe)
    tp = len(found & true)
    fp = len(found) - tp
    fn = len(true) - tp
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": fn,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def read_truth_pairs(path: Path) -> set[Pair]:
    """Read a file of true pairs: a header and two id columns (the first two columns are used).

    The FEBRL files in ``../shared/data/linkage`` have ``rec_id_1,rec_id_2`` (deduplication) or
    ``rec_id_4a,rec_id_4b`` (linking ``febrl_dataset4a`` to ``febrl_dataset4b``, left id first).

    Raises:
        FileRefused: the file has fewer than two columns or an empty id.

    Examples:
        >>> import tempfile
        >>> p = Path(tempfile.mkdtemp()) / "true_links.csv"
        >>> _ = p.write_text("rec_id_4a,rec_id_4b\\nrec-0-org,rec-0-dup-0\\n")
        >>> read_truth_pairs(p)
        {('rec-0-org', 'rec-0-dup-0')}
    """
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, skipinitialspace=True))
    if not rows or len(rows[0]) < 2:
        raise FileRefused(str(path), "header", "expected a header with two id columns")
    pairs: set[Pair] = set()
    for number, row in enumerate(rows[1:], start=1):
        if not row:
            continue
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise FileRefused(
                str(path), "pair", f"data row {number} does not hold two ids; expected id_1,id_2"
            )
        pairs.add((row[0].strip(), row[1].strip()))
    return pairs
