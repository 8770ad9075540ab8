"""Where serious violence is expected next month: a forecast for each LSOA of the area, and a
backtest that scores its ranking against what happened, beside honest baselines.

Places only: the forecast expects counts of records in neighbourhoods (LSOAs). It never scores,
ranks or flags a person, and nothing about any person goes into it.

The model is deliberately simple, so that an analyst can explain it to a partnership board: the
expected count in an LSOA is a blend of a recent-weighted average of its monthly counts and its
long-run monthly mean, the blend's three parameters chosen by how well they would have forecast
the months just before the target (see :func:`expected_counts`, :func:`choose_parameters` and
docs/forecast.md). Months from the target onward are never read.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from svduty.analysis.definition import Definition
from svduty.analysis.kinds import classified
from svduty.analysis.scope import Scope, areas, month_label
from svduty.errors import SvdutyError

MIN_HISTORY = 3  # months of data a forecast needs before its month
TUNING_MONTHS = 6  # the months before the target on which the parameters are chosen
HALF_LIVES = (1, 2, 3, 6)
RECENT_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
LONG_RUN_MONTHS = (12, 24)
COVERAGES = (0.01, 0.05, 0.10)

METHODS = {
    "forecast": "the forecast, ranked by expected density (expected count per km²)",
    "forecast_count": "the forecast, ranked by expected count",
    "last_month": "last month's count",
    "last_12_months": "the last 12 months' count",
    "last_12_months_density": "the last 12 months' count per km²",
    "perfect_foresight": "the month's actual count per km² (a ceiling, unknowable in advance)",
}

FORECAST_NOTE = (
    "Expected count of serious violence records (all kinds, all sources, each record once) in "
    "each LSOA in the month: a blend of a recent-weighted average and the long-run mean of its "
    "past monthly counts, parameters chosen on earlier months. No seasonal or area-wide trend "
    "term. ED attendances are placed at the patient's home LSOA. Places only, never people."
)
BACKTEST_NOTE = (
    "Each month is forecast from the months before it only. Selected areas: the top-ranked "
    "LSOAs, taken while their land area stays within the coverage (the LSOA that would cross it "
    "is left out, the top LSOA always counts); PAI and PEI use the actual area share. PAI = "
    "share of crimes captured / share of area (Chainey, Tompson & Uhlig 2008); PEI = crimes "
    "captured / crimes perfect foresight captures in the same area (Hunt 2016)."
)

NO_RECORDS = (
    "there are no serious violence records to forecast from: load data first (svduty ingest ...)"
)


class NotEnoughHistory(ValueError, SvdutyError):
    """The month asked for cannot be forecast from the data loaded."""


@dataclass(frozen=True)
class Parameters:
    """The forecast's parameters.

    Attributes:
        half_life: months after which a month's weight in the recent average halves.
        recent_weight: the recent average's share of the blend (the rest is the long-run mean).
        long_run_months: the months (at most) of the long-run mean.
    """

    half_life: float
    recent_weight: float
    long_run_months: int


DEFAULT_PARAMETERS = Parameters(half_life=3, recent_weight=0.5, long_run_months=12)
GRID = tuple(
    Parameters(h, w, n)
    for h, w, n in itertools.product(HALF_LIVES, RECENT_WEIGHTS, LONG_RUN_MONTHS)
)


def expected_counts(history: np.ndarray, parameters: Parameters) -> np.ndarray:
    """Each area's expected count next month, from its past monthly counts.

    ``w * recent + (1 - w) * long_run``, where ``recent`` is the average of all past months
    with weights halving every ``half_life`` months back (an exponentially weighted mean) and
    ``long_run`` the plain mean of the last ``long_run_months`` (fewer if fewer are known).

    Args:
        history: counts, one row per area, one column per month, oldest first.
        parameters: half-life, recent weight and long-run window.

    Returns:
        One expected count per area (>= 0 when the counts are).

    Examples:
        >>> p = Parameters(half_life=1, recent_weight=0.5, long_run_months=12)
        >>> expected_counts(np.array([[2, 2, 2, 2], [0, 0, 0, 15]]), p).round(3).tolist()
        [2.0, 5.875]
    """
    months = history.shape[1]
    weights = 0.5 ** (np.arange(months - 1, -1, -1) / parameters.half_life)
    recent = history @ weights / weights.sum()
    long_run = history[:, -parameters.long_run_months :].mean(axis=1)
    return parameters.recent_weight * recent + (1 - parameters.recent_weight) * long_run


def choose_parameters(history: np.ndarray) -> tuple[Parameters, list[int]]:
    """The parameters that would have forecast the last months of ``history`` best.

    Each of the last :data:`TUNING_MONTHS` months that has :data:`MIN_HISTORY` months before
    it is forecast from the months before it, with every parameter set of :data:`GRID`; the set
    with the least mean squared error over areas and months wins (the first in the grid on a
    tie). With no such month, :data:`DEFAULT_PARAMETERS`.

    Returns:
        The parameters and the indices (columns of ``history``) they were chosen on.

    Examples:
        >>> steady = np.tile([[1.0], [9.0]], 12)
        >>> steady[1, -3:] = 30  # a place that has just heated up
        >>> choose_parameters(steady)[0].recent_weight
        1.0
    """
    months = history.shape[1]
    tuning = list(range(max(MIN_HISTORY, months - TUNING_MONTHS), months))
    if not tuning:
        return DEFAULT_PARAMETERS, []

    def error(p: Parameters) -> float:
        return float(
            sum(np.sum((expected_counts(history[:, :v], p) - history[:, v]) ** 2) for v in tuning)
        )

    return min(GRID, key=error), tuning


def select_areas(key: np.ndarray, area: np.ndarray, coverage: float) -> np.ndarray:
    """The indices of the top-ranked areas (highest ``key`` first, ties by index), taken while
    their total area stays within ``coverage`` of the whole; the first always counts.

    Examples:
        >>> select_areas(np.array([0, 3, 2, 0]), np.array([1, 1, 2, 4]), 0.25).tolist()
        [1]
        >>> select_areas(np.array([0, 3, 2, 0]), np.array([1, 1, 2, 4]), 0.5).tolist()
        [1, 2, 0]
    """
    order = np.lexsort((np.arange(len(key)), -np.asarray(key, dtype=float)))
    share = np.cumsum(area[order]) / area.sum()
    taken = max(1, int(np.count_nonzero(share <= coverage * (1 + 1e-9))))
    return order[:taken]


def foresight_capture(actual: np.ndarray, area: np.ndarray, budget: float) -> float:
    """The most crimes any choice of areas within ``budget`` (km²) could capture: areas by
    actual density, the one that crosses the budget counted pro rata (so it is an upper bound).

    Examples:
        >>> foresight_capture(np.array([5, 3, 2, 0]), np.array([1, 1, 2, 4]), 3.0)
        9.0
    """
    density = actual / area
    order = np.lexsort((np.arange(len(actual)), -density))
    filled = np.cumsum(area[order])
    whole = int(np.count_nonzero(filled <= budget))
    got = float(actual[order[:whole]].sum())
    if whole < len(order):
        left = budget - (filled[whole - 1] if whole else 0.0)
        got += float(actual[order[whole]]) * max(0.0, float(left)) / float(area[order[whole]])
    return got


def capture(key: np.ndarray, actual: np.ndarray, area: np.ndarray, coverage: float) -> dict:
    """How well a ranking by ``key`` captures the ``actual`` counts within ``coverage`` of the
    area: shares of crimes and area, PAI and PEI.

    Returns:
        ``{"crimes_share", "area_share", "pai", "pei", "count", "lsoas"}``: ``count`` crimes
        captured in ``lsoas`` areas; PAI and PEI ``None`` when nothing happened.

    Notes:
        PAI, the Predictive Accuracy Index: share of crimes captured / share of area (Chainey,
        S., Tompson, L. & Uhlig, S. (2008) The utility of hotspot mapping for predicting
        spatial patterns of crime. Security Journal 21, 4-28). PEI, the Predictive Efficiency
        Index: crimes captured / the most crimes the same area could capture (Hunt, J. M.
        (2016) Do crime hot spots move? PhD thesis, American University; see White, Hunt &
        Green (2023), Security Journal, for its variants). Perfect foresight fills the same
        area by actual density, counting the LSOA that crosses it pro rata, so 0 <= PEI <= 1.

    Examples:
        >>> area = np.array([1, 1, 2, 4])
        >>> r = capture(np.array([0, 3, 2, 0]), np.array([5, 3, 2, 0]), area, 0.25)
        >>> {k: round(v, 3) for k, v in r.items()}
        {'crimes_share': 0.3, 'area_share': 0.125, 'pai': 2.4, 'pei': 0.6, 'count': 3, 'lsoas': 1}
    """
    chosen = select_areas(key, area, coverage)
    total = float(actual.sum())
    captured = float(actual[chosen].sum())
    area_share = float(area[chosen].sum() / area.sum())
    best = foresight_capture(actual, area, float(area[chosen].sum()))
    return {
        "crimes_share": captured / total if total else None,
        "area_share": area_share,
        "pai": captured / total / area_share if total else None,
        "pei": min(1.0, captured / best) if best else None,
        "count": int(round(captured)),
        "lsoas": len(chosen),
    }


@dataclass(frozen=True)
class LsoaMonths:
    """Serious violence records by reference LSOA (rows, in code order) and month (columns,
    every month from the first to the last with records, zero where none)."""

    lsoas: list[str]
    names: list[str]
    area_km2: np.ndarray
    months: list[pd.Period]
    counts: np.ndarray

    def target(self, month: dt.date | None) -> int:
        """The column index of ``month`` (default: the month after the data end), checked to
        have at least :data:`MIN_HISTORY` months before it and to be no later than that."""
        if not self.months:
            raise NotEnoughHistory(NO_RECORDS)
        first, last = self.months[0], self.months[-1]
        wanted = last + 1 if month is None else pd.Period(month, freq="M")
        if wanted > last + 1:
            raise NotEnoughHistory(
                f"cannot forecast {wanted}: the data end in {last}, so the latest month that "
                f"can be forecast is {last + 1}"
            )
        index = (wanted - first).n
        if index < MIN_HISTORY:
            raise NotEnoughHistory(
                f"cannot forecast {wanted}: it has {max(index, 0)} month(s) of data before it "
                f"(from {first}) and a forecast needs {MIN_HISTORY}; the earliest is "
                f"{first + MIN_HISTORY}"
            )
        return index


def lsoa_months(con: Any, definition: Definition, scope: Scope | None = None) -> LsoaMonths:
    """Distinct serious violence records (kind ``all``, every source) per reference LSOA of the
    scope's area and month, counted by the engine in one query."""
    scope = scope or Scope()
    c = scope.months(classified(con, definition))
    records = c.select("source", "record", "month", "lsoa").distinct()
    rows = records.group_by(["lsoa", "month"]).aggregate(count=records.count()).to_pandas()
    if rows.empty:
        return LsoaMonths([], [], np.zeros(0), [], np.zeros((0, 0)))
    if not con.table("ref_lsoa").count().execute():
        raise NotEnoughHistory("no reference LSOAs are loaded: run svduty reference load DIR")
    geo = areas(con, scope)
    rows["month"] = pd.PeriodIndex(rows["month"].map(month_label), freq="M")
    months = list(pd.period_range(rows["month"].min(), rows["month"].max(), freq="M"))
    grid = (
        rows.dropna(subset=["lsoa"])
        .pivot_table(index="lsoa", columns="month", values="count", aggfunc="sum", fill_value=0)
        .reindex(index=geo["lsoa21_code"], columns=months, fill_value=0)
    )
    return LsoaMonths(
        lsoas=list(geo["lsoa21_code"]),
        names=list(geo["lsoa21_name"].fillna("")),
        area_km2=geo["area_km2"].to_numpy(dtype=float),
        months=months,
        counts=grid.to_numpy(dtype=float),
    )


