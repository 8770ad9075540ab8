"""Area evaluation: did violence fall in the area an intervention served, against untreated areas?

Two estimators answer the same question on a panel of counts per area and month, and both report
a *relative* change (-0.2 is a 20% fall) with a confidence interval:

- **Difference-in-differences** (:func:`did`): a Poisson regression of area-month counts with
  area and month fixed effects and a treated-after-start indicator; its event-study form
  (:func:`event_study`) estimates the gap month by month, before and after the start.
- **Synthetic control** (:func:`synthetic_control`): a weighted mix of untreated areas that
  tracks the treated area before the start stands for what would have happened after it.

:func:`placebos` runs both on fake interventions (untreated areas, other start months) to measure
how often they find an effect where none was planted, and :func:`evaluate_area` puts it all
together and says when the data cannot support a conclusion. The statistics work on a plain
pandas panel (``csp24_code, month, crimes``), so they need no warehouse. The methods, their
assumptions and their limits are described in ``docs/evaluation.md``.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import optimize, stats
from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

from svduty.errors import SvdutyError

AREA = "csp24_code"
MIN_PRE = 6
MIN_POST = 3
MIN_EVENTS = 20
MAX_FIT_RATIO = 2.0


class EvaluationError(ValueError, SvdutyError):
    """An evaluation was asked of areas or months the panel does not have."""


@dataclass(frozen=True)
class Units:
    """A panel as a months x units matrix: column 0 the treated unit, the rest the donors."""

    y: np.ndarray
    names: list[str]
    months: list[str]
    start: int

    @property
    def pre(self) -> int:
        return self.start

    @property
    def post(self) -> int:
        return len(self.months) - self.start


def _month(value: Any) -> pd.Period:
    return pd.Period(pd.Timestamp(value), freq="M")


def _units(
    panel: pd.DataFrame,
    treated: list[str],
    start: Any,
    outcome: str = "crimes",
    donors: list[str] | None = None,
) -> Units:
    """The panel pivoted to months x units, the treated areas summed into one unit."""
    if not treated:
        raise EvaluationError("no treated area given: name at least one partnership area")
    frame = panel.assign(_m=pd.to_datetime(panel["month"]).dt.to_period("M"))
    wide = frame.pivot_table(index="_m", columns=AREA, values=outcome, aggfunc="sum").sort_index()
    wide = wide.reindex(pd.period_range(wide.index.min(), wide.index.max(), freq="M"))
    wide = wide.fillna(0.0)
    missing = [a for a in treated if a not in wide.columns]
    if missing:
        raise EvaluationError(
            f"area(s) {', '.join(missing)} not in the panel, which has {', '.join(wide.columns)}"
        )
    pool = [a for a in wide.columns if a not in treated] if donors is None else donors
    y = np.column_stack([wide[treated].sum(axis=1).to_numpy()] + [wide[a] for a in pool])
    first = _month(start)
    months = [str(m) for m in wide.index]
    k = int(np.searchsorted(wide.index.to_numpy(), first))
    return Units(y.astype(float).reshape(len(months), -1), ["+".join(treated), *pool], months, k)


def _interval(log_est: float, se: float, crit: float) -> dict[str, float]:
    return {
        "estimate": math.expm1(log_est),
        "ci_low": math.expm1(log_est - crit * se),
        "ci_high": math.expm1(log_est + crit * se),
    }


def _significant(result: dict[str, Any]) -> bool:
    low, high = result.get("ci_low"), result.get("ci_high")
    return low is not None and high is not None and (low > 0 or high < 0)


def _design(u: Units) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Counts and fixed-effect dummies of the long panel, dropping all-zero areas and months."""
    keep_t = u.y.sum(axis=1) > 0
    keep_j = u.y.sum(axis=0) > 0
    keep_j[0] = True
    y = u.y[np.ix_(keep_t, keep_j)]
    n_t, n_j = y.shape
    t_idx = np.repeat(np.flatnonzero(keep_t), n_j)
    j_idx = np.tile(np.arange(n_j), n_t)
    unit = (j_idx[:, None] == np.arange(1, n_j)[None, :]).astype(float)
    times = np.flatnonzero(keep_t)
    month = (t_idx[:, None] == times[None, 1:]).astype(float)
    base = np.column_stack([np.ones(len(t_idx)), unit, month])
    return y.ravel(), base, t_idx, j_idx


