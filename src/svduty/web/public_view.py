"""The public view: the figures disclosure control allows, in plain English.

:func:`public_view` runs :func:`svduty.reports.public.public_figures` over the assessment (no
count from 1 to 4 for any area, month or group, and no total that gives one back) and keeps the
whole partnership and its partnership areas only, never an LSOA.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from svduty.analysis.counts import ALL
from svduty.reports.public import public_figures
from svduty.reports.sna import _clean


def month_words(month: str | None) -> str:
    """``YYYY-MM`` in words.

    Examples:
        >>> month_words("2025-06")
        'June 2025'
    """
    return dt.date.fromisoformat(f"{month}-01").strftime("%B %Y") if month else ""


def _number(value: int | None) -> str:
    return "withheld" if value is None else f"{value:,}"


def _change_words(change: dict[str, Any] | None) -> str | None:
    """A change on the previous year in words, saying whether it is clear of chance."""
    if not change:
        return None
    later, earlier = (change["later"].split(".."), change["earlier"].split(".."))
    pct = abs(change["ratio"] - 1) * 100
    way = "higher" if change["ratio"] >= 1 else "lower"
    clear = change["ci_low"] > 1 or change["ci_high"] < 1
    return (
        f"From {month_words(later[0])} to {month_words(later[1])} the level was {pct:.0f}% "
        f"{way} than from {month_words(earlier[0])} to {month_words(earlier[1])}. "
        + ("This is a clear change, larger than the usual ups and downs from month to month."
           if clear else
           "This is within the usual ups and downs from month to month, so it is not a clear "
           "change.")
    )  # fmt: skip


def public_view(figures: dict[str, Any]) -> dict[str, Any]:
    """The figures the public may see, in plain English: :func:`public_figures` of the
    assessment (no count from 1 to 4 for any area, month or group, and no total that gives
    one back), the whole partnership and its partnership areas only, never an LSOA.

    Returns:
        ``period``, ``sentences`` (the headline in words), ``kinds`` and ``areas`` (tables of
        ``label``/``area_name``, ``count`` or ``None`` where withheld, ``rate_per_1000``),
        ``measures``, ``disclosure`` (the rule and how many counts were withheld).
    """
    keep = ("scope", "places", "kind_labels", "counts", "trends", "kinds", "measures")
    p = public_figures({k: v for k, v in figures.items() if k in keep or isinstance(v, str)})
    scope = p["scope"]
    summary = {(r["kind"], r["area"]): r for r in p["trends"]["summary"]}
    whole = summary.get((ALL, ALL), {})
    first, last = month_words(scope["from"]), month_words(scope["to"])
    sentences = []
    if whole.get("count") is not None:
        sentences.append(
            f"From {first} to {last}, partner agencies recorded {whole['count']:,} incidents of "
            "serious violence across the partnership's area (police, hospital emergency "
            "departments, ambulance and fire services; one incident seen by two services "
            "counts twice)."
        )
    if whole.get("rate_per_1000") is not None:
        sentences.append(
            f"That is about {whole['rate_per_1000']:.1f} a year for every 1,000 residents."
        )
    if (words := _change_words(whole.get("change"))) is not None:
        sentences.append(words)
    season = whole.get("seasonality")
    if season and season.get("p_value") is not None and season["p_value"] < 0.05:
        sentences.append(f"Serious violence is usually highest around {season['peak_month_name']}.")
    kinds = [
        {"kind": k["kind"], "label": k["label"], "count": k["count"],
         "share": k["share"], "rate_per_1000": k["rate_per_1000"]}
        for k in p.get("kinds", []) if k["kind"] != ALL
    ]  # fmt: skip
    areas = [
        {"area": a["area"], "area_name": a["area_name"],
         "count": summary.get((ALL, a["area"]), {}).get("count"),
         "rate_per_1000": summary.get((ALL, a["area"]), {}).get("rate_per_1000")}
        for a in scope["partnership_areas"]
    ]  # fmt: skip
    measures = [
        {"label": m["label"], "count": m.get("count"),
         "change": _measure_change(m.get("change"))}
        for m in (p.get("measures") or {}).get("measures", []) if m.get("available")
    ]  # fmt: skip
    return _clean({
        "period": {"from": scope["from"], "to": scope["to"], "words": f"{first} to {last}"},
        "definition": p.get("definition_name"), "residents": scope["residents"],
        "sentences": sentences, "count": whole.get("count"), "kinds": kinds, "areas": areas,
        "measures": measures, "disclosure": p["disclosure"],
    })  # fmt: skip


def _measure_change(change: dict[str, Any] | None) -> str | None:
    if not change:
        return None
    pct = abs(change["rate_ratio"] - 1) * 100
    way = "higher" if change["rate_ratio"] >= 1 else "lower"
    clear = change["ci_low"] > 1 or change["ci_high"] < 1
    return f"{pct:.0f}% {way} in the latest 12 months than in the first 12" + (
        "" if clear else " (not a clear change)"
    )
