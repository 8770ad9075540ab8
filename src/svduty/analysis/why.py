"""Why: what serious violence goes with across the small areas of a partnership area.

The Duty asks partnerships to identify, as far as possible, the causes of serious violence. The
data can show associations between places and their violence, not causes: this module measures,
across the LSOAs of an area, how the rate of serious violence rises or falls with each
deprivation domain of the Indices of Deprivation, with rurality and with population density,
each alone and (income, rurality, density) together. The counts per LSOA come out of the
warehouse; the regressions run on that one row per LSOA.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.discrete.discrete_model import NegativeBinomial

from svduty.analysis.definition import Definition
from svduty.analysis.scope import Scope, areas, month_label, serious_violence
from svduty.errors import ConfigError

# The deprivation domains an association may use, with their labels. Left out on purpose: the
# crime domain (it counts the same crimes, so the association would be circular) and the overall
# IMD score (it includes the crime domain).
DOMAINS = {
    "income": "Income deprivation",
    "employment": "Employment deprivation",
    "education": "Education, skills and training deprivation",
    "health": "Health deprivation and disability",
    "housing_and_services": "Barriers to housing and services",
    "environment": "Living environment deprivation",
}
# The partner sources whose records count, in order of preference when none is named: the
# force's own crime records, then police.uk, then the health and fire feeds.
SOURCES = ("police-crime", "police-uk", "istv", "ambulance", "fire")
# A "strong" association, the kind worth a sentence: a ratio of at least 1.2 (or at most 1/1.2)
# per unit whose 95% interval excludes 1.
STRONG_RATIO = 1.2
STRONG_P = 0.05
ADJUSTED = ("income", "rural", "density")


@dataclass(frozen=True)
class CountFit:
    """A fitted count regression: coefficients (log rate ratios) and their standard errors by
    covariate name, the over-dispersion ``alpha`` (0 for Poisson) and how it was fitted."""

    params: dict[str, float]
    bse: dict[str, float]
    alpha: float
    n: int
    method: str

    def rate_ratio(self, name: str, level: float = 0.95) -> dict[str, float]:
        """``rate_ratio, ci_low, ci_high, p_value`` of one covariate (Wald interval)."""
        b, se = self.params[name], self.bse[name]
        z = float(stats.norm.ppf(0.5 + level / 2))
        return {
            "rate_ratio": math.exp(b),
            "ci_low": math.exp(b - z * se),
            "ci_high": math.exp(b + z * se),
            "p_value": float(2 * stats.norm.sf(abs(b / se))),
        }


def fit_negative_binomial(
    counts: np.ndarray, covariates: pd.DataFrame, exposure: np.ndarray
) -> CountFit:
    """A negative binomial (NB2) regression of counts on named covariates, with exposure.

    ``log E[count] = log exposure + b0 + b . covariates``, by maximum likelihood. Where the
    counts show no over-dispersion the dispersion runs to its boundary (alpha 0) and its
    information matrix is singular; the negative binomial is then the Poisson, and the
    Poisson fit is returned. Where the full fit converges on an alpha but its covariance is
    not usable, the coefficients are refitted with alpha fixed at that estimate (NB2's
    information is block diagonal in the coefficients and alpha, so their errors hold).

    Args:
        counts: events per unit (an LSOA).
        covariates: one column per covariate, one row per unit (no constant).
        exposure: the population at risk of each unit (residents).

    Returns:
        The coefficients and errors by column name (and ``const``).

    Notes:
        Cameron, A. C. & Trivedi, P. K. (2013) Regression Analysis of Count Data, 2nd ed.,
        sections 3.3 (NB2 by maximum likelihood) and 3.4 (the Poisson as its alpha-0 limit).

    Examples:
        >>> rng = np.random.default_rng(3)
        >>> x = pd.DataFrame({"x": rng.standard_normal(400)})
        >>> y = rng.poisson(rng.gamma(2.0, 0.5 * 20 * 1.5 ** x["x"].to_numpy()))
        >>> fit = fit_negative_binomial(y, x, np.full(400, 1000.0))
        >>> r = fit.rate_ratio("x")
        >>> r["ci_low"] < 1.5 < r["ci_high"], 0.3 < fit.alpha < 0.7
        (True, True)
    """
    y = np.asarray(counts, dtype=float)
    x = sm.add_constant(covariates.astype(float), has_constant="add")
    offset = np.log(np.asarray(exposure, dtype=float))
    names = list(x.columns)
    alpha: float | None = None
    with warnings.catch_warnings():
        # the optimiser's convergence chatter; convergence and the covariance are checked here
        warnings.simplefilter("ignore")
        try:
            fit = NegativeBinomial(y, x, loglike_method="nb2", offset=offset).fit(
                disp=0, maxiter=300
            )
            alpha = float(fit.params["alpha"])
            bse = np.asarray(fit.bse[names], dtype=float)
            if fit.mle_retvals.get("converged", True) and np.all(np.isfinite(bse)):
                return CountFit(
                    {n: float(fit.params[n]) for n in names},
                    dict(zip(names, bse.tolist(), strict=True)),
                    alpha,
                    len(y),
                    "negative binomial (NB2)",
                )
        except (ValueError, np.linalg.LinAlgError):
            alpha = None
        if alpha is not None and np.isfinite(alpha) and alpha > 1e-4:
            family = sm.families.NegativeBinomial(alpha=alpha)
            method = "negative binomial (NB2), alpha fixed at its estimate"
        else:
            family, alpha, method = sm.families.Poisson(), 0.0, "Poisson (no over-dispersion)"
        glm = sm.GLM(y, x, family=family, offset=offset).fit()
    return CountFit(
        {n: float(glm.params[n]) for n in names},
        {n: float(glm.bse[n]) for n in names},
        float(alpha),
        len(y),
        method,
    )


def _pick_source(sv: Any, source: str | None) -> str | None:
    if source is not None:
        return source
    present = {r["source"] for r in sv.select("source").distinct().to_pyarrow().to_pylist()}
    return next((s for s in SOURCES if s in present), None)


def _counts(con: Any, definition: Definition, scope: Scope, kind: str, source: str | None):
    """Records of the kind from the source, per LSOA (the engine counts), and the source."""
    sv = serious_violence(con, definition, scope)
    source = _pick_source(sv, source)
    sv = sv.filter(sv.source == source)
    if kind != "all":
        sv = sv.filter(sv.kind == kind)
    records = sv.select("record", "lsoa", "month").distinct()
    per_lsoa = records.group_by("lsoa").aggregate(count=ibis._.count()).to_pandas()
    span = records.aggregate(first=records.month.min(), last=records.month.max()).to_pandas()
    return source, per_lsoa, span.iloc[0]


def _imd(con: Any, codes: list[str]) -> tuple[str | None, pd.DataFrame]:
    """The latest IoD edition's domain scores (one column per domain) for the LSOAs."""
    imd = con.table("ref_imd")
    editions = [r["edition"] for r in imd.select("edition").distinct().to_pyarrow().to_pylist()]
    if not editions:
        return None, pd.DataFrame(index=pd.Index([], name="lsoa21_code"))
    latest = max(editions, key=lambda e: int(e) if e.isdigit() else -1)
    rows = imd.filter(
        imd.edition == latest, imd.domain.isin(list(DOMAINS)), imd.lsoa21_code.isin(codes)
    ).select("lsoa21_code", "domain", "score")
    wide = rows.to_pandas().pivot(index="lsoa21_code", columns="domain", values="score")
    return latest, wide