def _fit(counts: np.ndarray, x: np.ndarray) -> Any:
    """A quasi-Poisson fit: Poisson estimates, variance scaled by max(1, Pearson chi2 / df)."""
    with warnings.catch_warnings():
        # An exact fit (noise-free data) trips statsmodels' separation check; zero counts,
        # the real cause of separation, are refused earlier by the minimum-events check.
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        fit = sm.GLM(counts, x, family=sm.families.Poisson()).fit()
    df = max(len(counts) - x.shape[1], 1)
    scale = max(1.0, float(fit.pearson_chi2) / df)
    return fit, scale


def _did_fit(u: Units) -> tuple[float, float, float]:
    """The treated-after coefficient of the two-way fixed-effects Poisson model, its
    quasi-Poisson standard error and the dispersion."""
    counts, base, t_idx, j_idx = _design(u)
    treated = ((j_idx == 0) & (t_idx >= u.start)).astype(float)
    fit, scale = _fit(counts, np.column_stack([base, treated]))
    return float(fit.params[-1]), float(fit.bse[-1]) * math.sqrt(scale), scale


def _area_shocks(u: Units) -> tuple[float, int]:
    """The variance of area-level shifts that the count model does not see, estimated from the
    comparison areas: each in turn as if it were treated at the same month, against the others
    (the treated unit left out). Under no effect, each such estimate's square is its sampling
    variance plus the shift variance; their average excess is the estimate (method of moments,
    as DerSimonian and Laird estimate between-study variance), never below 0. Returns the
    variance and the number of comparison areas it came from."""
    donors = u.y.shape[1] - 1
    if donors < 3:
        return 0.0, 0
    excess = []
    for j in range(1, donors + 1):
        cols = [j] + [i for i in range(1, donors + 1) if i != j]
        sub = Units(u.y[:, cols], [u.names[i] for i in cols], u.months, u.start)
        if sub.y[: u.start, 0].sum() <= 0 or sub.y[u.start :, 0].sum() <= 0:
            continue
        beta, se, _ = _did_fit(sub)
        excess.append(beta**2 - se**2)
    if len(excess) < 2:
        return 0.0, 0
    return max(0.0, float(np.mean(excess))), len(excess)


def _did(u: Units, alpha: float) -> dict[str, Any]:
    beta, se_model, scale = _did_fit(u)
    tau2, k = _area_shocks(u)
    se = math.sqrt(se_model**2 + tau2)
    if tau2 > 0:
        # Satterthwaite: the shift variance comes from k areas, so k - 1 degrees of freedom.
        df = (k - 1) * (se**2 / tau2) ** 2
        crit = float(stats.t.ppf(1 - alpha / 2, df))
        p = float(2 * stats.t.sf(abs(beta / se), df))
    else:
        df = math.inf
        crit = float(stats.norm.ppf(1 - alpha / 2))
        p = float(2 * stats.norm.sf(abs(beta / se)))
    out = _interval(beta, se, crit)
    return {
        **out,
        "log_estimate": beta,
        "se_log": se,
        "se_log_model": se_model,
        "area_shift_variance": tau2,
        "degrees_of_freedom": None if math.isinf(df) else round(df, 1),
        "p_value": p,
        "dispersion": scale,
    }


def did(
    panel: pd.DataFrame,
    treated: list[str],
    start: dt.date,
    *,
    alpha: float = 0.05,
    outcome: str = "crimes",
) -> dict[str, Any]:
    """Difference-in-differences of counts: the relative change in the treated area(s) after
    ``start``, beyond the change in the other areas.

    A Poisson regression of each area-month count on area fixed effects, month fixed effects and
    an indicator of the treated unit after the start; the relative change is ``exp(beta) - 1``.
    Several treated areas are summed into one unit. Counts are usually overdispersed, so the
    standard error is scaled by the quasi-Poisson dispersion (Pearson chi-squared over residual
    degrees of freedom, never below 1). Areas also shift on their own (a new hotspot), which a
    single treated area cannot tell from an effect, so the variance of such shifts among the
    comparison areas (each as if treated at the same month; :func:`_area_shocks`) is added, and
    the interval is ``exp(beta -/+ t * se) - 1`` with Satterthwaite's degrees of freedom.

    Args:
        panel: One row per area and month: ``csp24_code``, ``month`` and the ``outcome`` column.
        treated: The treated areas' codes.
        start: The first month of the intervention.
        alpha: One minus the confidence level.
        outcome: The column of counts.

    Returns:
        ``estimate``, ``ci_low``, ``ci_high`` (relative changes), ``log_estimate``, ``se_log``
        (``se_log_model`` without the area shifts), ``area_shift_variance``,
        ``degrees_of_freedom`` (None for the normal), ``p_value`` and ``dispersion``.

    Notes:
        With fixed effects for areas and months this is the two-way fixed-effects estimator;
        with one treated unit and one start month it is not exposed to the heterogeneous-timing
        bias of staggered designs (Goodman-Bacon 2021; Callaway & Sant'Anna 2021). The Poisson
        form (Wooldridge 2023) compares ratios, so areas of different sizes need no rescaling.

    Examples:
        >>> panel = _example_panel(effect=-0.2)
        >>> round(did(panel, ["A"], dt.date(2024, 7, 1))["estimate"], 6)
        -0.2
    """
    return _did(_units(panel, treated, start, outcome), alpha)


