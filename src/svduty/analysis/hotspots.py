"""Hotspots: where serious violence clusters (Getis-Ord Gi*), with a false discovery rate
correction for testing every LSOA, and which hotspots persist, which are new and which fade.

Gi* asks whether an LSOA and its neighbours together hold more records than chance would put
there. It finds clusters; a single LSOA whose violence surges amid ordinary neighbours moves the
sum of its neighbourhood little, and the variance Gi* compares against is that of every LSOA,
inflated by the busiest. So :func:`hotspot_change` reads change through two lenses: Gi* in each
half, and, for the busiest LSOAs, a test of each LSOA's own counts (see :func:`lsoa_change`).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from svduty.analysis.definition import Definition
from svduty.analysis.scope import Scope, month_label, month_range
from svduty.analysis.where import LsoaCounts, check_kind, lsoa_counts
from svduty.errors import ConfigError

BANDS = ((2.58, 99), (1.96, 95), (1.65, 90))  # |z| -> confidence (%), as in DOMAIN.md
DEFAULT_SEED = 2022
TESTED_SHARE = 0.10
LEANING_Z = 1.65  # a hot spot whose z stays this high in the other period has not clearly changed
WEIGHTS = (
    "Queen contiguity (LSOAs sharing a boundary point) from the ref_lsoa polygons, binary, with "
    "each LSOA its own neighbour (weight 1) as Gi* requires; an LSOA without a neighbour is "
    "joined to the nearest LSOA (polygon distance, British National Grid)"
)


def benjamini_hochberg(p_values: Any) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values): reject where ``q <= fdr`` to keep the
    expected share of false discoveries at most ``fdr``.

    ``q_(i) = min over j >= i of m p_(j) / j`` with ``p_(1) <= ... <= p_(m)``, capped at 1.

    Notes:
        Benjamini, Y. & Hochberg, Y. (1995) Controlling the false discovery rate: a practical
        and powerful approach to multiple testing. Journal of the Royal Statistical Society B
        57(1), 289-300. Valid under positive dependence (Benjamini & Yekutieli 2001, Annals of
        Statistics 29(4)), as between overlapping Gi* neighbourhoods.

    Examples:
        Sorted, 0.01, 0.03, 0.04, 0.20 become 0.04, 0.06, 0.0533, 0.20; the running minimum
        from the largest makes the second 0.0533.

        >>> benjamini_hochberg([0.01, 0.04, 0.03, 0.20]).round(4).tolist()
        [0.04, 0.0533, 0.0533, 0.2]
    """
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(q, 1.0)
    return out


def band(z: float | None) -> int | None:
    """The confidence (%) that ``|z|`` reaches before any correction: 90, 95, 99 or ``None``.

    Examples:
        >>> [band(z) for z in (0.5, -1.7, 2.0, 3.1, None)]
        [None, 90, 95, 99, None]
    """
    if z is None or not math.isfinite(z):
        return None
    for cut, level in BANDS:
        if abs(z) >= cut:
            return level
    return None


def band_fdr(q: float | None) -> int | None:
    """The highest confidence (%) at which an LSOA stays significant after the false discovery
    rate correction: 99 (``q <= 0.01``), 95 (``q <= 0.05``), 90 (``q <= 0.10``) or ``None``
    (as ArcGIS's ``Gi_Bin`` with its FDR option).

    Examples:
        >>> [band_fdr(q) for q in (0.003, 0.04, 0.08, 0.2, None)]
        [99, 95, 90, None, None]
    """
    if q is None or not math.isfinite(q):
        return None
    for level in (99, 95, 90):
        if q <= 1 - level / 100 + 1e-12:
            return level
    return None


def queen_weights(con: Any, codes: list[str]) -> tuple[Any, list[dict[str, str]]]:
    """:func:`queen_from_polygons` of the reference LSOAs ``codes`` (``ref_lsoa`` boundaries)."""
    import shapely

    ref = con.table("ref_lsoa").select("lsoa21_code", "geometry").to_pandas()
    ref = ref.set_index("lsoa21_code").reindex(codes)
    if ref["geometry"].isna().any():
        missing = ", ".join(ref.index[ref["geometry"].isna()][:5])
        raise ConfigError(f"LSOAs without a boundary in ref_lsoa: {missing}")
    return queen_from_polygons(codes, shapely.from_geojson(ref["geometry"].to_numpy()))


