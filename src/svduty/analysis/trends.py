"""Trends with honest statistics: change between periods as a rate ratio from a negative
binomial model with a population exposure, and months that break from expectation.

Crime counts are over-dispersed (their variance exceeds their mean), so a Poisson test finds
"significant" changes far too often; a negative binomial model estimates the extra variance and
widens the interval accordingly.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.discrete.discrete_model import NegativeBinomial

from svduty.analysis.definition import Definition
from svduty.analysis.kinds import classified


@dataclass(frozen=True)
class RateRatio:
    """The rate in a later period relative to an earlier one, with its 95% interval."""

    ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    alpha: float  # the negative binomial's over-dispersion (0: Poisson)
    n: int

    @property
    def change(self) -> float:
        """The relative change (-0.2 is a 20% fall)."""
        return self.ratio - 1.0


def rate_ratio(
    counts: np.ndarray, exposure: np.ndarray, later: np.ndarray, level: float = 0.95
) -> RateRatio:
    """The rate ratio of the ``later`` observations to the others.

    Args:
        counts: events per observation (an area-month, say).
        exposure: the population at risk of each observation (residents).
        later: true for observations of the later period.
        level: the confidence level of the interval.

    Returns:
        The ratio of rates, its Wald interval and p-value, from the negative binomial (NB2)
        regression ``log E[count] = log exposure + b0 + b1 * later``.

    Notes:
        Cameron, A. C. & Trivedi, P. K. (2013) Regression Analysis of Count Data, 2nd ed.,
        chapter 3 (NB2 by maximum likelihood, as statsmodels' ``NegativeBinomial``).

    Examples:
        >>> rng = np.random.default_rng(1)
        >>> later = np.repeat([False, True], 500)
        >>> counts = rng.poisson(np.where(later, 8.0, 10.0))
        >>> r = rate_ratio(counts, np.ones(1000), later)
        >>> r.ci_low < 0.8 < r.ci_high
        True
    """
    y = np.asarray(counts, dtype=float)
    x = sm.add_constant(np.asarray(later, dtype=float), has_constant="add")
    offset = np.log(np.asarray(exposure, dtype=float))
    fit = _count_fit(y, x, offset)
    b, se = float(fit.params[1]), float(fit.bse[1])
    z = stats.norm.ppf(0.5 + level / 2)
    return RateRatio(
        ratio=math.exp(b),
        ci_low=math.exp(b - z * se),
        ci_high=math.exp(b + z * se),
        p_value=float(2 * stats.norm.sf(abs(b / se))),
        alpha=float(fit.params[-1]) if len(fit.params) > x.shape[1] else 0.0,
        n=len(y),
    )


def control_limits(
    baseline: np.ndarray, alpha: float = 0.0, sigmas: float = 3.0
) -> tuple[float, float, float]:
    """Expected count and control limits for a month, from baseline months' counts.

    The variance of a negative binomial count is ``mu + alpha * mu**2``; with ``alpha`` 0 these
    are the c-chart's limits (Montgomery, Introduction to Statistical Quality Control, 7.3).

    Examples:
        >>> control_limits(np.array([100, 100, 100]))
        (100.0, 70.0, 130.0)
    """
    mu = float(np.mean(baseline))
    sd = math.sqrt(mu + alpha * mu**2)
    return mu, max(0.0, mu - sigmas * sd), mu + sigmas * sd


def monthly_counts(con: Any, definition: Definition, kind: str, source: str) -> pd.DataFrame:
    """Records of one kind from one source, by partnership area (``csp24_code``) and month,
    every month of the loaded range present (zero where nothing happened), with residents."""
    c = classified(con, definition)
    c = c.filter(c.kind == kind, c.source == source)
    geo = con.table("ref_geography")
    joined = c.left_join(geo, c.lsoa == geo.lsoa21_code)
    counts = (
        joined.group_by([joined.csp24_code, joined.month])
        .aggregate(count=joined.count())
        .to_pandas()
    )
    pop = con.table("ref_population")
    residents = (
        pop.join(geo, pop.lsoa21_code == geo.lsoa21_code)
        .group_by("csp24_code")
        .aggregate(residents=pop.residents.sum())
        .to_pandas()
    )
    counts["month"] = pd.to_datetime(counts["month"]).dt.to_period("M")
    counts = counts.dropna(subset=["csp24_code"])
    if counts.empty:
        return pd.DataFrame(columns=["csp24_code", "month", "count", "residents"])
    months = pd.period_range(counts["month"].min(), counts["month"].max(), freq="M")
    areas = sorted(counts["csp24_code"].unique())
    grid = pd.MultiIndex.from_product([areas, months], names=["csp24_code", "month"])
    out = (
        counts.set_index(["csp24_code", "month"])["count"]
        .reindex(grid, fill_value=0)
        .reset_index()
        .merge(residents, on="csp24_code", how="left")
    )
    return out


def year_on_year(frame: pd.DataFrame) -> dict[str, RateRatio]:
    """The last 12 months against the 12 before, per area, as negative binomial rate ratios."""
    months = sorted(frame["month"].unique())
    if len(months) < 24:
        raise ValueError(f"{len(months)} months: a year-on-year change needs 24")
    last, previous = months[-12:], months[-24:-12]
    out = {}
    for area, rows in frame.groupby("csp24_code"):
        rows = rows[rows["month"].isin([*previous, *last])]
        out[str(area)] = rate_ratio(
            rows["count"].to_numpy(),
            rows["residents"].to_numpy(dtype=float),
            rows["month"].isin(last).to_numpy(),
        )
    return out


def rolling_sum(counts: list[int], window: int = 12) -> list[int | None]:
    """The sum of each month and the ``window - 1`` before it (``None`` until there are enough).

    Examples:
        >>> rolling_sum([1, 2, 3, 4], window=3)
        [None, None, 6, 9]
    """
    out: list[int | None] = []
    for i in range(len(counts)):
        out.append(int(sum(counts[i - window + 1 : i + 1])) if i >= window - 1 else None)
    return out


def moment_alpha(baseline: np.ndarray) -> float:
    """The negative binomial over-dispersion of counts by the method of moments,
    ``(variance - mean) / mean**2``, and 0 for counts no more variable than Poisson.

    Examples:
        >>> moment_alpha(np.array([10, 10, 10]))
        0.0
        >>> round(moment_alpha(np.array([5, 15, 10, 30])), 3)
        0.452
    """
    mu = float(np.mean(baseline))
    if mu <= 0 or len(baseline) < 2:
        return 0.0
    return max(0.0, (float(np.var(baseline, ddof=1)) - mu) / mu**2)


def control_chart(
    counts: list[int], baseline: int = 12, sigmas: float = 3.0
) -> list[dict[str, Any]]:
    """Each month against the ``baseline`` months before it: the expected count (their mean),
    negative binomial control limits and a flag, ``high`` or ``low``, for a month outside them.

    A moving 12-month baseline spans a whole year, so the season does not raise false alarms;
    the over-dispersion is estimated from the baseline (:func:`moment_alpha`).

    Notes:
        Montgomery, D. C. (2013) Introduction to Statistical Quality Control, 7th ed., 7.3
        (the c-chart), with the negative binomial variance ``mu + alpha * mu**2``.

    Examples:
        >>> rows = control_chart([10] * 12 + [40])
        >>> rows[-1]["flag"], rows[0]["expected"]
        ('high', None)
    """
    out = []
    for i, c in enumerate(counts):
        row: dict[str, Any] = {"expected": None, "low": None, "high": None, "flag": None}
        if i >= baseline:
            past = np.asarray(counts[i - baseline : i], dtype=float)
            mu, low, high = control_limits(past, moment_alpha(past), sigmas)
            flag = "high" if c > high else "low" if c < low else None
            row = {"expected": mu, "low": low, "high": high, "flag": flag}
        out.append(row)
    return out


@dataclass(frozen=True)
class Seasonality:
    """A yearly cycle fitted to monthly counts: its amplitude (relative to the mean, on the log
    scale), the calendar month of its peak, an interval for the amplitude and a test."""

    amplitude: float
    ci_low: float
    ci_high: float
    peak_month: int
    p_value: float
    months: int


def seasonality(counts: list[int], first_month: int, seed: int = 0) -> Seasonality | None:
    """The yearly cycle of monthly counts: a negative binomial regression on a linear trend and
    one pair of harmonics, ``log mu = b0 + b1 t + b2 sin(2 pi m / 12) + b3 cos(2 pi m / 12)``.

    Args:
        counts: consecutive monthly counts (12 months at least).
        first_month: the calendar month (1-12) of the first count.
        seed: for the simulation of the amplitude's interval.

    Returns:
        The amplitude ``sqrt(b2**2 + b3**2)`` (0.1: the peak month is about 10% above the
        trend), the month of the peak, a 95% interval for the amplitude simulated from the
        estimates' covariance, and the likelihood ratio test of no cycle (2 degrees of
        freedom); ``None`` with fewer than 12 months or no events.

    Notes:
        Stolwijk, A. M., Straatman, H. & Zielhuis, G. A. (1999) Studying seasonality by using
        sine and cosine functions in regression analysis. J Epidemiol Community Health 53.

    Examples:
        >>> m = np.arange(36)
        >>> mu = 200 * (1 + 0.2 * np.cos(2 * np.pi * (m + 1 - 7) / 12))
        >>> s = seasonality(np.random.default_rng(0).poisson(mu).tolist(), first_month=1)
        >>> s.peak_month, round(s.amplitude, 1), s.ci_low < 0.2 < s.ci_high, s.p_value < 0.001
        (7, 0.2, True, True)
    """
    y = np.asarray(counts, dtype=float)
    if len(y) < 12 or y.sum() == 0:
        return None
    t = np.arange(len(y), dtype=float)
    moy = (first_month - 1 + t) % 12 + 1
    angle = 2 * np.pi * moy / 12
    full = np.column_stack([np.ones_like(t), t / 12, np.sin(angle), np.cos(angle)])
    fit, null = _count_fit(y, full), _count_fit(y, full[:, :2])
    b_sin, b_cos = float(fit.params[2]), float(fit.params[3])
    amplitude = math.hypot(b_sin, b_cos)
    peak = (math.degrees(math.atan2(b_sin, b_cos)) / 30) % 12  # the month angle of the peak
    peak_month = int(round(peak)) % 12 or 12
    cov = np.asarray(fit.cov_params())[2:4, 2:4]
    draws = np.random.default_rng(seed).multivariate_normal([b_sin, b_cos], cov, 4000)
    amplitudes = np.hypot(draws[:, 0], draws[:, 1])
    lr = max(0.0, 2 * (float(fit.llf) - float(null.llf)))
    return Seasonality(
        amplitude=amplitude,
        ci_low=float(np.quantile(amplitudes, 0.025)),
        ci_high=float(np.quantile(amplitudes, 0.975)),
        peak_month=peak_month,
        p_value=float(stats.chi2.sf(lr, 2)),
        months=len(y),
    )


def _count_fit(y: np.ndarray, x: np.ndarray, offset: np.ndarray | None = None) -> Any:
    """A negative binomial (NB2) fit, or a Poisson one where the counts show no
    over-dispersion and the negative binomial's dispersion runs to its boundary (the negative
    binomial with no extra variance is the Poisson)."""
    with warnings.catch_warnings():
        # the optimiser's convergence chatter; non-convergence is checked below
        warnings.simplefilter("ignore")
        try:
            model = NegativeBinomial(y, x, loglike_method="nb2", offset=offset)
            fit = model.fit(disp=0, maxiter=300)
            cov = np.asarray(fit.cov_params())
            if fit.mle_retvals.get("converged", True) and np.all(np.isfinite(cov)):
                return fit
        except (ValueError, np.linalg.LinAlgError):
            pass
        return sm.GLM(y, x, family=sm.families.Poisson(), offset=offset).fit()


def change_on_last_year(
    counts: list[int], months: list[str], exposure: float
) -> dict[str, Any] | None:
    """The latest months against the same months a year before, as a negative binomial rate
    ratio: the last 12 against the 12 before with 24 months or more, otherwise the last
    ``n - 12`` months against the same calendar months of the previous year.

    Returns:
        ``ratio, ci_low, ci_high, p_value, later, earlier`` (the periods compared,
        ``YYYY-MM..YYYY-MM``), the totals of both periods, or ``None`` with fewer than 13
        months, no events, or a model that does not converge.

    Examples:
        >>> months = [f"2024-{m:02d}" for m in range(1, 13)] + ["2025-01", "2025-02"]
        >>> counts = [8, 12, 10, 9, 11, 10, 12, 9, 10, 11, 8, 10, 14, 16]
        >>> r = change_on_last_year(counts, months, 1000.0)
        >>> r["later"], r["earlier"], r["later_count"], r["earlier_count"]
        ('2025-01..2025-02', '2024-01..2024-02', 30, 20)
    """
    n = len(counts)
    if n < 13 or exposure <= 0:
        return None
    k = min(12, n - 12)
    later = list(range(n - k, n))
    earlier = [i - 12 for i in later]
    y = np.asarray([counts[i] for i in earlier + later], dtype=float)
    out: dict[str, Any] = {
        "later": f"{months[later[0]]}..{months[later[-1]]}",
        "earlier": f"{months[earlier[0]]}..{months[earlier[-1]]}",
        "later_count": int(sum(counts[i] for i in later)),
        "earlier_count": int(sum(counts[i] for i in earlier)),
    }
    if out["later_count"] == 0 or out["earlier_count"] == 0:
        return None
    try:
        r = rate_ratio(y, np.full(len(y), exposure), np.repeat([False, True], k))
    except (ValueError, np.linalg.LinAlgError):
        return None
    if not all(math.isfinite(v) for v in (r.ratio, r.ci_low, r.ci_high, r.p_value)):
        return None
    return {**out, "ratio": r.ratio, "ci_low": r.ci_low, "ci_high": r.ci_high,
            "p_value": r.p_value}  # fmt: skip