def _event_study(
    u: Units, alpha: float, max_lead: int, max_lag: int
) -> tuple[list[dict[str, Any]], float | None]:
    counts, base, t_idx, j_idx = _design(u)
    lo = -min(u.start, max_lead)
    hi = min(u.post - 1, max_lag)
    rel = np.clip(t_idx - u.start, lo, hi)
    ks = [k for k in range(lo, hi + 1) if k != -1]
    dummies = np.column_stack([((j_idx == 0) & (rel == k)).astype(float) for k in ks])
    fit, scale = _fit(counts, np.column_stack([base, dummies]))
    n = len(ks)
    beta = np.asarray(fit.params[-n:], dtype=float)
    cov = np.asarray(fit.cov_params(), dtype=float)[-n:, -n:] * scale
    z = float(stats.norm.ppf(1 - alpha / 2))
    first = -u.start
    last = u.post - 1
    rows = [{"relative_month": -1, "estimate": 0.0, "ci_low": 0.0, "ci_high": 0.0}]
    for i, k in enumerate(ks):
        row = _interval(float(beta[i]), math.sqrt(cov[i, i]), z)
        binned = (k == lo and first < lo) or (k == hi and last > hi)
        rows.append({"relative_month": k, **row, "binned": binned})
    rows[0]["binned"] = False
    rows.sort(key=lambda r: r["relative_month"])
    leads = [i for i, k in enumerate(ks) if k < -1]
    p = None
    if leads:
        b, v = beta[leads], cov[np.ix_(leads, leads)]
        wald = float(b @ np.linalg.pinv(v) @ b)
        p = float(stats.chi2.sf(wald, len(leads)))
    return rows, p


def event_study(
    panel: pd.DataFrame,
    treated: list[str],
    start: dt.date,
    *,
    alpha: float = 0.05,
    outcome: str = "crimes",
    max_lead: int = 12,
    max_lag: int = 12,
) -> dict[str, Any]:
    """The difference-in-differences month by month: the treated unit's gap relative to the
    month before the start.

    The same quasi-Poisson model as :func:`did`, with one indicator per month relative to the
    start (month -1, the last before the start, is the reference) instead of a single
    after-start indicator. Months further than ``max_lead`` before or ``max_lag`` after the start
    are binned into the end indicators. Leads (months before the start) near zero support the
    parallel-trends assumption; their joint Wald test is ``pre_trend_p_value``.

    Returns:
        ``coefficients``: one row per relative month (``relative_month``, ``estimate``,
        ``ci_low``, ``ci_high``, ``binned``; the reference month has 0), and
        ``pre_trend_p_value`` (None without leads).

    Notes:
        Roth, Sant'Anna, Bilinski & Poe (2023), "What's trending in difference-in-differences?",
        Journal of Econometrics 235(2); a pre-trend test that does not reject is weak evidence
        of parallel trends when it has little power (Roth 2022).

    Examples:
        >>> es = event_study(_example_panel(effect=-0.2), ["A"], dt.date(2024, 7, 1))
        >>> [round(r["estimate"], 6) for r in es["coefficients"]][-2:]
        [-0.2, -0.2]
    """
    rows, p = _event_study(_units(panel, treated, start, outcome), alpha, max_lead, max_lag)
    return {"coefficients": rows, "pre_trend_p_value": p}