def _check_areas(data: LsoaMonths) -> None:
    if not data.months:
        raise NotEnoughHistory(NO_RECORDS)
    if not data.lsoas:
        raise NotEnoughHistory("the area has no reference LSOAs (ref_lsoa)")
    if not np.all(np.isfinite(data.area_km2) & (data.area_km2 > 0)):
        raise NotEnoughHistory("some reference LSOAs have no land area (ref_lsoa.area_km2)")


def forecast_details(
    con: Any, definition: Definition, month: dt.date | None = None, scope: Scope | None = None
) -> dict[str, Any]:
    """The forecast for one month, with what it was made from.

    Args:
        con: the warehouse (an Ibis backend).
        definition: the local definition of serious violence.
        month: the month to forecast (its first day); default: the month after the last month
            with serious violence records. Only months before it are used.
        scope: the area (and any limit on the months of data used); default: everything.

    Returns:
        ``{"month", "definition_version", "area", "area_name", "method", "parameters",
        "history": {"first", "last", "months"}, "lsoas": [{"lsoa", "lsoa_name", "score",
        "density", "area_km2", "last_month", "last_12_months"}], "note"}``. ``lsoas`` holds
        every reference LSOA of the area, highest expected count (``score``) first, ties by
        code; ``density`` is the score per km². ``parameters`` adds ``chosen_on`` (months).

    Raises:
        NotEnoughHistory: the month is after the month after the data end, or has fewer than
            :data:`MIN_HISTORY` months of data before it.

    Examples:
        >>> from svduty.config import Settings
        >>> from svduty.warehouse import connect
        >>> import tempfile
        >>> from svduty.analysis.definition import load_definition
        >>> con = connect(Settings(data_dir=tempfile.mkdtemp()))
        >>> forecast_details(con, load_definition())
        Traceback (most recent call last):
        ...
        svduty.analysis.forecast.NotEnoughHistory: there are no serious violence records ...
    """
    scope = (scope or Scope()).resolve(con)
    data = lsoa_months(con, definition, scope)
    t = data.target(month)
    _check_areas(data)
    history = data.counts[:, :t]
    parameters, tuned_on = choose_parameters(history)
    score = np.round(expected_counts(history, parameters), 6)
    order = np.lexsort((np.arange(len(score)), -score))
    return {
        "month": str(data.months[0] + t),
        "definition_version": definition.version,
        "area": scope.area,
        "area_name": scope.area_name,
        "method": "blend of a recent-weighted average and the long-run mean of monthly counts",
        "parameters": {
            **asdict(parameters),
            "chosen_on": [str(data.months[v]) for v in tuned_on],
        },
        "history": {"first": str(data.months[0]), "last": str(data.months[t - 1]), "months": t},
        "lsoas": [
            {
                "lsoa": data.lsoas[i],
                "lsoa_name": data.names[i],
                "score": float(score[i]),
                "density": float(score[i] / data.area_km2[i]),
                "area_km2": float(data.area_km2[i]),
                "last_month": int(history[i, -1]),
                "last_12_months": int(history[i, -12:].sum()),
            }
            for i in order
        ],
        "note": FORECAST_NOTE,
    }


