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

import numpy as np
import statsmodels.api as sm
from scipy import stats
from statsmodels.discrete.discrete_model import NegativeBinomial


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