def _weights(target: np.ndarray, donors: np.ndarray) -> np.ndarray:
    """Non-negative weights summing to 1 that best reproduce ``target`` from ``donors``' columns
    (least squares; the sum is enforced by a heavily weighted extra row, then exact)."""
    penalty = 1e3 * max(1.0, float(np.abs(donors).max()))
    a = np.vstack([donors, np.full((1, donors.shape[1]), penalty)])
    b = np.append(target, penalty)
    w, _ = optimize.nnls(a, b)
    total = w.sum()
    return w / total if total > 0 else np.full(donors.shape[1], 1 / donors.shape[1])


def _synth_core(u: Units) -> dict[str, Any]:
    """Weights, synthetic series and fit of the treated unit, each series over its pre mean."""
    means = u.y[: u.start].mean(axis=0)
    means = np.where(means > 0, means, 1.0)
    norm = u.y / means
    w = _weights(norm[: u.start, 0], norm[: u.start, 1:])
    synth = (norm[:, 1:] @ w) * means[0]
    rel_gap = norm[:, 0] - norm[:, 1:] @ w
    pre_rmspe = float(np.sqrt(np.mean(rel_gap[: u.start] ** 2)))
    post_rmspe = float(np.sqrt(np.mean(rel_gap[u.start :] ** 2))) if u.post else math.nan
    return {
        "w": w,
        "synth": synth,
        "means": means,
        "pre_rmspe": pre_rmspe,
        "post_rmspe": post_rmspe,
    }


def _synth(u: Units, alpha: float, max_fit_ratio: float = MAX_FIT_RATIO) -> dict[str, Any]:
    core = _synth_core(u)
    w, synth, means = core["w"], core["synth"], core["means"]
    actual = u.y[:, 0]
    pre, post = slice(0, u.start), slice(u.start, None)
    log_est = math.log(max(actual[post].sum(), 0.5) / max(synth[post].sum(), 0.5))
    gaps = np.log((actual + 0.5) / (synth + 0.5))
    used = int((w > 1e-6).sum())
    df = max(u.pre - used, 1)
    resid_sd = float(np.sqrt(np.sum((gaps[pre] - gaps[pre].mean()) ** 2) / df))
    poisson_sd = math.sqrt(1 / means[0] + float(np.sum(w**2 / means[1:])))
    sd = max(resid_sd, poisson_sd)
    se = sd * math.sqrt(1 / u.post + 1 / u.pre)
    crit = float(stats.t.ppf(1 - alpha / 2, df))
    fit_ratio = core["pre_rmspe"] / poisson_sd
    supported = fit_ratio <= max_fit_ratio
    return {
        **_interval(log_est, se, crit),
        "log_estimate": log_est,
        "se_log": se,
        "df": df,
        "weights": {name: float(x) for name, x in zip(u.names[1:], w, strict=True)},
        "pre_rmspe": core["pre_rmspe"],
        "pre_rmspe_crimes": float(np.sqrt(np.mean((actual[pre] - synth[pre]) ** 2))),
        "post_rmspe": core["post_rmspe"],
        "rmspe_ratio": core["post_rmspe"] / core["pre_rmspe"] if core["pre_rmspe"] else None,
        "noise_sd": poisson_sd,
        "fit_ratio": fit_ratio,
        "supported": bool(supported),
        "series": [
            {"month": m, "actual": float(a), "synthetic": float(s)}
            for m, a, s in zip(u.months, actual, synth, strict=True)
        ],
    }


def _rank_p(u: Units) -> float:
    """Abadie's in-space placebo p-value: the treated unit's rank among all units by the ratio
    of post- to pre-period RMSPE, each unit in turn treated with the others as donors."""
    ratios = []
    for j in range(u.y.shape[1]):
        order = [j] + [i for i in range(1, u.y.shape[1]) if i != j]
        core = _synth_core(Units(u.y[:, order], [], u.months, u.start))
        ratios.append(core["post_rmspe"] / max(core["pre_rmspe"], 1e-12))
    return float(np.mean(np.array(ratios) >= ratios[0] - 1e-12))