def forecast(
    con: Any, definition: Definition, month: dt.date | None = None, scope: Scope | None = None
) -> list[dict[str, Any]]:
    """Expected serious violence in each LSOA of the area in ``month``: ``[{"lsoa", "score"}]``
    for every reference LSOA, highest first (ties by code).

    ``score`` is the expected count of records (kind ``all``), not a density; rank by
    ``score / area_km2`` to target by area (see :func:`backtest`). Places only, never people.
    Arguments as :func:`forecast_details`.
    """
    details = forecast_details(con, definition, month, scope)
    return [{"lsoa": r["lsoa"], "score": r["score"]} for r in details["lsoas"]]


def _keys(history: np.ndarray, actual: np.ndarray, area: np.ndarray) -> dict[str, Any]:
    parameters, _ = choose_parameters(history)
    expected = expected_counts(history, parameters)
    last_year = history[:, -12:].sum(axis=1)
    keys = {
        "forecast": expected / area,
        "forecast_count": expected,
        "last_month": history[:, -1],
        "last_12_months": last_year,
        "last_12_months_density": last_year / area,
        "perfect_foresight": actual / area,
    }
    return {"keys": keys, "parameters": asdict(parameters)}


def backtest(
    con: Any, definition: Definition, months: int = 6, scope: Scope | None = None
) -> dict[str, Any]:
    """Forecast each of the last ``months`` months from the months before it, and score the
    rankings against what happened, beside baselines scored the same way.

    Every method ranks the LSOAs and is scored at each coverage of :data:`COVERAGES` by
    :func:`capture`. The forecast is ranked by expected density, because PAI rewards crimes per
    unit of area (``forecast_count`` shows what ranking by expected count would do). At LSOA
    level, last year's density is already close to perfect foresight: it is the baseline to
    beat.

    Args:
        con: the warehouse (an Ibis backend).
        definition: the local definition of serious violence.
        months: how many of the last months to test (those with :data:`MIN_HISTORY` months
            of data before them).
        scope: the area and months of data (``end`` ends the backtest); default: everything.

    Returns:
        ``{"months": ["YYYY-MM", ...], "definition_version", "area", "area_name", "methods":
        {name: description}, "summary": [{"method", "coverage", "pai", "pei", "crimes_share",
        "area_share", "months"}], "by_month": [{"month", "method", "coverage", "pai", "pei",
        "crimes_share", "area_share", "count", "total", "lsoas"}], "parameters": [{"month",
        "half_life", "recent_weight", "long_run_months"}], "note"}``. ``summary`` averages the
        months (``months``: how many had crimes); ``count`` is crimes captured of ``total``.

    Notes:
        Chainey, S., Tompson, L. & Uhlig, S. (2008) The utility of hotspot mapping for
        predicting spatial patterns of crime. Security Journal 21, 4-28 (PAI). Hunt, J. M.
        (2016) Do crime hot spots move? Exploring the effects of the modifiable areal unit
        problem and modifiable temporal unit problem on crime hot spot stability. PhD thesis,
        American University (PEI).
    """
    scope = (scope or Scope()).resolve(con)
    data = lsoa_months(con, definition, scope)
    _check_areas(data)
    tested = list(range(MIN_HISTORY, len(data.months)))[-months:] if months > 0 else []
    if not tested:
        raise NotEnoughHistory(
            f"a backtest needs a month with {MIN_HISTORY} months of data before it; "
            f"the data cover {len(data.months)} month(s)"
        )
    by_month: list[dict[str, Any]] = []
    parameters = []
    for t in tested:
        actual = data.counts[:, t]
        ranked = _keys(data.counts[:, :t], actual, data.area_km2)
        label = str(data.months[t])
        parameters.append({"month": label, **ranked["parameters"]})
        for method, key in ranked["keys"].items():
            for coverage in COVERAGES:
                r = capture(key, actual, data.area_km2, coverage)
                by_month.append(
                    {"month": label, "method": method, "coverage": coverage, **r,
                     "total": int(actual.sum())}
                )  # fmt: skip
    frame = pd.DataFrame(by_month).dropna(subset=["pai"])
    summary = []
    for (method, coverage), rows in frame.groupby(["method", "coverage"], sort=False):
        summary.append(
            {
                "method": method,
                "coverage": float(coverage),
                **{k: float(rows[k].mean()) for k in ("pai", "pei", "crimes_share", "area_share")},
                "months": len(rows),
            }
        )
    return {
        "months": [str(data.months[t]) for t in tested],
        "definition_version": definition.version,
        "area": scope.area,
        "area_name": scope.area_name,
        "methods": dict(METHODS),
        "summary": summary,
        "by_month": by_month,
        "parameters": parameters,
        "note": BACKTEST_NOTE,
    }
