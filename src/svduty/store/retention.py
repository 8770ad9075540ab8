"""Retention: remove what is older than its agreement allows, and record what was removed.

For each feed's agreement the cut-off is the first day of the month ``retention_months`` before
today: every month before it goes. That means, in the warehouse, the feed's rows (whole
partitions, through the same atomic :func:`svduty.warehouse.commit` loads use), its quarantined
rows, its load records and the cross-agency links of its removed records; on disk, its sealed
linkage-store partitions and sealed raw files; in the store, its uploads are marked removed.
Each run leaves a :class:`~svduty.store.models.RetentionRecord` per feed and one audit event.

Examples:
    >>> import datetime as dt
    >>> cutoff_month(dt.date(2026, 11, 29), 36)
    datetime.date(2023, 11, 1)
    >>> cutoff_month(dt.date(2026, 1, 31), 1)
    datetime.date(2025, 12, 1)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select

from svduty.config import Settings
from svduty.datasets.partners import FEEDS
from svduty.ingest.partners import linkage_dir, raw_dir
from svduty.store import audit
from svduty.store.agreements import ensure_agreements, list_agreements
from svduty.store.db import Store
from svduty.store.models import RetentionRecord, Upload, stamp
from svduty.warehouse import TABLES, Replace, commit

_SEALED_MONTH = re.compile(r"^(\d{4})-(\d{2})\.arrow\.sealed$")


def cutoff_month(today: dt.date, retention_months: int) -> dt.date:
    """The first day of the month ``retention_months`` before ``today``'s month."""
    index = today.year * 12 + (today.month - 1) - retention_months
    return dt.date(index // 12, index % 12 + 1, 1)


def _targets(feed: str) -> list[tuple[str, str]]:
    """(warehouse table, feed name in ``loads``/``quarantine``) for an agreement's feed."""
    if feed == "police-uk":
        from svduty.datasets import police_uk

        return [(k.table, k.contract.feed) for k in police_uk.KINDS.values()]
    if feed in FEEDS:
        return [(FEEDS[feed].table, feed)]
    return []


def _partitions(con: Any, table: str, where: Any) -> list[dict[str, Any]]:
    """The partitions of ``table`` holding rows that match ``where``, with their row counts."""
    t = con.table(table)
    keys = list(TABLES[table].partition_by)
    rows = t.filter(where(t))
    agg = rows.group_by(keys).aggregate(n=rows.count())
    return agg.to_pyarrow().to_pylist()


def _remove_partitions(table: str, parts: list[dict[str, Any]]) -> list[Replace]:
    schema = TABLES[table].schema.to_pyarrow()
    keys = TABLES[table].partition_by
    return [Replace(table, {k: p[k] for k in keys}, schema.empty_table()) for p in parts]


def _old_files(root: Path, before: dt.date) -> Iterator[Path]:
    """Sealed linkage-store partitions (``<org>/<YYYY-MM>.arrow.sealed``) before the cut-off."""
    if not root.is_dir():
        return
    for path in sorted(root.glob("*/*.arrow.sealed")):
        m = _SEALED_MONTH.match(path.name)
        if m and dt.date(int(m[1]), int(m[2]), 1) < before:
            yield path


def _plan_feed(
    settings: Settings, con: Any, feed: str, before: dt.date
) -> tuple[dict[str, Any], list[Replace], list[Path]]:
    """What retention would remove from one feed: counts, warehouse changes and files."""
    counts = {"rows": 0, "quarantine": 0, "loads": 0, "links": 0}
    changes: list[Replace] = []
    removed_keys: list[str] = []
    names: list[str] = []
    for table, name in _targets(feed):
        names.append(name)
        parts = _partitions(con, table, lambda t: t.month < before)
        counts["rows"] += sum(p["n"] for p in parts)
        changes += _remove_partitions(table, parts)
        if parts and "record_key" in TABLES[table].schema.names:
            t = con.table(table)
            keys = t.filter((t.month < before) & t.record_key.notnull()).select("record_key")
            removed_keys += keys.to_pyarrow()["record_key"].to_pylist()
    if not names:
        return counts, changes, []
    q_parts = _partitions(con, "quarantine", lambda t: t.feed.isin(names) & (t.month < before))
    counts["quarantine"] = sum(p["n"] for p in q_parts)
    changes += _remove_partitions("quarantine", q_parts)
    loads = con.table("loads")
    old_loads = (
        loads.filter(loads.feed.isin(names) & (loads.month < before))
        .select("load_seq", "sha256")
        .to_pyarrow()
        .to_pylist()
    )
    counts["loads"] = len(old_loads)
    empty_loads = TABLES["loads"].schema.to_pyarrow().empty_table()
    changes += [Replace("loads", {"load_seq": r["load_seq"]}, empty_loads) for r in old_loads]
    if removed_keys:
        links = con.table("person_links")
        gone = links.feed.isin(names) & links.record_key.isin(removed_keys)
        n_links = links.filter(gone).count().to_pyarrow().as_py()
        if n_links:
            counts["links"] = int(n_links)
            kept = links.filter(~gone).to_pyarrow()
            schema = TABLES["person_links"].schema.to_pyarrow()
            changes.append(Replace("person_links", {}, kept.select(schema.names).cast(schema)))
    files = [p for name in names for p in _old_files(linkage_dir(settings) / name, before)]
    raws = {r["sha256"] for r in old_loads if r["sha256"]}
    for name in names:
        for sha in sorted(raws):
            path = raw_dir(settings) / name / f"{sha}.csv.sealed"
            if path.is_file():
                files.append(path)
    return counts, changes, files


def _old_uploads(store: Store, feed: str, before: dt.date) -> list[int]:
    """Uploads of ``feed`` not yet removed whose every month is before the cut-off."""
    limit = before.strftime("%Y-%m")
    with store.sessions() as s:
        rows = s.execute(
            select(Upload.id, Upload.feed, Upload.months).where(Upload.removed_at.is_(None))
        ).all()
    ours = [
        r
        for r in rows
        if r.feed == feed or (feed == "police-uk" and r.feed.startswith("police-uk"))
    ]
    return [r.id for r in ours if r.months and all(m < limit for m in r.months)]


def apply_retention(
    settings: Settings,
    store: Store,
    con: Any,
    *,
    today: dt.date | None = None,
    dry_run: bool = False,
    actor: str = "cli",
) -> list[dict[str, Any]]:
    """Remove, for every agreement, what is older than its retention period allows.

    Args:
        settings: the data folder (for the linkage store and sealed raw files).
        store: the operational store (agreements, uploads, the record of what was removed).
        con: the warehouse.
        today: the date to count back from (today by default; fixed in tests).
        dry_run: count what would go, change nothing and record nothing.
        actor: who ran it, for the audit trail.

    Returns:
        One dict per feed: ``feed``, ``retention_months``, ``before_month`` (``YYYY-MM``: every
        earlier month goes), ``rows_removed``, ``quarantine_removed``, ``loads_removed``,
        ``links_removed``, ``files_removed``, ``uploads_removed`` and ``dry_run``.
    """
    today = today or dt.date.today()
    ensure_agreements(store)
    report: list[dict[str, Any]] = []
    for a in list_agreements(store):
        before = cutoff_month(today, a["retention_months"])
        counts, changes, files = _plan_feed(settings, con, a["feed"], before)
        uploads = _old_uploads(store, a["feed"], before)
        entry = {
            "feed": a["feed"],
            "retention_months": a["retention_months"],
            "before_month": before.strftime("%Y-%m"),
            "rows_removed": counts["rows"],
            "quarantine_removed": counts["quarantine"],
            "loads_removed": counts["loads"],
            "links_removed": counts["links"],
            "files_removed": len(files),
            "uploads_removed": len(uploads),
            "dry_run": dry_run,
        }
        report.append(entry)
        if dry_run:
            continue
        if changes:
            commit(con, changes)
        for path in files:
            path.unlink(missing_ok=True)
        with store.session() as s:
            if uploads:
                for up in s.execute(select(Upload).where(Upload.id.in_(uploads))).scalars():
                    up.removed_at = stamp()
            s.add(
                RetentionRecord(
                    feed=a["feed"],
                    before_month=entry["before_month"],
                    rows_removed=entry["rows_removed"],
                    files_removed=entry["files_removed"],
                    uploads_removed=entry["uploads_removed"],
                    detail={
                        k: entry[k]
                        for k in ("retention_months", "quarantine_removed", "loads_removed")
                    }
                    | {"links_removed": entry["links_removed"], "today": today.isoformat()},
                )
            )
    if not dry_run:
        audit.record(
            store,
            actor=actor,
            action="retention",
            resource="warehouse",
            detail={
                "today": today.isoformat(),
                "feeds": {
                    e["feed"]: {
                        k: v for k, v in e.items() if k not in ("feed", "dry_run") and v != 0
                    }
                    for e in report
                },
            },
        )
    return report


def retention_history(store: Store, limit: int = 100) -> list[dict[str, Any]]:
    """The most recent retention records, newest first."""
    with store.sessions() as s:
        rows = s.execute(
            select(RetentionRecord).order_by(RetentionRecord.id.desc()).limit(limit)
        ).scalars()
        return [
            {
                "at": r.at,
                "feed": r.feed,
                "before_month": r.before_month,
                "rows_removed": r.rows_removed,
                "files_removed": r.files_removed,
                "uploads_removed": r.uploads_removed,
                "detail": r.detail,
            }
            for r in rows
        ]


__all__ = ["apply_retention", "cutoff_month", "retention_history"]