def synthetic_control(
    panel: pd.DataFrame,
    treated: list[str],
    start: dt.date,
    *,
    alpha: float = 0.05,
    outcome: str = "crimes",
    max_fit_ratio: float = MAX_FIT_RATIO,
) -> dict[str, Any]:
    """Synthetic control: the treated unit against a weighted mix of untreated areas.

    Each series is divided by its own mean before the start, so areas of any size can be
    donors; non-negative weights summing to 1 minimise the squared pre-period gap (solved by
    non-negative least squares, deterministic). The synthetic series, in the treated unit's
    counts, is the weighted mix times the treated pre-period mean, so the two agree on the
    pre-period total by construction. The estimate is ``sum(actual after) /
    sum(synthetic after) - 1``.

    The interval treats the monthly log gaps ``log(actual / synthetic)`` before the start as a
    sample of what the gap does without an intervention: the post-period mean gap is compared
    with the pre-period level using their standard deviation ``sd``, ``se = sd * sqrt(1/T_post
    + 1/T_pre)``, on a t distribution with ``T_pre`` minus the number of donors used degrees
    of freedom. ``sd`` is never taken below what Poisson noise alone would give (the treated
    and weighted donor monthly means), so a pre-period fitted closely by chance does not make
    the interval too narrow. Serial correlation of the gaps is not modelled.

    Args:
        panel: One row per area and month: ``csp24_code``, ``month`` and the ``outcome`` column.
        treated: The treated areas' codes (summed into one unit).
        start: The first month of the intervention.
        alpha: One minus the confidence level.
        outcome: The column of counts.
        max_fit_ratio: The pre-period fit is called too poor (``supported`` false) when its
            RMSPE exceeds this multiple of the Poisson noise expected of the monthly gaps.

    Returns:
        ``estimate``, ``ci_low``, ``ci_high`` (relative changes), ``weights`` (donor code to
        weight), ``pre_rmspe`` (relative to the pre-period mean), ``pre_rmspe_crimes``,
        ``post_rmspe``, ``rmspe_ratio``, ``noise_sd``, ``fit_ratio``, ``supported``,
        ``placebo_rank_p_value`` (Abadie's in-space rank) and ``series`` (actual and synthetic
        counts by month).

    Notes:
        Abadie, Diamond & Hainmueller (2010), "Synthetic control methods for comparative case
        studies", JASA 105(490); normalising by the pre-period mean follows the demeaned and
        rescaled variants of Doudchenko & Imbens (2016) and Ferman & Pinto (2021).

    Examples:
        >>> sc = synthetic_control(_example_panel(effect=-0.2), ["A"], dt.date(2024, 7, 1))
        >>> round(sc["estimate"], 6), sc["supported"]
        (-0.2, True)
    """
    u = _units(panel, treated, start, outcome)
    out = _synth(u, alpha, max_fit_ratio)
    out["placebo_rank_p_value"] = _rank_p(u)
    return out


def _checks(
    u: Units, min_pre: int, min_post: int, min_events: int
) -> tuple[list[str], dict[str, Any]]:
    """What stops the data supporting a conclusion, and the context figures."""
    before = float(u.y[: u.start, 0].sum())
    after = float(u.y[u.start :, 0].sum())
    context = {
        "months_before": u.pre,
        "months_after": u.post,
        "events_before": int(before) if before.is_integer() else before,
        "events_after": int(after) if after.is_integer() else after,
    }
    reasons = []
    if u.pre < min_pre:
        reasons.append(
            f"only {u.pre} month(s) of data before the start; at least {min_pre} are needed to "
            "learn how the areas move together"
        )
    if u.post < min_post:
        reasons.append(
            f"only {u.post} month(s) of data from the start; at least {min_post} are needed"
        )
    if u.pre and before < min_events:
        reasons.append(
            f"only {before:.0f} event(s) in the treated area(s) before the start; at least "
            f"{min_events} are needed for a change to be told from chance"
        )
    if u.post and after < min_events:
        reasons.append(
            f"only {after:.0f} event(s) in the treated area(s) from the start; at least "
            f"{min_events} are needed for a change to be told from chance"
        )
    if u.y.shape[1] < 2:
        reasons.append("no comparison area: every area of the panel is treated")
    return reasons, context


def _run(u: Units, alpha: float, min_pre: int, min_post: int, min_events: int) -> dict[str, Any]:
    reasons, _ = _checks(u, min_pre, min_post, min_events)
    if reasons:
        return {"supported": False}
    d, s = _did(u, alpha), _synth(u, alpha)
    return {
        "supported": True,
        "did": {k: d[k] for k in ("estimate", "ci_low", "ci_high")}
        | {"significant": _significant(d)},
        "synthetic_control": {k: s[k] for k in ("estimate", "ci_low", "ci_high", "supported")}
        | {"significant": _significant(s)},
    }