def queen_from_polygons(codes: list[str], polygons: Any) -> tuple[Any, list[dict[str, str]]]:
    """Queen contiguity weights among areas (polygons in WGS84 lon/lat), in ``codes`` order.

    Returns:
        The ``libpysal.weights.W`` (binary, no self-weights, ids the codes) and the islands
        joined to their nearest area (``[{"lsoa", "joined_to"}]``). An island would otherwise
        be its own whole neighbourhood, its Gi* a test of one count unlike every other area's;
        super-generalised boundaries can also leave slivers between real neighbours.

    Examples:
        Two touching squares and one far off, which is joined to the nearer of the two:

        >>> from shapely import box
        >>> w, joined = queen_from_polygons(
        ...     ["a", "b", "c"], [box(0, 52, 0.01, 52.01), box(0.01, 52, 0.02, 52.01),
        ...                       box(0.05, 52, 0.06, 52.01)])
        >>> dict(w.neighbors), joined
        ({'a': ['b'], 'b': ['a', 'c'], 'c': ['b']}, [{'lsoa': 'c', 'joined_to': 'b'}])
    """
    import geopandas as gpd
    from libpysal.weights import Queen, W

    codes = list(codes)
    gdf = gpd.GeoDataFrame({"code": codes}, geometry=list(polygons), crs=4326)
    with warnings.catch_warnings():
        # libpysal warns of islands and disconnected parts; islands are handled below
        warnings.simplefilter("ignore", UserWarning)
        queen = Queen.from_dataframe(gdf, ids=codes, use_index=False)
    neighbours = {c: list(queen.neighbors[c]) for c in codes}
    joined = []
    if queen.islands and len(codes) > 1:
        metric = gdf.to_crs(27700).geometry.reset_index(drop=True)  # metres
        for island in queen.islands:
            i = codes.index(island)
            distance = metric.distance(metric.iloc[i]).to_numpy()
            distance[i] = np.inf
            nearest = codes[int(np.argmin(distance))]
            neighbours[island].append(nearest)
            neighbours[nearest].append(island)
            joined.append({"lsoa": island, "joined_to": nearest})
    w = W(neighbours, id_order=codes, silence_warnings=True)
    return w, joined


def gi_star(
    y: Any, w: Any, fdr: float = 0.05, permutations: int = 999, seed: int = DEFAULT_SEED
) -> pd.DataFrame:
    """Getis-Ord Gi* of ``y`` over binary weights ``w``: one row per area, in ``w``'s order.

    Columns: ``z`` (esda's ``Zs``), ``p_value`` (two-sided, normal: twice esda's one-sided
    ``p_norm``), ``p_sim`` (esda's pseudo p-value from ``permutations`` conditional
    permutations, one-sided in the direction of the observed value; ``None`` without
    permutations), ``q_value`` (:func:`benjamini_hochberg` of ``p_value``), ``class`` (``hot``
    or ``cold`` where ``q_value <= fdr``, else ``not significant``), ``band`` and ``band_fdr``.

    Notes:
        Getis, A. & Ord, J. K. (1992) The analysis of spatial association by use of distance
        statistics. Geographical Analysis 24(3), 189-206; Ord, J. K. & Getis, A. (1995) Local
        spatial autocorrelation statistics: distributional issues and an application.
        Geographical Analysis 27(4), 286-306. Computed by ``esda.G_Local(y, w, star=True,
        transform="B")``: with binary weights and self-weight 1 esda's moments are Ord & Getis's
        (their equation 14). Its default ``transform="R"`` keeps the binary variance formula
        for row-standardised weights, which shrinks z by about ``1 / sqrt(neighbours + 1)``.
        The normal approximation is optimistic for skewed counts and few neighbours (Ord &
        Getis 1995): compare ``p_sim``.

    Examples:
        A 4 x 4 grid (Queen: corners have three neighbours, inner cells eight) with violence
        in one corner: the corner and the two edge cells beside it are hot.

        >>> from libpysal.weights import lat2W
        >>> y = [9, 6, 1, 0, 6, 4, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1]
        >>> g = gi_star(y, lat2W(4, 4, rook=False), permutations=0)
        >>> g["z"].round(2).tolist()[:3]
        [3.6, 2.68, 0.07]
        >>> g.loc[g["class"] == "hot"].index.tolist(), g.at[0, "band"], g.at[1, "band_fdr"]
        ([0, 1, 4], 99, 95)
    """
    from esda.getisord import G_Local

    y = np.asarray(y, dtype=float)
    n = len(y)
    out = pd.DataFrame(index=range(n))
    if n < 3 or y.sum() <= 0 or np.ptp(y) == 0:
        out["z"] = out["p_value"] = out["p_sim"] = out["q_value"] = None
        out["class"] = "not significant"
        out["band"] = out["band_fdr"] = None
        return out
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        # esda's notice that its permutation alternative will change; G_Local cannot pass it on
        warnings.filterwarnings("ignore", "The alternative hypothesis", DeprecationWarning)
        # an area whose neighbourhood is every area has no variance: its z is undefined (nan)
        g = G_Local(
            y, w, transform="B", star=True, permutations=permutations, seed=seed, n_jobs=1,
            keep_simulations=False,
        )  # fmt: skip
    z = np.asarray(g.Zs, dtype=float)
    defined = np.isfinite(z)
    z = np.where(defined, z, np.nan)
    p = np.where(defined, 2 * stats.norm.sf(np.abs(np.nan_to_num(z))), np.nan)
    q = np.full(n, np.nan)
    q[defined] = benjamini_hochberg(p[defined])
    significant = defined & (q <= fdr)
    out["z"] = z
    out["p_value"] = p
    out["p_sim"] = np.asarray(g.p_sim, dtype=float) if permutations else None
    out["q_value"] = q
    out["class"] = np.where(significant & (z > 0), "hot", "not significant")
    out.loc[significant & (z < 0), "class"] = "cold"
    out["band"] = pd.Series([band(v) for v in z], dtype=object)
    out["band_fdr"] = pd.Series([band_fdr(v) for v in q], dtype=object)
    return out


