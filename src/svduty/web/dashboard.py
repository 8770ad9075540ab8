"""The dashboard's data: the assessment computed once per version of the warehouse, then sliced
in memory for each choice of period, partnership area and kind of violence.

:class:`Snapshot` holds one version's assessment (:func:`svduty.analysis.assessment.assess` for
the whole partnership and every month), its counts by kind, month and LSOA as arrays, the LSOA
boundaries and the contiguity weights of the hotspot analysis. Each view (trend, map, area,
measures, quality, cohorts) is a JSON-ready dict memoised per :class:`Filters`, so a filter seen
before answers at once. :class:`Dashboards` keeps the snapshot of each warehouse and builds a new
one when the warehouse's version changes. :meth:`Snapshot.public_view` is the public page: the
figures that disclosure control allows (:func:`svduty.reports.public.public_figures`) in words.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import json
import re
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from svduty.analysis import cohorts as cohort_figures
from svduty.analysis.assessment import assess
from svduty.analysis.counts import ALL
from svduty.analysis.definition import Definition, load_definition
from svduty.analysis.hotspots import gi_star, queen_weights
from svduty.analysis.measures import success_measures
from svduty.analysis.quality import data_quality
from svduty.analysis.scope import Scope
from svduty.analysis.trends import change_on_last_year, control_chart
from svduty.errors import SvdutyError
from svduty.reports.maps import class_breaks
from svduty.reports.sna import _clean, lsoa_features
from svduty.reports.svg import SEQUENTIAL, ramp_classes
from svduty.web.public_view import public_view

Reader = Callable[[Callable[[Any], Any]], Any]  # runs fn(con) where the connection lives

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
PARTS = ("where", "measures", "quality", "cohorts")
CACHED_VIEWS = 512
HOTSPOT_FDR = 0.05
MAP_CLASSES = 5


class FilterError(ValueError, SvdutyError):
    """A filter of the dashboard is not one it knows; ``errors`` says which and why."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))


@dataclasses.dataclass(frozen=True)
class Filters:
    """A validated choice: months ``start`` to ``end`` (``YYYY-MM``), an ``area`` (``all`` or
    a partnership area's code) and a ``kind`` (``all`` or a kind of the definition)."""

    start: str
    end: str
    area: str = ALL
    kind: str = ALL

    def query(self) -> dict[str, str]:
        """The filters as the query parameters of the API and the dashboard's form."""
        return {"from": self.start, "to": self.end, "area": self.area, "kind": self.kind}


def _rate(count: float, residents: float, months: int) -> float | None:
    """Per 1,000 residents per year."""
    return count / residents * 1000 * 12 / months if residents and months else None