def placebos(
    panel: pd.DataFrame,
    treated: list[str],
    start: dt.date,
    *,
    starts: list[dt.date] | None = None,
    alpha: float = 0.05,
    outcome: str = "crimes",
    min_pre: int = MIN_PRE,
    min_post: int = MIN_POST,
    min_events: int = MIN_EVENTS,
) -> dict[str, Any]:
    """Fake interventions, to see how often each method finds an effect where none was planted.

    *In space*: each untreated area as if treated, with the truly treated areas dropped from
    the comparison pool, at every start month in ``starts`` (default: every month leaving
    ``min_pre`` months before and ``min_post`` after). *In time*: the treated unit itself at
    fake start months inside its pre-period, with the data cut before the real start. A run
    is *significant* when its interval excludes 0; with no effect, about ``alpha`` of runs
    should be. Runs the data could not support (too few months or events) are skipped.

    Returns:
        ``runs`` (each: ``kind``, ``area``, ``start``, and per method ``estimate``, ``ci_low``,
        ``ci_high``, ``significant``), ``skipped``, and per method a summary: ``runs``,
        ``significant``, ``share``, ``alpha`` and ``binomial_p_value`` (one-sided: the chance
        of as many significant runs or more if each had probability ``alpha``).

    Notes:
        Runs overlap (the same areas at neighbouring start months), so they are not
        independent and the binomial p-value is indicative. In-space placebos follow Abadie,
        Diamond & Hainmueller (2010); in-time placebos Abadie, Diamond & Hainmueller (2015).

    Examples:
        >>> out = placebos(_example_panel(effect=-0.2, areas=4), ["A"], dt.date(2024, 7, 1))
        >>> out["did"]["runs"] > 0, out["did"]["significant"]
        (True, 0)
    """
    base = _units(panel, treated, start)
    if starts is None:
        n = len(base.months)
        starts_m = [base.months[k] for k in range(min_pre, n - min_post + 1)]
    else:
        starts_m = [str(_month(s)) for s in starts]
    runs: list[dict[str, Any]] = []
    skipped = 0
    frame = panel[~panel[AREA].isin(treated)]
    areas = sorted(frame[AREA].unique())
    for area in areas:
        for s in starts_m:
            u = _units(frame, [area], s + "-01", outcome)
            r = _run(u, alpha, min_pre, min_post, min_events)
            if r.pop("supported"):
                runs.append({"kind": "in-space", "area": area, "start": s, **r})
            else:
                skipped += 1
    months = pd.to_datetime(panel["month"]).dt.to_period("M")
    early = panel[months < _month(start)]
    if len(early):
        cut = _units(early, treated, start, outcome)
        for k in range(min_pre, cut.pre - min_post + 1):
            s = cut.months[k]
            if starts is not None and s not in starts_m:
                continue
            u = Units(cut.y, cut.names, cut.months, k)
            r = _run(u, alpha, min_pre, min_post, min_events)
            if r.pop("supported"):
                runs.append({"kind": "in-time", "area": base.names[0], "start": s, **r})
            else:
                skipped += 1
    summary = {}
    for method in ("did", "synthetic_control"):
        hits = sum(r[method]["significant"] for r in runs)
        n_runs = len(runs)
        summary[method] = {
            "runs": n_runs,
            "significant": hits,
            "share": hits / n_runs if n_runs else None,
            "alpha": alpha,
            "binomial_p_value": (
                float(stats.binom.sf(hits - 1, n_runs, alpha)) if n_runs else None
            ),
        }
    return {"runs": runs, "skipped": skipped, **summary}


