"""Which hotspots persist, which are new and which fade: Getis-Ord Gi* in an earlier and a later
period, with a margin before calling a change, and a second check on each busy LSOA's own counts
where Gi* (which looks at a neighbourhood) misses a surge in one LSOA.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from svduty.analysis.definition import Definition
from svduty.analysis.hotspots import (
    DEFAULT_SEED,
    LEANING_Z,
    TESTED_SHARE,
    _method,
    _num,
    _place,
    benjamini_hochberg,
    gi_star,
    queen_weights,
)
from svduty.analysis.scope import Scope, month_label, month_range
from svduty.analysis.where import check_kind, lsoa_counts
from svduty.errors import ConfigError


def split_months(months: list[Any]) -> tuple[list[Any], list[Any], str]:
    """An earlier and a later period: with 24 months or more, the first 12 against the last 12
    (a year against a year, so the seasons match); otherwise the first half against the
    second, leaving out the middle month of an odd number so the halves are equally long.

    Examples:
        >>> split_months(list(range(1, 8)))[:2]
        ([1, 2, 3], [5, 6, 7])
        >>> [len(p) for p in split_months(list(range(30)))[:2]]
        [12, 12]
    """
    n = len(months)
    if n < 2:
        raise ConfigError(f"a change between periods needs at least 2 months; the scope has {n}")
    if n >= 24:
        earlier, later = months[:12], months[-12:]
        rule = "the first 12 months against the last 12"
        if n > 24:
            rule += f" ({n - 24} months between are not used)"
    else:
        h = n // 2
        earlier, later = months[:h], months[-h:]
        rule = f"the first {h} months against the last {h}"
        if n % 2:
            rule += " (the middle month is not used)"
    return earlier, later, rule


def lsoa_change(
    earlier: Any, later: Any, fdr: float = 0.05, tested_share: float = TESTED_SHARE
) -> pd.DataFrame:
    """Which LSOAs' own counts rose or fell more than the partnership's, among the busiest.

    Each LSOA's later count given its total ``n`` over both periods is compared with the
    partnership's later share ``pi`` (the conditional test for two Poisson counts), with the
    beta-binomial variance, which grows faster than ``n`` as over-dispersed counts do:
    ``z = (later - n pi) / sqrt(n pi (1 - pi) (1 + (n - 1) rho))``, two-sided normal p. Only
    the busiest ``tested_share`` of LSOAs by total are tested, and corrected with
    :func:`benjamini_hochberg` among themselves.

    Args:
        earlier, later: counts per LSOA in each period (equally long periods, or ``pi`` absorbs
            the difference).
        fdr: the false discovery rate.
        tested_share: the share of LSOAs tested (at least one), by total over both periods.

    Returns:
        One row per LSOA: ``tested``, ``ratio`` (later / earlier), ``z``, ``p_value``,
        ``q_value`` (``NaN`` where not tested) and ``trend``: ``rising``, ``falling``,
        ``steady`` or ``None`` (not tested). ``attrs`` holds ``later_share`` and ``rho``.

    Notes:
        Przyborowski, J. & Wilenski, H. (1940) Homogeneity of results in testing samples from
        Poisson series. Biometrika 31(3/4), 313-323 (the conditional binomial test). The
        extra-binomial variance: Williams, D. A. (1982) Extra-binomial variation in logistic
        linear models. Applied Statistics 31(2), 144-148. ``rho`` is estimated from every
        LSOA so that the median of the squared Pearson residuals, each divided by its
        ``1 + (n - 1) rho``, is the median of chi-squared on 1 degree of freedom (0.455): a
        median, so that the few LSOAs that did change do not widen it (our robust moment
        estimator; on simulated negative binomial counts it recovers the over-dispersion and
        holds the false discovery rate, see the tests). Testing only the busiest LSOAs, chosen
        by their total, is independent filtering: under no change the split of a total does
        not depend on the total (Bourgon, R., Gentleman, R. & Huber, W. (2010) PNAS 107(21),
        9546-9551); it spends the correction on the places a hotspot strategy is about.

    Examples:
        Ten LSOAs, one tripling while the rest hold steady, all of them tested. The later
        share is 240 / 440; the steady LSOAs' residuals, (20 - 40 x 0.545) / 3.15 = -0.58,
        are smaller than chance alone gives, so ``rho`` is 0.

        >>> c = lsoa_change([20] * 10, [20] * 9 + [60], tested_share=1.0)
        >>> c["trend"].tolist()[-2:], round(c.attrs["later_share"], 3), c.attrs["rho"]
        (['steady', 'rising'], 0.545, 0.0)
    """
    e = np.asarray(earlier, dtype=float)
    la = np.asarray(later, dtype=float)
    n = e + la
    out = pd.DataFrame(index=range(len(n)))
    out["ratio"] = np.where(e > 0, la / np.where(e > 0, e, 1), np.nan)
    out["tested"] = False
    for col in ("z", "p_value", "q_value"):
        out[col] = np.nan
    out["trend"] = None
    out.attrs.update(later_share=None, rho=None)
    if n.sum() <= 0 or la.sum() == 0 or e.sum() == 0:
        return out
    pi = la.sum() / n.sum()
    busy = n > 0
    rho = _extra_binomial(la[busy], n[busy], pi)
    k = min(int(busy.sum()), max(1, math.ceil(tested_share * len(n) - 1e-9)))
    tested = np.argsort(-n, kind="stable")[:k]
    nt = n[tested]
    z = (la[tested] - nt * pi) / np.sqrt(nt * pi * (1 - pi) * (1 + (nt - 1) * rho))
    p = 2 * stats.norm.sf(np.abs(z))
    q = benjamini_hochberg(p)
    out.loc[tested, "tested"] = True
    out.loc[tested, "z"] = z
    out.loc[tested, "p_value"] = p
    out.loc[tested, "q_value"] = q
    out.loc[tested, "trend"] = np.where(q <= fdr, np.where(z > 0, "rising", "falling"), "steady")
    out.attrs.update(later_share=float(pi), rho=rho)
    return out


def _extra_binomial(x: np.ndarray, n: np.ndarray, pi: float) -> float:
    """``rho >= 0`` with median of ``r^2 / (1 + (n - 1) rho)`` equal to chi-squared(1)'s."""
    from scipy.optimize import brentq

    r2 = (x - n * pi) ** 2 / (n * pi * (1 - pi))
    target = stats.chi2.ppf(0.5, 1)

    def excess(rho: float) -> float:
        return float(np.median(r2 / (1 + (n - 1) * rho)) - target)

    if excess(0.0) <= 0:
        return 0.0
    high = 1.0
    while excess(high) > 0 and high < 1e6:
        high *= 2
    return float(brentq(excess, 0.0, high))