class Snapshot:
    """One version of the warehouse, assessed; every view a memoised function of filters.

    Args:
        figures: :func:`assess`'s figures (cleaned to plain JSON), with ``where``, ``measures``,
            ``quality`` and ``cohorts``.
        geometry: GeoJSON geometry of each LSOA of the partnership.
        deprivation: IMD ``score``, ``rank`` and ``decile`` by LSOA code (may be empty).
        weights: the Queen contiguity weights of the hotspot analysis (libpysal ``W``).
        events: the linked person events of :func:`svduty.analysis.cohorts.events`, or ``None``.
        read: runs a function on the warehouse's connection (for views computed on demand).
        definition: the local definition used.
        version: the warehouse version assessed.
    """

    def __init__(
        self,
        figures: dict[str, Any],
        geometry: dict[str, dict[str, Any]],
        deprivation: pd.DataFrame,
        weights: Any,
        events: pd.DataFrame | None,
        read: Reader,
        definition: Definition,
        version: str,
    ) -> None:
        self.figures, self.geometry, self.deprivation = figures, geometry, deprivation
        self.weights, self.events, self.read = weights, events, read
        self.definition, self.version = definition, version
        self.months: list[str] = list(figures["trends"]["months"])
        self.kind_labels: dict[str, str] = dict(figures["kind_labels"])
        self.places = pd.DataFrame(figures["places"]).set_index("lsoa")
        self.area_names = {a["area"]: a["area_name"] for a in figures["scope"]["partnership_areas"]}
        self.residents = {ALL: float(figures["scope"]["residents"])}
        for area, rows in self.places.groupby("area"):
            self.residents[str(area)] = float(rows["residents"].sum())
        counts = pd.DataFrame(figures["counts"], columns=["kind", "month", "area", "count"])
        inside = counts["area"].isin([ALL, *self.area_names])
        self._series = {
            (str(k), str(a)): rows.set_index("month")["count"].reindex(self.months, fill_value=0)
            .to_numpy(dtype=np.int64)
            for (k, a), rows in counts[inside].groupby(["kind", "area"])
        }  # fmt: skip
        lsoa = counts[~inside]
        self._lsoa = {
            str(k): rows.pivot_table(index="area", columns="month", values="count", aggfunc="sum")
            .reindex(index=self.places.index, columns=self.months, fill_value=0)
            .fillna(0).to_numpy(dtype=np.int64)
            for k, rows in lsoa.groupby("kind")
        }  # fmt: skip
        self._lock = threading.Lock()
        self.trend = lru_cache(maxsize=CACHED_VIEWS)(self._trend)
        self.map = lru_cache(maxsize=CACHED_VIEWS)(self._map)
        self.area = lru_cache(maxsize=CACHED_VIEWS)(self._area)
        self.measures = lru_cache(maxsize=CACHED_VIEWS)(self._measures)
        self.quality = lru_cache(maxsize=CACHED_VIEWS)(self._quality)
        self.cohorts = lru_cache(maxsize=CACHED_VIEWS)(self._cohorts)
        self.everything = self.filters()
        self._public: dict[str, Any] | None = None
        self._json: dict[tuple[str, Any], bytes] = {}

    @classmethod
    def build(
        cls,
        con: Any,
        version: str,
        read: Reader | None = None,
        definition: Definition | None = None,
    ) -> Snapshot:
        """Assess the warehouse ``con`` (a minute on a large warehouse, seconds on a county).

        Args:
            con: the warehouse.
            version: its version (for the cache).
            read: how later views reach the warehouse; ``fn(con)`` directly by default.
            definition: the local definition; svduty's default when not given.
        """
        definition = definition or load_definition()
        figures = _clean(assess(con, definition, Scope(), parts=PARTS))
        codes = [p["lsoa"] for p in figures["places"]]
        geometry = {code: geom for code, _name, geom in lsoa_features(con, set(codes))}
        weights = queen_weights(con, codes)[0] if len(codes) >= 3 else None
        keys = cohort_figures.linkage_keys(con)
        events = cohort_figures.events(con, definition, keys) if keys is not None else None
        return cls(figures, geometry, _deprivation(con), weights, events,
                   read or (lambda fn: fn(con)), definition, version)  # fmt: skip

    # filters ------------------------------------------------------------------------------

    def filters(
        self, start: str | None = None, end: str | None = None, area: str | None = None,
        kind: str | None = None,
    ) -> Filters:  # fmt: skip
        """Validate the filters (blank means everything).

        Raises:
            FilterError: each bad value, with the field and what it should be.
        """
        errors = []
        first, last = (self.months[0], self.months[-1]) if self.months else ("", "")
        values = {"from": (start or "").strip() or first, "to": (end or "").strip() or last}
        for field, value in values.items():
            if not MONTH.match(value):
                errors.append({"field": field, "message": "a month written YYYY-MM is expected"})
            elif self.months and not first <= value <= last:
                errors.append({"field": field, "message": f"a month from {first} to {last}"})
        if not errors and values["from"] > values["to"]:
            errors.append({"field": "from", "message": "the first month is after the last"})
        area = (area or "").strip() or ALL
        if area != ALL and area not in self.area_names:
            errors.append({"field": "area", "message": "not a partnership area of the data; "
                           f"use one of {', '.join([ALL, *self.area_names])}"})  # fmt: skip
        kind = (kind or "").strip() or ALL
        if kind not in self.kind_labels:
            errors.append({"field": "kind", "message": "not a kind of serious violence of the "
                           f"definition; use one of {', '.join(self.kind_labels)}"})  # fmt: skip
        if errors:
            raise FilterError(errors)
        return Filters(values["from"], values["to"], area, kind)

    def _span(self, f: Filters) -> slice:
        return slice(self.months.index(f.start), self.months.index(f.end) + 1)

    def _inside(self, area: str) -> np.ndarray:
        """Which LSOAs of the partnership are in ``area``."""
        return np.ones(len(self.places), bool) if area == ALL else (
            self.places["area"] == area).to_numpy()  # fmt: skip

    def lsoa_totals(self, f: Filters) -> np.ndarray:
        """Each LSOA's count over the period for the kind (every LSOA of the partnership)."""
        grid = self._lsoa.get(f.kind)
        return (
            np.zeros(len(self.places), np.int64) if grid is None else grid[:, self._span(f)].sum(1)
        )

    def json(self, view: str, *args: Any) -> bytes:
        """A view serialised once (the API's response body)."""
        key = (view, args)
        if key not in self._json:
            if len(self._json) > CACHED_VIEWS:
                self._json.clear()
            self._json[key] = json.dumps(getattr(self, view)(*args), allow_nan=False).encode()
        return self._json[key]

    # views --------------------------------------------------------------------------------

    def options(self) -> dict[str, Any]:
        """What can be chosen: months, partnership areas and kinds."""
        return {
            "months": self.months,
            "areas": [{"code": ALL, "name": "Whole partnership"}]
            + [{"code": c, "name": n} for c, n in self.area_names.items()],
            "kinds": [{"key": k, "label": v} for k, v in self.kind_labels.items()],
            "version": self.version,
            "definition_version": self.definition.version,
        }

    def _trend(self, f: Filters) -> dict[str, Any]:
        """Monthly counts and rates of the kind in the area over the period, with the control
        chart's flags, the change on the previous year, and totals by kind and by area."""
        span = self._span(f)
        months = self.months[span]
        whole = self._series.get((f.kind, f.area), np.zeros(len(self.months), np.int64))
        counts = [int(c) for c in whole[span]]
        residents = self.residents.get(f.area, 0.0)
        control = control_chart([int(c) for c in whole])[span]  # the 12 months before each
        total = sum(counts)
        by_kind = [
            {"kind": k, "label": label,
             "count": int(self._series.get((k, f.area), whole * 0)[span].sum())}
            for k, label in self.kind_labels.items()
        ]  # fmt: skip
        for r in by_kind:
            r["rate_per_1000"] = _rate(r["count"], residents, len(months))
        by_area = []
        for code, name in self.area_names.items():
            n = int(self._series.get((f.kind, code), whole * 0)[span].sum())
            by_area.append(
                {
                    "area": code,
                    "area_name": name,
                    "count": n,
                    "residents": int(self.residents.get(code, 0)),
                    "rate_per_1000": _rate(n, self.residents.get(code, 0), len(months)),
                }
            )
        return _clean({
            "filters": f.query(), "kind_label": self.kind_labels[f.kind],
            "area_name": self.area_name(f.area), "residents": int(residents),
            "count": total, "rate_per_1000": _rate(total, residents, len(months)),
            "points": [
                {"month": m, "count": n, "rate_per_1000": _rate(n * 12, residents, 12),
                 "expected": c["expected"], "low": c["low"], "high": c["high"],
                 "flag": c["flag"]}
                for m, n, c in zip(months, counts, control, strict=True)
            ],
            "change": change_on_last_year(counts, months, residents or 1.0),
            "by_kind": by_kind, "by_area": by_area,
            "note": "Rates are per 1,000 residents per year (a month's rate is its count times "
            "12). A month is flagged high or low when it falls outside negative binomial "
            "control limits around the mean of the 12 months before it. The change compares "
            "the latest 12 months of the period with the 12 before (or the latest months with "
            "the same months a year before) as a negative binomial rate ratio with a 95% "
            "interval; it needs 13 months or more.",
        })  # fmt: skip

    def area_name(self, code: str) -> str:
        """The name of the whole partnership, a partnership area or an LSOA."""
        if code == ALL:
            return "Whole partnership"
        if code in self.area_names:
            return self.area_names[code]
        return str(self.places.at[code, "lsoa_name"]) if code in self.places.index else code

    def _map(self, f: Filters) -> dict[str, Any]:
        """The LSOAs of the area as a GeoJSON FeatureCollection: count, rate per 1,000 residents
        per year and Getis-Ord Gi* hotspot class for the kind and period."""
        inside = self._inside(f.area)
        codes = self.places.index[inside].tolist()
        totals = self.lsoa_totals(f)[inside]
        months = self._span(f).stop - self._span(f).start
        hot = self._hotspots(codes, totals)
        features = []
        for i, code in enumerate(codes):
            place = self.places.loc[code]
            features.append({
                "type": "Feature", "id": code, "geometry": self.geometry.get(code),
                "properties": {
                    "code": code, "name": str(place["lsoa_name"]), "area": str(place["area"]),
                    "area_name": self.area_names.get(str(place["area"]), ""),
                    "count": int(totals[i]), "residents": int(place["residents"]),
                    "rate_per_1000": _rate(int(totals[i]), float(place["residents"]), months),
                    "hotspot": hot[i],
                },
            })  # fmt: skip
        rates = [x["properties"]["rate_per_1000"] for x in features]
        breaks = class_breaks(rates, MAP_CLASSES)
        colours = ramp_classes(SEQUENTIAL, len(breaks) + 1)
        for x, rate in zip(features, rates, strict=True):
            k = bisect.bisect_left(breaks, rate) if rate is not None else None
            x["properties"]["rate_class"] = k
            x["properties"]["fill"] = colours[k] if k is not None else "#ffffff"
        bounds = [None, *breaks, None]
        legend = [
            {"low": bounds[k], "high": bounds[k + 1], "fill": colours[k]}
            for k in range(len(colours))
        ]
        return _clean({
            "type": "FeatureCollection", "features": features, "filters": f.query(),
            "legend": legend,
            "kind_label": self.kind_labels[f.kind], "area_name": self.area_name(f.area),
            "hot": sum(h == "hot" for h in hot), "cold": sum(h == "cold" for h in hot),
            "note": "Rate: records per 1,000 residents per year. Hotspot: Getis-Ord Gi* of the "
            "LSOAs' counts over Queen contiguity among the LSOAs shown, significant at a false "
            f"discovery rate of {HOTSPOT_FDR:.0%} (Benjamini-Hochberg).",
        })  # fmt: skip

    def _hotspots(self, codes: list[str], totals: np.ndarray) -> list[str]:
        if self.weights is None or len(codes) < 3:
            return ["not significant"] * len(codes)
        from libpysal.weights import w_subset

        w = self.weights if len(codes) == len(self.places) else w_subset(self.weights, codes)
        return gi_star(totals, w, HOTSPOT_FDR, permutations=0)["class"].tolist()

    def _area(self, code: str, f: Filters) -> dict[str, Any]:
        """One LSOA or partnership area: its monthly series, kinds and deprivation."""
        if code in self.area_names or code == ALL:
            return self._partnership_area(code, f)
        if code not in self.places.index:
            raise FilterError([{"field": "code", "message": "not an LSOA or partnership area "
                                "of the partnership"}])  # fmt: skip
        span = self._span(f)
        i = self.places.index.get_loc(code)
        place = self.places.loc[code]
        residents = float(place["residents"])
        months = self.months[span]
        grid = self._lsoa.get(f.kind)
        counts = [int(c) for c in grid[i, span]] if grid is not None else [0] * len(months)
        kinds = []
        for k, label in self.kind_labels.items():
            n = int(self._lsoa[k][i, span].sum()) if k in self._lsoa else 0
            kinds.append({"kind": k, "label": label, "count": n,
                          "rate_per_1000": _rate(n, residents, len(months))})  # fmt: skip
        area = str(place["area"])
        hot = self.map(dataclasses.replace(f, area=area))["features"]
        hotspot = next(x["properties"]["hotspot"] for x in hot if x["id"] == code)
        parent = self.trend(dataclasses.replace(f, area=area))
        return _clean({
            "code": code, "name": str(place["lsoa_name"]), "level": "lsoa", "filters": f.query(),
            "kind_label": self.kind_labels[f.kind], "parent": {
                "code": area, "name": self.area_names.get(area, area),
                "rate_per_1000": parent["rate_per_1000"]},
            "residents": int(residents), "count": sum(counts),
            "rate_per_1000": _rate(sum(counts), residents, len(months)), "hotspot": hotspot,
            "points": [{"month": m, "count": n} for m, n in zip(months, counts, strict=True)],
            "kinds": kinds, "deprivation": self._deprivation_of([code]),
        })  # fmt: skip

    def _partnership_area(self, code: str, f: Filters) -> dict[str, Any]:
        g = dataclasses.replace(f, area=code)
        trend = self.trend(g)
        inside = self._inside(code)
        totals = self.lsoa_totals(g)[inside]
        codes = self.places.index[inside]
        order = np.argsort(-totals, kind="stable")[:10]
        months = len(trend["points"])
        top = [
            {"lsoa": codes[j], "name": str(self.places.at[codes[j], "lsoa_name"]),
             "count": int(totals[j]), "rate_per_1000": _rate(
                 int(totals[j]), float(self.places.at[codes[j], "residents"]), months)}
            for j in order
        ]  # fmt: skip
        return _clean({
            "code": code, "name": self.area_name(code), "level": "partnership area",
            "filters": g.query(), "kind_label": trend["kind_label"], "parent": None,
            "residents": trend["residents"], "count": trend["count"],
            "rate_per_1000": trend["rate_per_1000"], "hotspot": None,
            "points": [{"month": p["month"], "count": p["count"]} for p in trend["points"]],
            "kinds": trend["by_kind"], "top_lsoas": top,
            "deprivation": self._deprivation_of(codes.tolist()),
        })  # fmt: skip

    def _deprivation_of(self, codes: list[str]) -> dict[str, Any] | None:
        d = self.deprivation.reindex(codes).dropna(subset=["decile"])
        if d.empty:
            return None
        if len(codes) == 1:
            row = d.iloc[0]
            return {"score": float(row["score"]), "rank": int(row["rank"]),
                    "decile": int(row["decile"]), "edition": str(row["edition"])}  # fmt: skip
        deciles = d["decile"].astype(int).value_counts()
        return {
            "edition": str(d["edition"].iloc[0]),
            "lsoas_by_decile": [{"decile": k, "lsoas": int(deciles.get(k, 0))}
                                for k in range(1, 11)],
        }  # fmt: skip

    def _scope(self, f: Filters) -> Scope:
        return Scope(dt.date.fromisoformat(f.start + "-01"), dt.date.fromisoformat(f.end + "-01"),
                     None if f.area == ALL else f.area, self.area_names.get(f.area))  # fmt: skip

    def _measures(self, f: Filters) -> dict[str, Any]:
        """The Home Office success measures for the period and area (the kind does not apply:
        each measure is its own kind). Computed on the warehouse for a new period or area."""
        g = dataclasses.replace(f, kind=ALL)
        if g != f:
            return self.measures(g)
        if f == self.everything:
            return {**self.figures["measures"], "filters": f.query()}
        found = self.read(lambda con: success_measures(con, self.definition, self._scope(f)))
        return {**_clean(found), "filters": f.query()}

    def _quality(self, f: Filters) -> dict[str, Any]:
        """Data quality by partner feed over the period (feeds cover the whole partnership:
        the area and kind do not apply)."""
        g = dataclasses.replace(f, area=ALL, kind=ALL)
        if g != f:
            return self.quality(g)
        if f == self.everything:
            return {**self.figures["quality"], "filters": f.query()}
        return {**_clean(self.read(lambda con: data_quality(con, self._scope(f)))),
                "filters": f.query()}  # fmt: skip

    def _cohorts(self, f: Filters) -> dict[str, Any]:
        """People behind the records (linked across agencies) in the period and area."""
        g = dataclasses.replace(f, kind=ALL)
        if g != f:
            return self.cohorts(g)
        ev = self.events
        if ev is None or ev.empty:
            return {**self.figures["cohorts"], "filters": f.query()}
        first = pd.Timestamp(f.start + "-01")
        stop = pd.Timestamp(f.end + "-01") + pd.offsets.MonthBegin(1)
        lsoas = None if f.area == ALL else set(self.places.index[self._inside(f.area)])
        sel = (ev["date"] >= first) & (ev["date"] < stop)
        if lsoas is not None:
            sel &= ev["lsoa"].isin(lsoas)
        inside = ev[sel]
        return _clean({
            "available": True, "filters": f.query(),
            "people": int(inside["person"].nunique()), "records": int(len(inside)),
            "period": [str(first.date()), str((stop - pd.Timedelta(days=1)).date())],
            "repeats": cohort_figures.repeats(inside),
            "victim_suspects": cohort_figures.victim_suspects(inside),
            "knife_under_25": cohort_figures.knife_pathways(ev, first, stop, lsoas),
            "note": cohort_figures.NOTE.format(lookback=cohort_figures.LOOKBACK_MONTHS),
        })  # fmt: skip

    def public_view(self) -> dict[str, Any]:
        """The public page's figures in plain English, after disclosure control (computed once
        per version: the protection is solved by linear programming)."""
        with self._lock:
            if self._public is None:
                self._public = public_view(self.figures)
            return self._public