def _standardise(values: pd.Series) -> tuple[pd.Series, float]:
    sd = float(values.std(ddof=0))
    return (values - values.mean()) / sd, sd


def _row(
    factor: str, label: str, unit: str, model: str, fit: CountFit, name: str, **extra: Any
) -> dict[str, Any]:
    rr = fit.rate_ratio(name)
    out: dict[str, Any] = {"factor": factor, "label": label, "unit": unit, "model": model}
    out |= {k: round(v, 4) if k != "p_value" else float(f"{v:.3g}") for k, v in rr.items()}
    out |= {"lsoas": fit.n, "alpha": round(fit.alpha, 4), "method": fit.method, **extra}
    return out


def _sentence(row: dict[str, Any], what: str) -> str | None:
    """A plain-English sentence for a strong association, ``None`` for the others."""
    rr, lo, hi = row["rate_ratio"], row["ci_low"], row["ci_high"]
    if row["p_value"] >= STRONG_P or 1 / STRONG_RATIO < rr < STRONG_RATIO:
        return None
    ci = f"(95% interval {lo:.2f} to {hi:.2f})"
    across = f"across {row['lsoas']} LSOAs"
    if row["model"] == "adjusted":
        across += ", with the other factors of the adjusted model held equal"
    if row["factor"] == "rural":
        return f"Rural LSOAs have {rr:.2f} times the rate of {what} of urban ones {ci}, {across}."
    if row["factor"] == "density":
        return (
            f"Each doubling of population density goes with {rr:.2f} times the rate of {what} "
            f"{ci}, {across}."
        )
    return (
        f"The rate of {what} is {rr:.2f} times as high {ci} for each standard deviation more "
        f"{row['label'].lower()}, {across}."
    )