def _status(
    classes: tuple[str, str], z: tuple[float | None, float | None], trend: str | None
) -> tuple[str | None, str | None]:
    hot_e, hot_l = (c == "hot" for c in classes)
    lean_e, lean_l = (v is not None and v >= LEANING_Z for v in z)
    if (hot_e and (hot_l or lean_l)) or (hot_l and lean_e):
        return "persistent", "Gi*"
    if hot_l:
        return "new", "Gi*"
    if hot_e:
        return "fading", "Gi*"
    if trend == "rising":
        return "new", "LSOA change"
    if trend == "falling":
        return "fading", "LSOA change"
    return None, None


def hotspot_change(
    con: Any,
    definition: Definition,
    scope: Scope | None = None,
    kind: str = "all",
    fdr: float = 0.05,
    permutations: int = 999,
    seed: int = DEFAULT_SEED,
    tested_share: float = TESTED_SHARE,
) -> dict[str, Any]:
    """Which hotspots persist, which are new and which fade, between an earlier and a later
    period of the scope (:func:`split_months`).

    Each LSOA's ``status``:

    - ``persistent``: a Gi* hot spot (after the false discovery rate correction) in one period
      and, in the other, a hot spot too or at least leaning hot (``z >= 1.65``, 90% before
      correction);
    - ``new``: a Gi* hot spot later that did not even lean hot earlier; or else one of the
      busiest LSOAs whose own count rose significantly more than the partnership's
      (:func:`lsoa_change`);
    - ``fading``: the reverse;
    - ``None`` otherwise. ``basis`` says which lens decided (``Gi*`` or ``LSOA change``).

    Calling a hot spot new or fading needs more than its z crossing the threshold: a z of 3.0
    that becomes 2.9 would otherwise flip a status while nothing changed (the difference
    between significant and not significant is not itself significant: Gelman, A. & Stern,
    H. (2006) The American Statistician 60(4), 328-331). ``earlier`` and ``later`` keep each
    period's plain class. Gi* finds clusters and can miss one LSOA surging amid ordinary
    neighbours; the LSOA lens finds those, and is read only where Gi* says nothing.

    Args:
        con, definition, scope, kind, fdr, permutations, seed: as :func:`hotspots`.
        tested_share: the share of LSOAs, the busiest over both periods, whose own change is
            tested.

    Returns:
        ``kind``, ``definition_version``, ``scope``, ``split`` (``earlier`` and ``later`` first
        and last months, ``months`` each, ``rule``), ``method``; ``lsoas``: every LSOA with
        ``count_earlier``, ``count_later``, ``z_earlier``, ``z_later``, ``earlier`` and
        ``later`` (Gi* classes), ``ratio``, ``change_z``, ``change_p``, ``change_q``,
        ``trend``, ``status``, ``basis``; ``persistent``, ``new``, ``fading``: their codes;
        ``later_share`` and ``rho`` (over-dispersion) of the LSOA lens; ``note``.
    """
    scope = (scope or Scope()).resolve(con)
    check_kind(definition, kind)
    months = month_range(con, definition, scope)
    earlier, later, rule = split_months(months)
    halves = [
        lsoa_counts(con, definition, dataclasses.replace(scope, start=p[0], end=p[-1]), kind)
        for p in (earlier, later)
    ]
    codes = halves[0].frame["lsoa21_code"].tolist()
    if len(codes) < 3:
        raise ConfigError(f"{scope.label}: hotspots need at least 3 LSOAs, not {len(codes)}")
    w, joined = queen_weights(con, codes)
    gis = [gi_star(h.frame["count"].to_numpy(), w, fdr, permutations, seed) for h in halves]
    ce, cl = (h.frame["count"].to_numpy() for h in halves)
    change = lsoa_change(ce, cl, fdr, tested_share)
    rows = []
    for i in range(len(codes)):
        status, basis = _status(
            (gis[0].at[i, "class"], gis[1].at[i, "class"]),
            (_num(gis[0].at[i, "z"]), _num(gis[1].at[i, "z"])),
            change.at[i, "trend"],
        )
        rows.append(
            {
                **_place(halves[0].frame, i),
                "count_earlier": int(ce[i]),
                "count_later": int(cl[i]),
                "z_earlier": _num(gis[0].at[i, "z"]),
                "z_later": _num(gis[1].at[i, "z"]),
                "earlier": gis[0].at[i, "class"],
                "later": gis[1].at[i, "class"],
                "ratio": _num(change.at[i, "ratio"]),
                "change_z": _num(change.at[i, "z"]),
                "change_p": _num(change.at[i, "p_value"], 12),
                "change_q": _num(change.at[i, "q_value"], 12),
                "trend": change.at[i, "trend"],
                "status": status,
                "basis": basis,
            }
        )

    def period(p: list[Any]) -> dict[str, Any]:
        return {"first": month_label(p[0]), "last": month_label(p[-1]), "months": len(p)}

    by_status = {
        s: [r["lsoa"] for r in rows if r["status"] == s] for s in ("persistent", "new", "fading")
    }
    return {
        "kind": kind,
        "definition_version": definition.version,
        "scope": scope.label,
        "split": {"earlier": period(earlier), "later": period(later), "rule": rule},
        "method": {
            **_method(fdr, permutations, seed, joined),
            "lsoa_change": (
                "conditional test of each LSOA's later share against the partnership's, "
                f"with beta-binomial over-dispersion, for the busiest {tested_share:.0%} of "
                "LSOAs; Benjamini-Hochberg among them"
            ),
        },
        "lsoas": rows,
        **by_status,
        "later_share": change.attrs["later_share"],
        "rho": change.attrs["rho"],
        "note": (
            f"Earlier: {period(earlier)['first']} to {period(earlier)['last']}; later: "
            f"{period(later)['first']} to {period(later)['last']} ({rule}). Gi* decides where it "
            "finds a hot spot in either period (new or fading only if the other period's z is "
            f"below {LEANING_Z}); elsewhere a significant rise or fall of the LSOA's own count "
            "among the busiest LSOAs makes it new or fading (basis 'LSOA change')."
        ),
    }