def _deprivation(con: Any) -> pd.DataFrame:
    """The latest IMD edition's overall score, rank and decile by LSOA (empty without IMD)."""
    columns = ["edition", "score", "rank", "decile"]
    if "ref_imd" not in con.list_tables():
        return pd.DataFrame(columns=columns)
    t = con.table("ref_imd")
    t = t.filter(t.domain == "imd").to_pandas()
    if t.empty:
        return pd.DataFrame(columns=columns)
    t = t[t["edition"] == t["edition"].max()]
    return t.set_index("lsoa21_code")[columns]


class Dashboards:
    """The snapshot of each warehouse, rebuilt when its version changes (one build at a time;
    requests meanwhile wait for it rather than assessing twice)."""

    def __init__(self, definition: Definition | None = None) -> None:
        self.definition = definition
        self._snapshots: dict[str, Snapshot] = {}
        self._lock = threading.Lock()

    def snapshot(self, key: str, version: Any, read: Reader) -> Snapshot:
        """The snapshot of the warehouse ``key`` at ``version``.

        Args:
            key: names the warehouse (its data folder).
            version: the warehouse's version; a different one rebuilds the snapshot.
            read: runs ``fn(con)`` on the warehouse (under its lock).
        """
        version = str(version)
        with self._lock:
            snap = self._snapshots.get(key)
            if snap is None or snap.version != version:
                snap = read(lambda con: Snapshot.build(con, version, read, self.definition))
                self._snapshots[key] = snap
            return snap


DASHBOARDS = Dashboards()