def evaluate_area(
    panel: pd.DataFrame,
    treated: list[str],
    start: dt.date,
    *,
    end: dt.date | None = None,
    alpha: float = 0.05,
    outcome: str = "crimes",
    description: str = "",
    min_pre: int = MIN_PRE,
    min_post: int = MIN_POST,
    min_events: int = MIN_EVENTS,
    max_fit_ratio: float = MAX_FIT_RATIO,
    with_placebos: bool = True,
) -> dict[str, Any]:
    """Evaluate an intervention in ``treated`` areas from ``start`` against the other areas.

    Runs :func:`did`, :func:`event_study`, :func:`synthetic_control` and (optionally)
    :func:`placebos`, after checking that the data can support a conclusion: at least
    ``min_pre`` months before the start and ``min_post`` from it, at least ``min_events``
    events in the treated area(s) before and after, at least one comparison area. When a check
    fails, ``supported`` is false, ``reasons`` says why in plain words and the estimates are
    None. A synthetic control whose pre-period fit is too poor also makes ``supported`` false
    (with its reason), but both estimates are still reported.

    Args:
        panel: One row per area and month: ``csp24_code``, ``month`` and the ``outcome`` column.
        treated: The treated areas' codes.
        start: The first month of the intervention.
        end: The last month to evaluate (default: the panel's last month).
        alpha: One minus the confidence level.
        outcome: The column of counts.
        description: What the outcome counts, in words, copied into the result.
        min_pre: Fewest months before the start.
        min_post: Fewest months from the start.
        min_events: Fewest events in the treated area(s) before, and after.
        max_fit_ratio: See :func:`synthetic_control`.
        with_placebos: Run the placebo interventions.

    Returns:
        A JSON-ready dict: ``treated_areas``, ``comparison_areas``, ``start``, ``end``,
        ``months_before``, ``months_after``, ``events_before``, ``events_after``,
        ``outcome``, ``alpha``, ``supported``, ``reasons``, ``did``, ``event_study``,
        ``synthetic_control`` (each method's result as its function returns it) and
        ``placebos`` (:func:`placebos`'s result: every run and a summary per method).

    Examples:
        >>> r = evaluate_area(_example_panel(effect=-0.2), ["A"], dt.date(2024, 7, 1),
        ...                   with_placebos=False)
        >>> r["supported"], round(r["did"]["estimate"], 6)
        (True, -0.2)
        >>> evaluate_area(_example_panel(), ["A"], dt.date(2024, 3, 1))["reasons"][0][:25]
        'only 2 month(s) of data b'
    """
    if end is not None:
        months = pd.to_datetime(panel["month"]).dt.to_period("M")
        panel = panel[months <= _month(end)]
    u = _units(panel, treated, start, outcome)
    reasons, context = _checks(u, min_pre, min_post, min_events)
    result: dict[str, Any] = {
        "treated_areas": list(treated),
        "comparison_areas": u.names[1:],
        "start": str(_month(start)),
        "end": u.months[-1],
        **context,
        "outcome": description or outcome,
        "alpha": alpha,
        "supported": not reasons,
        "reasons": reasons,
        "did": None,
        "event_study": None,
        "synthetic_control": None,
        "placebos": None,
    }
    if reasons:
        return result
    result["did"] = _did(u, alpha)
    rows, p = _event_study(u, alpha, 12, 12)
    result["event_study"] = {"coefficients": rows, "pre_trend_p_value": p}
    sc = _synth(u, alpha, max_fit_ratio)
    sc["placebo_rank_p_value"] = _rank_p(u)
    result["synthetic_control"] = sc
    if not sc["supported"]:
        result["supported"] = False
        result["reasons"].append(
            f"the synthetic control does not track the treated area before the start: its "
            f"monthly error is {sc['fit_ratio']:.1f} times the chance variation expected (at "
            f"most {max_fit_ratio:g}); no mix of the comparison areas resembles it"
        )
    if with_placebos:
        result["placebos"] = placebos(
            panel,
            treated,
            start,
            alpha=alpha,
            outcome=outcome,
            min_pre=min_pre,
            min_post=min_post,
            min_events=min_events,
        )
    return result


def _pct(value: float) -> str:
    return f"{value * 100:+.0f}%".replace("+0%", "0%").replace("-0%", "0%")


