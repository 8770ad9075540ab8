"""Cohort evaluation: did the young people a project took on become less involved in violence
than similar young people it did not take on?

The providers' participant lists (the ``participants`` feed) are linked to the partners' records
by :mod:`svduty.linkage` like any other feed, so a participant is a pseudonymous person key and
their history is what the partners recorded about that key. For each participant, on the date
of their referral (the *index date*):

1. **History.** Their records in the ``lookback`` months before (police recorded crime as victim
   or suspect, ED attendances after assault, youth justice, school suspensions and exclusions,
   children's social care, probation). Only participants the partners knew before referral can
   be evaluated: a young person unknown to every agency has no comparison the warehouse can see
   (everybody it sees is somebody an agency recorded). How many were left out is reported.
2. **Matching.** Up to ``ratio`` comparison people, drawn (reproducibly, by a seeded draw over
   the sorted person keys) from the young people *never referred to any project* who, on the same
   index date, were known to a partner in the same lookback, of the same sex, living in the same
   partnership area (their latest recorded home LSOA), of the same age within a year, with the
   same number of police-recorded crimes in the lookback (0, 1, 2, 3 or more). Participants
   without any such match are reported and left out. Balance on the history (standardised mean
   differences) is reported so a reader can see how alike the groups are.
3. **Outcomes.** Police recorded crime naming the person (victim or suspect) and ED attendances
   after assault in the ``h`` months from the index date (``h`` in ``horizons``, 6 and 12), for
   the people whose whole follow-up lies inside the data loaded.
4. **Estimate.** The relative change in the mean number of involvements: participants' total
   divided by the total their matched sets would predict (each participant's comparison mean),
   minus one (-0.3 is 30% less). The interval is a percentile bootstrap that resamples both the
   participants and the comparison people (one comparison person may serve several
   participants), with a fixed seed so the same data gives the same interval.

What this cannot do: matching on recorded history removes the differences the records show, not
those they do not (a provider may refer the young people most willing to change). It is an
observational comparison, weaker than a randomised trial; docs/evaluation.md says how to read it.
People are counted, never scored: no output names or ranks a person.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import numpy as np
import pandas as pd

from svduty.analysis.cohorts import _FEEDS, linkage_keys
from svduty.errors import SvdutyError

HORIZONS = (6, 12)
LOOKBACK_MONTHS = 6
RATIO = 5
BOOTSTRAP = 2000
SEED = 20240701
MIN_PARTICIPANTS = 20
MIN_EVENTS = 10
OUTCOMES = {
    "police": "police recorded crimes naming the person (victim or suspect)",
    "ed": "emergency department attendances after an assault",
}
_HISTORY = ("police-crime", "istv", "youth-justice", "education", "social-care", "probation")


class CohortError(ValueError, SvdutyError):
    """The cohort evaluation cannot run (no participants feed, no linkage)."""


def _records(con: Any) -> pd.DataFrame:
    """Every person-level record of the history feeds with its linked person:
    ``person, feed, date, role, age, sex, home``."""
    keys = linkage_keys(con)
    if keys is None:
        raise CohortError("people have not been linked yet: run `svduty link` first")
    tables = set(con.list_tables())
    parts = []
    for feed in _HISTORY:
        table, when, _ = _FEEDS[feed]
        if table not in tables:
            continue
        t = con.table(table)
        parts.append(
            t.select(
                feed=ibis.literal(feed),
                record=t.record_key,
                pk=t.person_key.fill_null(""),
                date=t[when].cast("date"),
                role=t.role.lower() if feed == "police-crime" else ibis.null("string"),
                age=t.age_at_event.cast("float64"),
                sex=t.sex,
                home=t.home_lsoa,
            )
        )
    if not parts:
        raise CohortError("no person-level partner feed has been loaded")
    union = ibis.union(*parts, distinct=False)
    k = keys.select(
        k_feed=keys.feed, k_record=keys.record_key, k_pk=keys.person_key.fill_null(""),
        person=keys.linked_key,
    )  # fmt: skip
    joined = union.inner_join(
        k, (union.feed == k.k_feed) & (union.record == k.k_record) & (union.pk == k.k_pk)
    )
    out = joined.select("person", "feed", "date", "role", "age", "sex", "home").to_pandas()
    out["date"] = pd.to_datetime(out["date"])
    return out.sort_values(["date", "person", "feed"], kind="stable").reset_index(drop=True)


def _participants(con: Any) -> pd.DataFrame:
    """Every referral with its linked person: ``project, person, index, age, sex, home``."""
    if "feed_participants" not in con.list_tables():
        raise CohortError(
            "no participant lists have been loaded: providers' lists are the `participants` "
            "feed (svduty ingest participants FILE), then `svduty link`"
        )
    keys = linkage_keys(con)
    if keys is None:
        raise CohortError("people have not been linked yet: run `svduty link` first")
    t = con.table("feed_participants")
    k = keys.filter(keys.feed == "participants")
    j = t.inner_join(
        k,
        (t.record_key == k.record_key) & (t.person_key.fill_null("") == k.person_key.fill_null("")),
    )
    out = j.select(
        project=j.project_ref, person=j.linked_key, index=j.referral_date.cast("date"),
        age=j.age_at_event.cast("float64"), sex=j.sex, home=j.home_lsoa,
    ).to_pandas()  # fmt: skip
    out["index"] = pd.to_datetime(out["index"])
    return out


def _csp(con: Any) -> dict[str, str]:
    geo = con.table("ref_geography").select("lsoa21_code", "csp24_code").to_pandas()
    return dict(zip(geo["lsoa21_code"], geo["csp24_code"], strict=True))


def _band(n: np.ndarray) -> np.ndarray:
    return np.minimum(n, 3)


def _history(records: pd.DataFrame, day: pd.Timestamp, lookback: int, csp: dict) -> pd.DataFrame:
    """Each person known in the ``lookback`` months before ``day``: their prior counts and, from
    their latest record, sex, age on ``day`` and partnership area."""
    lo = day - pd.DateOffset(months=lookback)
    w = records[(records["date"] >= lo) & (records["date"] < day)]
    if w.empty:
        return pd.DataFrame()
    feed = w["feed"]
    flags = pd.DataFrame(
        {
            "person": w["person"],
            "police": (feed == "police-crime").astype(int),
            "ed": feed == "istv",
            "youth_justice": feed == "youth-justice",
            "education": feed == "education",
            "social_care": feed == "social-care",
        }
    )
    out = flags.groupby("person", sort=True).agg(
        {"police": "sum", "ed": "max", "youth_justice": "max", "education": "max",
         "social_care": "max"}
    )  # fmt: skip
    last = w.drop_duplicates("person", keep="last").set_index("person").sort_index()
    years = (day - last["date"]).dt.days / 365.25
    out["age"] = np.floor(last["age"] + years)
    out["sex"] = last["sex"]
    out["area"] = last["home"].map(csp)
    return out


def _follow(records: pd.DataFrame, people: np.ndarray, days: np.ndarray, months: int) -> dict:
    """Involvements of each (person, index day) in the ``months`` from the day: by outcome."""
    frame = pd.DataFrame({"person": people, "day": pd.to_datetime(days), "row": range(len(people))})
    ev = records[records["feed"].isin(["police-crime", "istv"])]
    m = frame.merge(ev[["person", "feed", "date"]], on="person", how="left")
    end = m["day"] + pd.DateOffset(months=months)
    inside = (m["date"] >= m["day"]) & (m["date"] < end)
    out = {}
    for name, feed in (("police", "police-crime"), ("ed", "istv")):
        hit = m[inside & (m["feed"] == feed)]
        out[name] = np.bincount(hit["row"].to_numpy(), minlength=len(people)).astype(float)
    return out


def _smd(a: np.ndarray, b: np.ndarray) -> float | None:
    """The standardised mean difference of a history measure."""
    if not len(a) or not len(b):
        return None
    sd = np.sqrt((np.var(a) + np.var(b)) / 2)
    return round(float((np.mean(a) - np.mean(b)) / sd), 3) if sd > 0 else 0.0


def _ratio_ci(
    y: np.ndarray,
    pair_row: np.ndarray,
    pair_person: np.ndarray,
    yc: np.ndarray,
    alpha: float,
    rng: np.random.Generator,
    reps: int,
) -> tuple[float | None, float | None, float | None, np.ndarray]:
    """Relative change ``sum(y) / sum(comparison means) - 1`` and its interval.

    ``y`` is each participant's outcome; the pairs (``pair_row`` indexes ``y``) give each
    comparison's person and outcome. The interval is a two-way bootstrap: participants and
    comparison people are both resampled (Poisson weights), because one comparison person can
    serve several participants, which a bootstrap over participants alone would ignore.
    """
    n = len(y)
    counts = np.bincount(pair_row, minlength=n)
    cmean = np.bincount(pair_row, weights=yc, minlength=n) / np.maximum(counts, 1)
    if cmean.sum() <= 0:
        return None, None, None, cmean
    est = y.sum() / cmean.sum() - 1
    _, person_idx = np.unique(pair_person, return_inverse=True)
    wp = rng.poisson(1.0, (reps, n)).astype(float)
    wc = rng.poisson(1.0, (reps, person_idx.max() + 1)).astype(float)[:, person_idx]
    num = np.zeros((reps, n))
    den = np.zeros((reps, n))
    np.add.at(num.T, pair_row, (wc * yc).T)
    np.add.at(den.T, pair_row, wc.T)
    boot_c = np.where(den > 0, num / np.where(den > 0, den, 1), cmean)
    top, bottom = (wp * y).sum(axis=1), (wp * boot_c).sum(axis=1)
    ok = bottom > 0
    lo, hi = np.quantile(top[ok] / bottom[ok] - 1, [alpha / 2, 1 - alpha / 2])
    return round(float(est), 4), round(float(lo), 4), round(float(hi), 4), cmean


def evaluate_cohort(
    con: Any,
    reference: str,
    *,
    horizons: tuple[int, ...] = HORIZONS,
    lookback: int = LOOKBACK_MONTHS,
    ratio: int = RATIO,
    alpha: float = 0.05,
    seed: int = SEED,
    reps: int = BOOTSTRAP,
) -> dict[str, Any]:
    """Compare a project's participants with a matched comparison group (see the module).

    Args:
        con: the warehouse.
        reference: the project's reference (the ``Project Reference`` of its participant list).
        horizons: follow-up periods in months.
        lookback: months of history before referral used to match.
        ratio: comparison people per participant, at most.
        alpha: 1 - the interval's confidence.
        seed: seeds the matching draw and the bootstrap.
        reps: bootstrap replicates.

    Returns:
        ``supported`` (bool) and ``reasons``; ``participants`` (listed, linked, known before
        referral, matched); ``comparison`` (people, ratio); ``balance`` (history means and
        standardised differences); ``outcomes``: per outcome and horizon ``estimate``,
        ``ci_low``, ``ci_high`` (relative changes), the means and the people counted.
    """
    refs = _participants(con)
    mine = refs[refs["project"] == reference].sort_values(["index", "person"], kind="stable")
    result: dict[str, Any] = {
        "intervention": reference,
        "method": "matched comparison (exact on sex, area, age within a year and police "
        f"records in the {lookback} months before referral), two-way bootstrap "
        f"{int((1 - alpha) * 100)}% intervals (participants and comparison people)",
        "lookback_months": lookback,
        "outcomes_measured": OUTCOMES,
        "participants": {"listed": int(len(mine))},
        "supported": False,
        "reasons": [],
        "outcomes": [],
    }
    if mine.empty:
        result["reasons"].append(
            f"no participant list has been loaded for {reference}: the provider's list is the "
            "`participants` feed"
        )
        return result
    records = _records(con)
    csp = _csp(con)
    referred = set(refs["person"])
    data_end = (records["date"].max().to_period("M") + 1).to_timestamp()  # the day after
    rng = np.random.default_rng(seed)
    pairs: list[tuple[int, str, pd.Timestamp]] = []  # (participant row, comparison, day)
    matched_rows: list[int] = []
    known = 0
    hist_p, hist_c = [], []
    mine = mine.drop_duplicates("person").reset_index(drop=True)
    for day, group in mine.groupby("index", sort=True):
        hist = _history(records, day, lookback, csp)
        if hist.empty:
            continue
        pool = hist[~hist.index.isin(referred)]
        for row in group.itertuples():
            if row.person not in hist.index:
                continue
            known += 1
            h = hist.loc[row.person]
            age = row.age if pd.notna(row.age) else h["age"]
            area = csp.get(row.home) or h["area"]
            sex = row.sex if isinstance(row.sex, str) and row.sex else h["sex"]
            cand = pool[
                (pool["sex"] == sex)
                & (pool["area"] == area)
                & ((pool["age"] - age).abs() <= 1)
                & (_band(pool["police"].to_numpy()) == _band(np.array([h["police"]]))[0])
            ]
            if cand.empty:
                continue
            chosen = sorted(cand.index)
            if len(chosen) > ratio:
                pick = rng.choice(len(chosen), ratio, replace=False)
                chosen = [chosen[i] for i in sorted(pick)]
            matched_rows.append(row.Index)
            hist_p.append(h)
            hist_c.extend(pool.loc[c] for c in chosen)
            pairs.extend((row.Index, c, day) for c in chosen)
    result["participants"] |= {
        "linked": int(mine["person"].notna().sum()),
        "known_before_referral": known,
        "matched": len(matched_rows),
        "not_known_before_referral": int(len(mine) - known),
        "known_but_unmatched": int(known - len(matched_rows)),
    }
    comparisons = {c for _, c, _ in pairs}
    result["comparison"] = {"people": len(comparisons), "ratio": ratio, "pairs": len(pairs)}
    if len(matched_rows) < MIN_PARTICIPANTS:
        result["reasons"].append(
            f"only {len(matched_rows)} participants could be matched; at least "
            f"{MIN_PARTICIPANTS} are needed for an estimate"
        )
        return result
    result["balance"] = _balance(pd.DataFrame(hist_p), pd.DataFrame(hist_c))
    part = mine.loc[matched_rows]
    pair = pd.DataFrame(pairs, columns=["row", "person", "day"])
    for h in horizons:
        full_p = part[part["index"] + pd.DateOffset(months=h) <= data_end]
        if len(full_p) < MIN_PARTICIPANTS:
            result["reasons"].append(
                f"{h}-month follow-up: only {len(full_p)} matched participants were referred "
                f"{h} months or more before the end of the data ({data_end.date()})"
            )
            continue
        y = _follow(records, full_p["person"].to_numpy(), full_p["index"].to_numpy(), h)
        pp = pair[pair["row"].isin(full_p.index)]
        yc = _follow(records, pp["person"].to_numpy(), pp["day"].to_numpy(), h)
        rows = pd.Index(full_p.index).get_indexer(pp["row"].to_numpy())
        for name in OUTCOMES:
            est, lo, hi, cmean = _ratio_ci(
                y[name], rows, pp["person"].to_numpy(), yc[name], alpha, rng, reps
            )
            cmean_any = np.bincount(rows, weights=yc[name] > 0, minlength=len(full_p))
            cmean_any = cmean_any / np.maximum(np.bincount(rows, minlength=len(full_p)), 1)
            entry = {
                "outcome": name,
                "horizon_months": h,
                "participants": int(len(full_p)),
                "comparison_pairs": int(len(pp)),
                "participant_events": int(y[name].sum()),
                "participant_mean": round(float(y[name].mean()), 4),
                "comparison_mean": round(float(cmean.mean()), 4),
                "participant_share_any": round(float((y[name] > 0).mean()), 4),
                "comparison_share_any": round(float(cmean_any.mean()), 4),
                "estimate": est,
                "ci_low": lo,
                "ci_high": hi,
            }
            expected = float(cmean.sum())
            if expected < MIN_EVENTS:
                entry["estimate"] = entry["ci_low"] = entry["ci_high"] = None
                entry["reason"] = (
                    f"the comparison group predicts only {expected:.1f} {OUTCOMES[name]} among "
                    f"the participants: too few to estimate a change"
                )
            result["outcomes"].append(entry)
    result["supported"] = any(o["estimate"] is not None for o in result["outcomes"])
    if not result["supported"] and not result["reasons"]:
        result["reasons"].append("too few events to estimate any outcome")
    result["data_end"] = str((data_end - pd.Timedelta(days=1)).date())
    return result


def _balance(p: pd.DataFrame, c: pd.DataFrame) -> list[dict[str, Any]]:
    """Participants' and comparisons' history, side by side."""
    rows = []
    for col, label in (
        ("police", "police recorded crimes in the lookback (mean)"),
        ("ed", "ED attendance after assault (share)"),
        ("youth_justice", "known to youth justice (share)"),
        ("education", "suspended or excluded (share)"),
        ("social_care", "known to children's social care (share)"),
        ("age", "age at referral (mean)"),
    ):
        a = p[col].astype(float).to_numpy()
        b = c[col].astype(float).to_numpy()
        rows.append(
            {
                "measure": label,
                "participants": round(float(a.mean()), 3),
                "comparison": round(float(b.mean()), 3),
                "smd": _smd(a, b),
            }
        )
    return rows


def index_dates(con: Any, reference: str) -> list[dt.date]:
    """The referral dates of a project's participants (for reports)."""
    refs = _participants(con)
    return sorted(refs.loc[refs["project"] == reference, "index"].dt.date.unique())