def risk_factors(
    con: Any,
    definition: Definition,
    scope: Scope,
    kind: str = "all",
    source: str | None = None,
) -> dict[str, Any]:
    """The association of LSOA serious violence rates with deprivation, rurality and density.

    Each LSOA of the scope's area is one observation: its count of ``kind`` records from one
    ``source`` over the scope's months, with its residents as exposure. Negative binomial (NB2)
    regressions give rate ratios with 95% Wald intervals:

    - ``unadjusted``: one model per factor: each deprivation domain of the latest edition of
      the Indices of Deprivation in ``ref_imd`` (per standard deviation over the area's LSOAs),
      rural against urban (``ref_geography.urban_rural``) and population density (per doubling
      of residents per km²);
    - ``adjusted``: income deprivation, rurality and density together.

    Args:
        con: the warehouse (an Ibis backend).
        definition: the local definition of serious violence.
        scope: the months and area (resolved).
        kind: a kind of the definition, or ``all`` (distinct records of any kind).
        source: whose records to count (``police-crime``, ``police-uk``, ``istv``,
            ``ambulance``, ``fire``); by default the first of these with records in the scope.
            Sources are never added together: one event can be in several.

    Returns:
        ``area, area_name, kind, kind_label, source, months {from, to}, definition_version,
        imd_edition, lsoas, count, count_outside`` (records without a place in the area's
        LSOAs), ``rows`` (one per factor and model: ``factor, label, unit, model, rate_ratio,
        ci_low, ci_high, p_value, lsoas, alpha, method``, and ``sd`` for a domain: one standard
        deviation in the domain's score), ``sentences`` (one per strong association) and
        ``note``. Factors that cannot be estimated (a domain not loaded, an area all urban)
        are left out and the note says why.

    Notes:
        Ecological regression of area counts: Cameron & Trivedi (2013), chapter 3; the domains
        and why the crime domain cannot explain crime: Ministry of Housing, Communities and
        Local Government (2025) English Indices of Deprivation 2025: Technical Report.

    Examples:
        >>> from svduty.analysis.definition import load_definition
        >>> from svduty.analysis.scope import Scope
        >>> sorted(DOMAINS)[:2], "crime" in DOMAINS  # con is a loaded warehouse
        (['education', 'employment'], False)
    """
    kinds = [k.key for k in definition.kinds]
    if kind != "all" and kind not in kinds:
        raise ConfigError(
            f"kind {kind!r} is not in the definition {definition.version}; use all or one of "
            f"{', '.join(kinds)}"
        )
    if source is not None and source not in SOURCES:
        raise ConfigError(f"source {source!r} is not one of {', '.join(SOURCES)}")
    label = "serious violence" if kind == "all" else definition.kind(kind).label
    frame = areas(con, scope)
    source, per_lsoa, span = _counts(con, definition, scope, kind, source)
    edition, imd = _imd(con, frame["lsoa21_code"].tolist())
    notes: list[str] = []
    frame = frame.merge(per_lsoa, left_on="lsoa21_code", right_on="lsoa", how="left")
    frame["count"] = frame["count"].fillna(0).astype(int)
    frame = frame.join(imd, on="lsoa21_code")
    total = int(per_lsoa["count"].sum()) if len(per_lsoa) else 0
    empty = frame["residents"] <= 0
    if empty.any():
        notes.append(f"{int(empty.sum())} LSOA(s) without residents are left out (no exposure)")
    frame = frame[~empty].reset_index(drop=True)
    out: dict[str, Any] = {
        "area": scope.area,
        "area_name": scope.area_name,
        "kind": kind,
        "kind_label": "Serious violence (any kind)" if kind == "all" else label,
        "source": source,
        "months": {
            "from": month_label(scope.start or span["first"]) if pd.notna(span["first"]) else None,
            "to": month_label(scope.end or span["last"]) if pd.notna(span["last"]) else None,
        },
        "definition_version": definition.version,
        "imd_edition": edition,
        "lsoas": len(frame),
        "count": int(frame["count"].sum()),
        "count_outside": total - int(frame["count"].sum()),
        "rows": [],
        "sentences": [],
    }
    what = "serious violence" if kind == "all" else label.lower()
    if len(frame) < 10 or frame["count"].sum() == 0:
        notes.append(
            f"{len(frame)} LSOA(s) and {int(frame['count'].sum())} record(s): too few to model"
        )
        out["note"] = "; ".join(notes)
        return out
    y, exposure = frame["count"].to_numpy(), frame["residents"].to_numpy(dtype=float)
    frame["rural"] = (frame["urban_rural"] == "Rural").astype(float)
    frame["density"] = np.log2(frame["residents"] / frame["area_km2"])
    rows: list[dict[str, Any]] = []
    for domain, name in DOMAINS.items():
        if domain not in frame or frame[domain].isna().all():
            notes.append(f"{name.lower()} is not loaded (no {edition or 'IoD'} domain scores)")
            continue
        ok = frame[domain].notna().to_numpy()
        z, sd = _standardise(frame.loc[ok, domain])
        if not sd > 0:
            notes.append(f"{name.lower()} does not vary across the area's LSOAs")
            continue
        fit = fit_negative_binomial(y[ok], z.to_frame(domain), exposure[ok])
        unit = "per standard deviation of the domain score over the area's LSOAs"
        rows.append(_row(domain, name, unit, "unadjusted", fit, domain, sd=float(f"{sd:.4g}")))
    usable = {"rural": frame["rural"].nunique() > 1, "density": frame["area_km2"].gt(0).all()}
    if not usable["rural"]:
        notes.append("every LSOA of the area is in one rural-urban class: rurality not estimated")
    if not usable["density"]:
        notes.append("an LSOA has no land area: density not estimated")
    specs = {
        "rural": ("Rural (against urban)", "rural LSOAs against urban ones"),
        "density": ("Population density", "per doubling of residents per km²"),
    }
    for factor, (name, unit) in specs.items():
        if usable[factor]:
            fit = fit_negative_binomial(y, frame[[factor]], exposure)
            rows.append(_row(factor, name, unit, "unadjusted", fit, factor))
    if "income" in frame and frame["income"].notna().any():
        ok = frame["income"].notna().to_numpy()
        sub = frame[ok]
        z, sd = _standardise(sub["income"])
        cov = pd.DataFrame({"income": z})
        for factor in ("rural", "density"):
            if usable[factor]:
                cov[factor] = sub[factor]
        fit = fit_negative_binomial(y[ok], cov, exposure[ok])
        for factor in cov.columns:
            name, unit = specs.get(
                factor,
                (DOMAINS["income"], "per standard deviation of the domain score over the "
                 "area's LSOAs"),
            )  # fmt: skip
            extra = {"sd": float(f"{sd:.4g}")} if factor == "income" else {}
            rows.append(_row(factor, name, unit, "adjusted", fit, factor, **extra))
    out["rows"] = rows
    out["sentences"] = [s for r in rows if (s := _sentence(r, what))]
    months = out["months"]
    notes.insert(
        0,
        f"Negative binomial (NB2) regressions of {out['lsoas']} LSOAs' counts of {what} "
        f"({source}, {months['from']} to {months['to']}, definition {definition.version}) with "
        "log(residents) as offset; rate ratios with 95% intervals. Unadjusted: one model per "
        "factor; adjusted: income deprivation, rurality and density together. Deprivation: "
        f"the domain scores of the Indices of Deprivation {edition}, per standard deviation "
        "over the area's LSOAs. The crime domain is left out because it counts the same "
        "crimes, and so is the overall IMD score, because it includes the crime domain. "
        f"A strong association: a ratio of {STRONG_RATIO} or more (or {1 / STRONG_RATIO:.2f} "
        f"or less) with p < {STRONG_P}. Association is not cause: deprived places differ in "
        "many ways at once (town centres, for one, concentrate both deprivation and the "
        "night-time economy), and an area-level association says nothing about individuals.",
    )
    if out["count_outside"]:
        notes.append(
            f"{out['count_outside']} record(s) without an LSOA of the area are not in the models"
        )
    out["note"] = " ".join([notes[0], *(n[0].upper() + n[1:] + "." for n in notes[1:])])
    return out