def event_study_svg(event: dict[str, Any], *, start: str, outcome: str = "violence") -> str:
    """The event study as an accessible SVG (no script): the estimated change in each month
    relative to the month before the start, with its interval, and a line at the start.

    Args:
        event: :func:`event_study`'s result (``coefficients``, ``pre_trend_p_value``).
        start: The start month, ``YYYY-MM``, for the caption.
        outcome: What is counted, for the title.

    Examples:
        >>> es = event_study(_example_panel(effect=-0.2), ["A"], dt.date(2024, 7, 1))
        >>> svg = event_study_svg(es, start="2024-07")
        >>> svg.startswith("<svg") and svg.count('class="estimate"') == 11
        True
    """
    from svduty.reports.svg import (
        AXIS,
        CATEGORICAL,
        MUTED,
        WIDTH,
        document,
        esc,
        header,
        linear_scale,
        num,
        svg_text,
        y_axis,
    )

    rows = event["coefficients"]
    title = f"Change in {outcome} against the comparison areas, by month from the start"
    p = event.get("pre_trend_p_value")
    caption = (
        f"Relative to the month before the start ({start}); bars are 95% confidence intervals."
        + (f" Pre-trend test p = {p:.2f}." if p is not None else "")
    )
    head, top = header(title, caption)
    values = [100 * r[k] for r in rows for k in ("estimate", "ci_low", "ci_high")]
    scale = linear_scale(values, zero=True)
    top += 14
    left, right, bottom = 48 + scale.label_width, WIDTH - 20, top + 260
    step = (right - left) / max(len(rows), 1)

    def x_of(i: int) -> float:
        return left + (i + 0.5) * step

    def y_of(v: float) -> float:
        return bottom - scale.frac(100 * v) * (bottom - top)

    parts = [head, y_axis(scale, left, right, top, bottom, "Change (%)")]
    cut = next((i for i, r in enumerate(rows) if r["relative_month"] >= 0), len(rows))
    xs = left + cut * step
    parts.append(
        f'<line x1="{num(xs)}" y1="{num(top)}" x2="{num(xs)}" y2="{num(bottom)}" '
        f'stroke="{AXIS}" stroke-dasharray="5 4" class="start"/>'
    )
    parts.append(svg_text(xs + 4, top + 10, f"Start ({start})", fill=MUTED))
    every = 1 if step >= 26 else 2
    for i, r in enumerate(rows):
        k = r["relative_month"]
        label = f"{k:+d}".replace("+0", "0")
        if r.get("binned"):
            label = ("\u2264" if k < 0 else "\u2265") + label
        if i % every == 0 or k == 0:
            parts.append(svg_text(x_of(i), bottom + 16, label, anchor="middle"))
        x = x_of(i)
        if k == -1:
            tip = f"Month {label}: the reference (0%)"
            parts.append(
                f'<circle cx="{num(x)}" cy="{num(y_of(0))}" r="4" fill="#ffffff" '
                f'stroke="{CATEGORICAL[0]}" stroke-width="2" class="reference">'
                f"<title>{esc(tip)}</title></circle>"
            )
            continue
        tip = (
            f"Month {label}: {_pct(r['estimate'])} "
            f"(95% CI {_pct(r['ci_low'])} to {_pct(r['ci_high'])})"
        )
        parts.append(
            f'<path d="M{num(x)} {num(y_of(r["ci_low"]))}V{num(y_of(r["ci_high"]))}" '
            'stroke="#000000" stroke-width="1.4" class="interval"/>'
        )
        parts.append(
            f'<circle cx="{num(x)}" cy="{num(y_of(r["estimate"]))}" r="4" '
            f'fill="{CATEGORICAL[0]}" stroke="#000000" class="estimate">'
            f"<title>{esc(tip)}</title></circle>"
        )
    parts.append(
        svg_text((left + right) / 2, bottom + 38, "Months from the start", size=13, anchor="middle")
    )
    after = [r["estimate"] for r in rows if r["relative_month"] >= 0]
    desc = (
        f"Event study of {outcome}: {len(rows)} months from {rows[0]['relative_month']} to "
        f"{rows[-1]['relative_month']} relative to the start in {start}."
    )
    if after:
        desc += f" After the start the monthly estimates range from {_pct(min(after))} to "
        desc += f"{_pct(max(after))}."
    return document(bottom + 52, title, desc, "".join(parts))


def _example_panel(effect: float = 0.0, areas: int = 3, months: int = 12) -> pd.DataFrame:
    """A noise-free panel: area ``A`` and others ``B``, ``C``... of different sizes sharing one
    seasonal pattern, ``A`` multiplied by ``1 + effect`` from month 7 (2024-07)."""
    rows = []
    for i in range(areas):
        code = chr(ord("A") + i)
        for t in range(months):
            level = 100 * (i + 1) * (1 + 0.2 * math.sin(2 * math.pi * t / 12))
            if i == 0 and t >= 6:
                level *= 1 + effect
            rows.append(
                {AREA: code, "month": dt.date(2024 + t // 12, t % 12 + 1, 1), "crimes": level}
            )
    return pd.DataFrame(rows)


__all__ = [
    "EvaluationError",
    "MIN_EVENTS",
    "MIN_POST",
    "MIN_PRE",
    "did",
    "evaluate_area",
    "event_study",
    "event_study_svg",
    "placebos",
    "synthetic_control",
]
