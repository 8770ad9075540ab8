"""Counts of serious violence weighted by harm, so that a few very harmful offences are not
hidden by many minor ones.

Each police recorded crime weighs what its Home Office offence code weighs in a published
index: the ONS Crime Severity Score (points from sentencing data) or the Cambridge Crime Harm
Index (days of prison at the sentencing guideline's starting point). The weights are data, a
versioned file like the definition: svduty ships ``definitions/harm-weights-ons-css.toml``,
partial on purpose (only the weights it could trace to a published figure); a partnership
copies the full published table into its own file. Every output names the version it used.

Only police recorded crime carries an offence code. police.uk street records (a category),
ED, ambulance and fire records are not harm-weighted; :func:`harm_by_kind` says how many there
were.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from svduty.analysis.definition import Definition
from svduty.analysis.scope import Scope, serious_violence
from svduty.analysis.tomlfile import read_toml
from svduty.datasets.partners.offences import OFFENCES
from svduty.errors import ConfigError

DEFAULT_FILE = "definitions/harm-weights-ons-css.toml"
SOURCE = "police-crime"

_CODE = re.compile(r"^\d{3}/\d{2}$")
_HEADER = ("name", "index", "version", "edition", "unit", "source", "licence")
_ENTRY = {"weight", "offence", "evidence"}


@dataclass(frozen=True)
class HarmWeights:
    """A versioned table of harm weights by Home Office offence code (``CCC/SS``).

    ``anchors`` are published weights of offences the file does not map to a code: kept for
    reference, never used to weight records.
    """

    name: str
    index: str
    version: str
    edition: str
    unit: str
    source: str
    licence: str
    weights: dict[str, float]
    offences: dict[str, str] = field(default_factory=dict)
    anchors: dict[str, float] = field(default_factory=dict)
    origin: str = ""

    def weight(self, ho_code: str) -> float | None:
        """The weight of an offence code, ``None`` when the file has none.

        Examples:
            >>> w = load_harm_weights()
            >>> w.weight("001/00"), w.weight("105/01")
            (7979.0, None)
        """
        return self.weights.get(ho_code)

    def missing(self, codes: list[str] | None = None) -> list[str]:
        """The offence codes (svduty's list by default) that have no weight.

        Examples:
            >>> "105/01" in load_harm_weights().missing()
            True
        """
        return sorted(c for c in (OFFENCES if codes is None else codes) if c not in self.weights)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _positive(value: Any, where: str, problems: list[str]) -> float | None:
    w = _number(value)
    if w is None:
        problems.append(f"{where}: the weight must be a number, found {type(value).__name__}")
    elif not math.isfinite(w) or w <= 0:
        problems.append(f"{where}: the weight must be a positive number, found {w:g}")
    else:
        return w
    return None


def _parse(data: dict[str, Any], origin: str) -> HarmWeights:
    problems: list[str] = []
    for key in _HEADER:
        if not isinstance(data.get(key), str) or not data[key].strip():
            problems.append(f"'{key}' must be a non-empty text")
    weights: dict[str, float] = {}
    offences: dict[str, str] = {}
    table = data.get("weights")
    if not isinstance(table, dict) or not table:
        problems.append('no weight: add [weights."CCC/SS"] tables with a weight each')
        table = {}
    for code, entry in table.items():
        where = f'weights."{code}"'
        if not _CODE.match(code):
            problems.append(f"{where}: not a Home Office offence code written CCC/SS (e.g. 008/01)")
            continue
        if not isinstance(entry, dict):
            entry = {"weight": entry}
        unknown = sorted(set(entry) - _ENTRY)
        if unknown:
            problems.append(f"{where}: unknown key(s) {', '.join(unknown)}; use {sorted(_ENTRY)}")
        if "weight" not in entry:
            problems.append(f"{where}: no weight")
            continue
        w = _positive(entry["weight"], where, problems)
        if w is not None:
            weights[code] = w
            offences[code] = str(entry.get("offence") or OFFENCES.get(code, ""))
    anchors: dict[str, float] = {}
    for name, entry in (data.get("anchors") or {}).items():
        value = entry.get("weight") if isinstance(entry, dict) else entry
        w = _positive(value, f'anchors."{name}"', problems)
        if w is not None:
            anchors[name] = w
    if problems:
        raise ConfigError(f"{origin}: not a valid harm weights file: " + "; ".join(problems))
    header = {k: str(data[k]).strip() for k in _HEADER}
    return HarmWeights(**header, weights=weights, offences=offences, anchors=anchors, origin=origin)


def load_harm_weights(path: Path | None = None) -> HarmWeights:
    """The harm weights in ``path``, or svduty's default (partial ONS Crime Severity Score).

    Raises:
        ConfigError: the file cannot be read, is not TOML, or breaks the format (a missing
            header field, a code not written ``CCC/SS``, a weight that is not a positive
            number); the message names the file and every problem.

    Examples:
        >>> w = load_harm_weights()
        >>> w.version, w.licence
        ('ons-css-2016.11-partial.1', 'Open Government Licence v3.0 (ONS data)')
    """
    data, origin = read_toml(path, DEFAULT_FILE, "harm weights")
    return _parse(data, origin)


def _share(part: float, whole: float) -> float | None:
    """``part / whole``, ``None`` when ``whole`` is 0.

    Examples:
        >>> _share(1, 4), _share(3, 0)
        (0.25, None)
    """
    return float(part) / float(whole) if whole else None


def _crime_weights(con: Any, weights: HarmWeights) -> ir.Table:
    """``record_key, weight``: one row per crime; a crime recorded under two codes weighs as
    its heavier one, and ``weight`` is null when none of its codes has a weight."""
    crime = con.table("feed_police_crime")
    codes = crime.select(record_key=crime.record_key, ho_code=crime.ho_code).distinct()
    table = ibis.memtable(
        pa.table(
            {
                "w_code": pa.array(list(weights.weights), pa.string()),
                "weight": pa.array(list(weights.weights.values()), pa.float64()),
            }
        )
    )
    joined = codes.left_join(table, codes.ho_code == table.w_code)
    return joined.group_by(joined.record_key).aggregate(weight=joined.weight.max())


def _totals(t: ir.Table, keys: list[str]) -> list[dict[str, Any]]:
    agg = t.group_by(keys) if keys else t
    out = agg.aggregate(
        count=t.count(),
        harm=t.weight.sum(),
        unweighted=t.weight.isnull().cast("int64").sum(),
    )
    rows = out.to_pyarrow().to_pylist()
    for r in rows:
        r["count"] = int(r["count"] or 0)
        r["unweighted"] = int(r["unweighted"] or 0)
        r["harm"] = round(float(r["harm"] or 0.0), 6)
    return rows


def harm_by_kind(
    con: Any, definition: Definition, scope: Scope | None = None, weights: HarmWeights | None = None
) -> dict[str, Any]:
    """Serious violence crimes of each kind, counted and weighted by harm, with each kind's share
    of the count and of the harm.

    Args:
        con: the warehouse (any engine).
        definition: the local definition of serious violence.
        scope: months and area (the whole warehouse when ``None``).
        weights: harm weights (:func:`load_harm_weights`'s default when ``None``).

    Returns:
        ``{"weights_name", "weights_index", "weights_version", "weights_source",
        "weights_licence", "definition_version", "scope", "source": "police-crime",
        "rows": [...], "coverage", "codes_without_weight": [{"ho_code", "offence", "count"}],
        "other_sources": [{"source", "count"}], "note"}``. ``rows`` has one dict per kind of
        the definition, in its order, then kind ``all`` (distinct crimes): ``{"kind", "label",
        "count", "harm", "count_share", "harm_share", "unweighted"}``. ``count`` is the kind's
        police recorded crimes, ``harm`` the sum of their weights, ``unweighted`` how many have
        no weight (they add nothing to harm); the shares are of all serious violence crimes
        (kinds overlap, so they do not add up to 1) and ``None`` when there is nothing to share.
        ``coverage`` is the share of serious violence crimes with a weight.

    Notes:
        Sherman, L., Neyroud, P. & Neyroud, E. (2016) The Cambridge Crime Harm Index: measuring
        total harm from crime based on sentencing guidelines. Policing 10(3) 171-183; ONS (2016)
        Research outputs: developing a Crime Severity Score for England and Wales using data on
        crimes recorded by the police. Total harm is the sum over crimes of the offence's
        weight, as both define it.
    """
    scope = scope or Scope()
    weights = weights or load_harm_weights()
    sv = serious_violence(con, definition, scope)
    crimes = sv.filter(sv.source == SOURCE)
    per_crime = _crime_weights(con, weights)

    def weighted(t: ir.Table, keys: list[str]) -> ir.Table:
        t = t.select(*keys, "record").distinct()
        j = t.left_join(per_crime, t.record == per_crime.record_key)
        return j.select(*keys, "record", "weight")

    by_kind = {r["kind"]: r for r in _totals(weighted(crimes, ["kind"]), ["kind"])}
    total = _totals(weighted(crimes, []), [])
    empty: dict[str, Any] = {"count": 0, "harm": 0.0, "unweighted": 0}
    everything = total[0] if total else empty
    rows = []
    for k in [*definition.kinds, None]:
        key, label = (k.key, k.label) if k else ("all", "All serious violence (distinct crimes)")
        r = everything if k is None else by_kind.get(key, empty)
        rows.append(
            {
                "kind": key,
                "label": label,
                "count": r["count"],
                "harm": r["harm"],
                "count_share": _share(r["count"], everything["count"]),
                "harm_share": _share(r["harm"], everything["harm"]),
                "unweighted": r["unweighted"],
            }
        )

    records = crimes.select("record").distinct()
    crime = con.table("feed_police_crime")
    codes = crime.select(record_key=crime.record_key, ho_code=crime.ho_code).distinct()
    codes = codes.semi_join(records, codes.record_key == records.record)
    missing = codes.filter(~codes.ho_code.isin(list(weights.weights) or [""]))
    missing = missing.group_by("ho_code").aggregate(count=missing.record_key.nunique())
    without = [
        {"ho_code": r["ho_code"], "offence": OFFENCES.get(r["ho_code"]), "count": int(r["count"])}
        for r in missing.to_pyarrow().to_pylist()
    ]
    without.sort(key=lambda r: (-r["count"], str(r["ho_code"])))

    others = sv.filter(sv.source != SOURCE).select("source", "record").distinct()
    other = [
        {"source": r["source"], "count": int(r["count"])}
        for r in others.group_by("source").aggregate(count=others.count()).to_pyarrow().to_pylist()
    ]
    other.sort(key=lambda r: r["source"])

    n, unweighted = int(everything["count"]), int(everything["unweighted"])
    coverage = _share(n - unweighted, n)
    return {
        "weights_name": weights.name,
        "weights_index": weights.index,
        "weights_version": weights.version,
        "weights_source": weights.source,
        "weights_licence": weights.licence,
        "definition_version": definition.version,
        "scope": scope.label,
        "source": SOURCE,
        "rows": rows,
        "coverage": coverage,
        "codes_without_weight": without,
        "other_sources": other,
        "note": _note(weights, n, unweighted, other),
    }


def _note(weights: HarmWeights, n: int, unweighted: int, other: list[dict[str, Any]]) -> str:
    parts = [
        f"Harm weighted with {weights.index} weights, version {weights.version}, in "
        f"{weights.unit}; harm is the sum of the weights of each kind's police recorded "
        "crimes, by Home Office offence code. Kinds overlap, so shares do not add up to 1."
    ]
    if n == 0:
        parts.append("There is no police recorded crime with an offence code in this scope.")
    elif unweighted:
        parts.append(
            f"{unweighted} of {n} crimes ({unweighted / n:.1%}) have an offence code with no "
            "weight in this file and add nothing to harm: harm and harm shares describe the "
            "weighted crimes only, not all serious violence. Install the full published table "
            "(a copy of the weights file with every code) before reading harm shares."
        )
    if other:
        names = ", ".join(f"{o['source']} {o['count']}" for o in other)
        parts.append(
            f"Records of other sources are not harm-weighted ({names}): they carry no offence "
            "code, and police.uk street data has only a category, for which no published "
            "weight is installed."
        )
    return " ".join(parts)
