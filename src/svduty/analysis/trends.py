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
    model = NegativeBinomial(y, x, loglike_method="nb2", offset=offset)
    with warnings.catch_warnings():
        # the optimiser's convergence chatter; non-convergence is checked below
        warnings.simplefilter("ignore")
        fit = model.fit(disp=0, maxiter=200)
    if not fit.mle_retvals.get("converged", True):
        raise ValueError("the negative binomial model did not converge")
    b, se = float(fit.params[1]), float(fit.bse[1])
    z = stats.norm.ppf(0.5 + level / 2)
    return RateRatio(
        ratio=math.exp(b),
        ci_low=math.exp(b - z * se),
        ci_high=math.exp(b + z * se),
        p_value=float(2 * stats.norm.sf(abs(b / se))),
        alpha=float(fit.params[-1]),
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
