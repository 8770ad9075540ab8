"""Views over the loaded tables that every analysis starts from."""

from __future__ import annotations

from typing import Any

import ibis


def street_crimes(con: Any) -> ibis.Table:
    """police.uk street rows with their last outcome brought up to date by the outcomes files.

    A street file's ``Last outcome category`` is a snapshot taken when the file was published; an
    outcomes file lists what happened to crimes in a later month. For each crime, the outcome of
    the latest outcomes month wins (the last row of that month's file, if several), otherwise the
    street file's own category stands. ``outcome_month`` says which month the outcome is from
    (null when it comes from the street file).

    Examples:
        >>> from svduty.config import Settings
        >>> import tempfile
        >>> from svduty.warehouse import connect
        >>> con = connect(Settings(data_dir=tempfile.mkdtemp()))
        >>> street_crimes(con).count().execute()
        0
    """
    s = con.table("policeuk_street")
    o = con.table("policeuk_outcomes")
    w = ibis.window(group_by=o.crime_id, order_by=[ibis.desc(o.month), ibis.desc(o.source_row)])
    latest = (
        o.mutate(rn=ibis.row_number().over(w))
        .filter(ibis._.rn == 0)
        .select(crime_id_o=o.crime_id, outcome_type=o.outcome_type, outcome_month=o.month)
    )
    joined = s.left_join(latest, s.crime_id == latest.crime_id_o)
    return joined.mutate(
        last_outcome_category=ibis.coalesce(joined.outcome_type, joined.last_outcome_category)
    ).drop("crime_id_o", "outcome_type")
