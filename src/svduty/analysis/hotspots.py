"""Hotspots: where serious violence clusters (Getis-Ord Gi*), with a false discovery rate
correction for testing every LSOA, and which hotspots persist, which are new and which fade.

Gi* asks whether an LSOA and its neighbours together hold more records than chance would put
there. It finds clusters; a single LSOA whose violence surges amid ordinary neighbours moves the
sum of its neighbourhood little, and the variance Gi* compares against is that of every LSOA,
inflated by the busiest. So :func:`svduty.analysis.persistence.hotspot_change` reads change
through two lenses: Gi* in each half, and, for the busiest LSOAs, a test of each LSOA's own
counts.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from svduty.analysis.definition import Definition
from svduty.analysis.scope import Scope, month_label
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