def _num(v: Any, digits: int = 6) -> float | None:
    if v is None or (isinstance(v, float) and not math.isfinite(v)) or pd.isna(v):
        return None
    return round(float(v), digits)


def _place(f: pd.DataFrame, i: int) -> dict[str, Any]:
    return {
        "lsoa": f.at[i, "lsoa21_code"],
        "lsoa_name": f.at[i, "lsoa21_name"],
        "area": f.at[i, "csp24_code"],
        "area_name": f.at[i, "csp24_name"],
    }


def _gi_rows(counts: LsoaCounts, g: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            **_place(counts.frame, i),
            "count": int(counts.frame.at[i, "count"]),
            "z": _num(g.at[i, "z"]),
            "p_value": _num(g.at[i, "p_value"], 12),
            "p_sim": _num(g.at[i, "p_sim"]),
            "q_value": _num(g.at[i, "q_value"], 12),
            "class": g.at[i, "class"],
            "band": g.at[i, "band"],
            "band_fdr": g.at[i, "band_fdr"],
        }
        for i in range(len(counts.frame))
    ]


def _method(fdr: float, permutations: int, seed: int, joined: list[dict[str, str]]) -> dict:
    return {
        "statistic": "Getis-Ord Gi* (esda.G_Local, star=True, transform='B')",
        "weights": WEIGHTS,
        "islands": joined,
        "p_value": "two-sided, normal approximation from z",
        "correction": "Benjamini-Hochberg false discovery rate",
        "fdr": fdr,
        "permutations": permutations,
        "seed": seed,
    }


def hotspots(
    con: Any,
    definition: Definition,
    scope: Scope | None = None,
    kind: str = "all",
    fdr: float = 0.05,
    permutations: int = 999,
    seed: int = DEFAULT_SEED,
) -> dict[str, Any]:
    """Getis-Ord Gi* hot and cold spots of serious violence among the scope's LSOAs.

    Args:
        con: the warehouse.
        definition: the local definition of serious violence.
        scope: months and area; for one partnership area, the neighbours are that area's
            LSOAs only, so LSOAs on its edge have fewer.
        kind: ``"all"`` or a kind of the definition (counted as :func:`lsoa_counts` does).
        fdr: the false discovery rate at which an LSOA is called hot or cold.
        permutations: conditional permutations for esda's pseudo p-values (0: none).
        seed: the permutations' seed.

    Returns:
        ``kind``, ``definition_version``, ``scope``, ``months``, ``first_month``,
        ``last_month``, ``method``; ``lsoas``: every LSOA of the scope with ``count`` and the
        columns of :func:`gi_star`; ``hot`` and ``cold``: their codes, highest ``|z|`` first;
        ``outside_area`` and ``no_location`` (not in any LSOA); ``note``.
    """
    scope = (scope or Scope()).resolve(con)
    check_kind(definition, kind)
    counts = lsoa_counts(con, definition, scope, kind)
    codes = counts.frame["lsoa21_code"].tolist()
    if len(codes) < 3:
        raise ConfigError(f"{scope.label}: hotspots need at least 3 LSOAs, not {len(codes)}")
    w, joined = queen_weights(con, codes)
    g = gi_star(counts.frame["count"].to_numpy(), w, fdr, permutations, seed)
    rows = _gi_rows(counts, g)
    return {
        "kind": kind,
        "definition_version": definition.version,
        "scope": scope.label,
        "months": len(counts.months),
        "first_month": month_label(counts.months[0]) if counts.months else None,
        "last_month": month_label(counts.months[-1]) if counts.months else None,
        "method": _method(fdr, permutations, seed, joined),
        "lsoas": rows,
        "hot": _ranked(rows, "hot"),
        "cold": _ranked(rows, "cold"),
        "outside_area": counts.outside_area,
        "no_location": counts.no_location,
        "note": _gi_note(g, fdr),
    }


def _ranked(rows: list[dict[str, Any]], cls: str, key: str = "class", z: str = "z") -> list:
    hit = [r for r in rows if r[key] == cls]
    return [r["lsoa"] for r in sorted(hit, key=lambda r: -abs(r[z] or 0))]


def _gi_note(g: pd.DataFrame, fdr: float) -> str:
    if g["z"].isna().all():
        return "No variation in the counts (none, or all equal): Gi* cannot be computed."
    raw = int(g["band"].notna().sum())
    kept = int((g["class"] != "not significant").sum())
    return (
        f"{raw} LSOAs reach 90% confidence on |z| alone; {kept} stay significant at a false "
        f"discovery rate of {fdr:.0%} (Benjamini-Hochberg over {len(g)} LSOAs). The band is "
        "before the correction, band_fdr after it. p_sim (permutations) is often larger than "
        "the normal p for skewed counts."
    )


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
