"""Writing a feed as the partner would send it: one CSV file per month, the contract's header.

The header comes from the feed's declared contract (never retyped here), and the columns given
must be exactly the contract's, so a change to a contract that the generator does not follow
fails loudly instead of writing files that ingestion refuses.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from svduty.datasets.partners import FEEDS
from svduty.synth.timing import Window


@dataclass
class FeedRows:
    """A feed's records before writing.

    Attributes:
        feed: the feed's name (a key of ``FEEDS``).
        columns: one sequence of text per contract column, keyed by warehouse name.
        month: each record's month index (its event's month).
        when: each record's event time, to order the rows within a file.
        person: the true person of each record (person-level feeds), else None.
    """

    feed: str
    columns: dict[str, Sequence[str] | np.ndarray]
    month: np.ndarray
    when: np.ndarray
    person: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.month)


def write_feed(out: Path, rows: FeedRows, window: Window) -> tuple[np.ndarray, list[str]]:
    """Write ``out/feeds/<feed>/<feed>-YYYY-MM.csv`` for every month of the window that has
    records. A month without any (no school exclusions in August) has no file: ingestion
    refuses a file with a header and no rows, since loading it would empty that month.

    Args:
        out: the output folder.
        rows: the feed's records.
        window: the months.

    Returns:
        The records' order in the files (indices into ``rows``), for the truth files, and the
        names of the files written.

    Raises:
        ValueError: the columns are not exactly the contract's, or a record falls outside the
            window.
    """
    contract = FEEDS[rows.feed].contract
    names = [c.name for c in contract.columns]
    if sorted(rows.columns) != sorted(names):
        raise ValueError(f"{rows.feed}: columns {sorted(rows.columns)} are not {sorted(names)}")
    n = len(rows)
    if n and (rows.month.min() < 0 or rows.month.max() >= window.n_months):
        raise ValueError(f"{rows.feed}: a record falls outside the window")
    order = np.lexsort((np.arange(n), rows.when, rows.month))
    columns = [np.asarray(rows.columns[name], dtype=object)[order] for name in names]
    bounds = np.searchsorted(rows.month[order], np.arange(window.n_months + 1), side="left")
    folder = out / "feeds" / rows.feed
    folder.mkdir(parents=True, exist_ok=True)
    names_written = []
    for m, label in enumerate(window.labels):
        lo, hi = int(bounds[m]), int(bounds[m + 1])
        if lo == hi:
            continue
        name = f"{rows.feed}-{label}.csv"
        with open(folder / name, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(contract.header)
            writer.writerows(zip(*(col[lo:hi].tolist() for col in columns), strict=True))
        names_written.append(name)
    return order, names_written
