"""Loading the reference files laid out as ONS and MHCLG publish them.

The folder follows ``../shared/data``: ``geography/``, ``lookups/``, ``population/``, ``imd/``.
Where a dataset is found both for the whole country and for a subset, the larger file is used
(the reference *area* is always the LSOAs of the boundary file). All tables are replaced in one
atomic commit, with one load record per file.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from svduty.errors import ReferenceDataError
from svduty.ingest.records import LoadResult
from svduty.warehouse import Replace, commit

log = logging.getLogger(__name__)

LSOA21 = r"^[EW]01[0-9]{6}$"
ENGLAND_LSOA11 = 32_844  # LSOAs in England, 2011 definitions: the denominator of IoD 2019 ranks
AGE_BANDS = {
    "Aged 15 years and under": "0-15",
    "Aged 16 to 24 years": "16-24",
    "Aged 25 to 34 years": "25-34",
    "Aged 35 to 49 years": "35-49",
    "Aged 50 to 64 years": "50-64",
    "Aged 65 years and over": "65+",
}
DOMAINS_2025 = {
    "IMD": "imd",
    "Income": "income",
    "Employment": "employment",
    "Education": "education",
    "Health": "health",
    "Crime": "crime",
    "Housing_and_Services": "housing_and_services",
    "Environment": "environment",
}
DOMAINS_2019 = {
    "index_of_multiple_deprivation_imd": "imd",
    "income": "income",
    "employment": "employment",
    "education_skills_and_training": "education",
    "health_deprivation_and_disability": "health",
    "crime": "crime",
    "barriers_to_housing_and_services": "housing_and_services",
    "living_environment": "environment",
}


@dataclass(frozen=True)
class ReferenceFile:
    """A reference dataset: where it is found and the columns it must have."""

    key: str
    folder: str
    patterns: tuple[str, ...]
    columns: tuple[str, ...]
    required: bool
    description: str


REFERENCE_FILES = (
    ReferenceFile(
        "boundaries",
        "geography",
        ("lsoa21*.geojson",),
        ("lsoa21_code", "lsoa21_name"),
        True,
        "LSOA 2021 boundaries (GeoJSON, WGS84); their LSOAs are the reference area",
    ),
    ReferenceFile(
        "wards",
        "lookups",
        ("lsoa21_ward24_ltla24*.csv*",),
        ("lsoa21_code", "lsoa21_name", "ward24_code", "ward24_name", "ltla24_code", "ltla24_name"),
        True,
        "LSOA 2021 -> ward 2024 -> local authority 2024",
    ),
    ReferenceFile(
        "csp",
        "lookups",
        ("ltla24_csp24_pfa24*.csv*",),
        ("ltla24_code", "ltla24_name", "csp24_code", "csp24_name", "pfa24_code", "pfa24_name"),
        True,
        "local authority 2024 -> community safety partnership -> police force area",
    ),
    ReferenceFile(
        "lsoa11_lsoa21",
        "lookups",
        ("lsoa11_lsoa21*.csv*",),
        ("lsoa11_code", "lsoa21_code", "change_code"),
        True,
        "LSOA 2011 -> LSOA 2021",
    ),
    ReferenceFile(
        "rurality",
        "lookups",
        ("ruc21_lsoa21*.csv*",),
        ("lsoa21_code", "ruc21_code", "ruc"),
        False,
        "2021 rural-urban classification by LSOA 2021",
    ),
    ReferenceFile(
        "population",
        "population",
        ("census2021_lsoa21_age6*.csv*",),
        ("lsoa21_code", "age_group", "usual_residents"),
        True,
        "Census 2021 usual residents by LSOA 2021 and six age bands",
    ),
    ReferenceFile(
        "imd2025",
        "imd",
        ("imd2025_*lsoa21.csv*",),
        ("lsoa21_code", *(f"{d}_{m}" for d in DOMAINS_2025 for m in ("score", "rank", "decile"))),
        True,
        "English Indices of Deprivation 2025 (LSOA 2021): scores, ranks, deciles",
    ),
    ReferenceFile(
        "imd2019",
        "imd",
        ("iod2019_*lsoa11_ranks_deciles.csv*",),
        ("lsoa11_code", *(f"{d}_{m}" for d in DOMAINS_2019 for m in ("rank", "decile"))),
        False,
        "English Indices of Deprivation 2019 (LSOA 2011): ranks, deciles",
    ),
)


def find_reference_file(root: Path, spec: ReferenceFile) -> Path | None:
    """The file for ``spec`` under ``root``: the largest match (national rather than a subset)."""
    folder = root / spec.folder
    matches = sorted({p for pattern in spec.patterns for p in folder.glob(pattern) if p.is_file()})
    matches = [p for p in matches if "indicators" not in p.name and "subdomains" not in p.name]
    if not matches:
        return None
    return max(matches, key=lambda p: (p.stat().st_size, p.name))


def _read_csv(path: Path, spec: ReferenceFile) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError) as e:
        raise ReferenceDataError(
            f"{path}: cannot be read as CSV ({e}); expected {spec.description}"
        ) from e
    missing = [c for c in spec.columns if c not in df.columns]
    if missing:
        raise ReferenceDataError(
            f"{path}: missing column(s) {', '.join(missing)}; expected {spec.description} "
            f"with columns {', '.join(spec.columns)}"
        )
    return df


def _check_codes(path: Path, df: pd.DataFrame, column: str, pattern: str) -> None:
    bad = ~df[column].str.match(pattern)
    if bad.any():
        first = int(bad.to_numpy().argmax()) + 2
        raise ReferenceDataError(
            f"{path}: column {column}, row {first}: {int(bad.sum())} value(s) are not codes "
            f"matching {pattern}"
        )


def _numbers(path: Path, df: pd.DataFrame, column: str) -> pd.Series:
    values = pd.to_numeric(df[column].replace("", None), errors="coerce")
    bad = values.isna() & (df[column] != "")
    if bad.any():
        first = int(bad.to_numpy().argmax()) + 2
        raise ReferenceDataError(f"{path}: column {column}, row {first}: not a number")
    return values


def _boundaries(path: Path) -> pa.Table:
    import geopandas as gpd
    import shapely

    try:
        gdf = gpd.read_file(path)
    except Exception as e:  # pyogrio raises its own DataSourceError
        raise ReferenceDataError(f"{path}: not a readable GeoJSON file ({e})") from e
    for col in ("lsoa21_code", "lsoa21_name"):
        if col not in gdf.columns:
            raise ReferenceDataError(
                f"{path}: the features have no property {col}; expected LSOA 2021 boundaries "
                "with properties lsoa21_code and lsoa21_name"
            )
    _check_codes(path, gdf, "lsoa21_code", LSOA21)
    if gdf.crs is not None and gdf.crs.to_epsg() not in (4326, None):
        gdf = gdf.to_crs(4326)
    projected = gdf.to_crs(27700)  # British National Grid: metres, for area and centroid
    centroids = projected.geometry.centroid.to_crs(4326)
    return pa.table(
        {
            "lsoa21_code": gdf["lsoa21_code"].astype(str),
            "lsoa21_name": gdf["lsoa21_name"].astype(str),
            "centroid_lon": centroids.x.round(6),
            "centroid_lat": centroids.y.round(6),
            "area_km2": (projected.geometry.area / 1e6).round(6),
            "geometry": [shapely.to_geojson(g) for g in gdf.geometry],
        }
    )


def _geography(files: dict[str, Path], frames: dict[str, pd.DataFrame]) -> pa.Table:
    wards = frames["wards"]
    _check_codes(files["wards"], wards, "lsoa21_code", LSOA21)
    csp = frames["csp"][
        ["ltla24_code", "ltla24_name", "csp24_code", "csp24_name", "pfa24_code", "pfa24_name"]
    ]
    csp = _one_csp_per_authority(csp)
    geo = wards[
        ["lsoa21_code", "lsoa21_name", "ward24_code", "ward24_name", "ltla24_code", "ltla24_name"]
    ].merge(csp.drop(columns="ltla24_name"), on="ltla24_code", how="left")
    missing = geo["csp24_code"].isna()
    if missing.any():
        las = ", ".join(sorted(set(geo.loc[missing, "ltla24_code"]))[:5])
        raise ReferenceDataError(
            f"{files['csp']}: local authorities {las} of {files['wards']} have no community "
            "safety partnership; are the two lookups of the same year (2024)?"
        )
    if "rurality" in frames:
        ruc = frames["rurality"]
        ruc = ruc.rename(columns={"classification": "ruc21_class", "ruc": "urban_rural"})
        if "ruc21_class" not in ruc.columns:
            ruc["ruc21_class"] = None
        geo = geo.merge(
            ruc[["lsoa21_code", "ruc21_code", "ruc21_class", "urban_rural"]],
            on="lsoa21_code",
            how="left",
        )
    else:
        geo["ruc21_code"] = geo["ruc21_class"] = geo["urban_rural"] = None
    return pa.Table.from_pandas(geo, preserve_index=False)


def _one_csp_per_authority(csp: pd.DataFrame) -> pd.DataFrame:
    """A few unitary authorities (e.g. Buckinghamshire) list several legacy partnerships, and no
    LSOA-level lookup says which LSOA is in which; such an authority is its own partnership area."""
    counts = csp.groupby("ltla24_code")["csp24_code"].transform("nunique")
    several = csp[counts > 1].drop_duplicates("ltla24_code").copy()
    if len(several):
        log.warning(
            "%d local authorities list several community safety partnerships (%s...); each is "
            "used as its own partnership area",
            len(several),
            ", ".join(several["ltla24_code"].head(3)),
        )
        several["csp24_code"] = several["ltla24_code"]
        several["csp24_name"] = several["ltla24_name"]
    return pd.concat([csp[counts == 1], several], ignore_index=True)


def _population(path: Path, df: pd.DataFrame) -> pa.Table:
    _check_codes(path, df, "lsoa21_code", LSOA21)
    unknown = sorted(set(df["age_group"]) - set(AGE_BANDS))
    if unknown:
        raise ReferenceDataError(
            f"{path}: column age_group has unexpected value(s) {unknown[:3]}; expected the six "
            f"Census 2021 bands {list(AGE_BANDS)}"
        )
    residents = _numbers(path, df, "usual_residents")
    return pa.table(
        {
            "lsoa21_code": df["lsoa21_code"],
            "age_band": df["age_group"].map(AGE_BANDS),
            "residents": residents.astype("int64"),
        }
    )


def _imd2025(path: Path, df: pd.DataFrame) -> pa.Table:
    _check_codes(path, df, "lsoa21_code", LSOA21)
    parts = []
    for col, domain in DOMAINS_2025.items():
        parts.append(
            pd.DataFrame(
                {
                    "edition": "2025",
                    "lsoa21_code": df["lsoa21_code"],
                    "domain": domain,
                    "score": _numbers(path, df, f"{col}_score").astype(float),
                    "rank": _numbers(path, df, f"{col}_rank").astype(float),
                    "decile": _numbers(path, df, f"{col}_decile").astype("int64"),
                    "bridged_from": 1,
                }
            )
        )
    return pa.Table.from_pandas(pd.concat(parts), preserve_index=False)


def _imd2019(path: Path, df: pd.DataFrame, lookup: pd.DataFrame) -> pa.Table:
    """IoD 2019 ranks bridged to 2021 LSOAs: the mean rank of the 2011 LSOAs each 2021 LSOA
    came from (one for unchanged or split LSOAs, several for merged ones), its decile recomputed
    from that rank over England's 32,844 LSOAs."""
    long = []
    for col, domain in DOMAINS_2019.items():
        long.append(
            pd.DataFrame(
                {
                    "lsoa11_code": df["lsoa11_code"],
                    "domain": domain,
                    "rank": _numbers(path, df, f"{col}_rank").astype(float),
                }
            )
        )
    ranks = pd.concat(long).merge(lookup[["lsoa11_code", "lsoa21_code"]], on="lsoa11_code")
    out = ranks.groupby(["lsoa21_code", "domain"], as_index=False).agg(
        rank=("rank", "mean"), bridged_from=("lsoa11_code", "nunique")
    )
    out["decile"] = out["rank"].map(lambda r: min(10, max(1, math.ceil(r / (ENGLAND_LSOA11 / 10)))))
    out["edition"] = "2019"
    out["score"] = float("nan")
    cols = ["edition", "lsoa21_code", "domain", "score", "rank", "decile", "bridged_from"]
    return pa.Table.from_pandas(out[cols], preserve_index=False)


def load_reference(con: Any, root: Path) -> list[LoadResult]:
    """Load every reference dataset found under ``root`` into the warehouse, atomically.

    Raises:
        ReferenceDataError: a required file is missing, or a file is not as expected; the
            message names the file and what was expected. Nothing is loaded then.
    """
    if not root.is_dir():
        raise ReferenceDataError(f"{root}: no such folder; expected the reference data folder")
    files: dict[str, Path] = {}
    for spec in REFERENCE_FILES:
        path = find_reference_file(root, spec)
        if path is None:
            if spec.required:
                raise ReferenceDataError(
                    f"{root / spec.folder}: no file matching {' or '.join(spec.patterns)}; "
                    f"expected {spec.description}"
                )
            log.info("no %s file (%s) under %s: skipped", spec.key, spec.patterns[0], root)
            continue
        files[spec.key] = path
    specs = {s.key: s for s in REFERENCE_FILES}
    frames = {
        key: _read_csv(path, specs[key]) for key, path in files.items() if key != "boundaries"
    }
    lsoa = _boundaries(files["boundaries"])
    geography = _geography(files, frames)
    area = set(lsoa["lsoa21_code"].to_pylist())
    unmatched = area - set(geography["lsoa21_code"].to_pylist())
    if unmatched:
        raise ReferenceDataError(
            f"{files['wards']}: {len(unmatched)} LSOA(s) of {files['boundaries']} are not in it "
            f"(e.g. {sorted(unmatched)[0]}); are both LSOA 2021 files?"
        )
    population = _population(files["population"], frames["population"])
    no_pop = area - set(population["lsoa21_code"].to_pylist())
    if no_pop:
        raise ReferenceDataError(
            f"{files['population']}: no population for {len(no_pop)} LSOA(s) of the boundaries "
            f"(e.g. {sorted(no_pop)[0]}); expected Census 2021 on LSOA 2021"
        )
    lookup = frames["lsoa11_lsoa21"]
    imd = [_imd2025(files["imd2025"], frames["imd2025"])]
    if "imd2019" in files:
        imd.append(_imd2019(files["imd2019"], frames["imd2019"], lookup))
    bridge = pa.table(
        {
            "lsoa11_code": lookup["lsoa11_code"],
            "lsoa21_code": lookup["lsoa21_code"],
            "change_code": lookup["change_code"],
        }
    )
    tables = {
        "ref_lsoa": lsoa,
        "ref_geography": geography,
        "ref_population": population,
        "ref_lsoa11_lsoa21": bridge,
        "ref_imd": pa.concat_tables([t.cast(imd[0].schema) for t in imd]),
    }
    changes = [Replace(name, {}, data) for name, data in tables.items()]
    results = []
    for key, path in files.items():
        data = path.read_bytes()
        rows = len(frames[key]) if key in frames else lsoa.num_rows
        result = LoadResult(
            source=str(path),
            file_name=path.name,
            feed=f"reference-{key}",
            status="loaded",
            sha256=hashlib.sha256(data).hexdigest(),
            rows_read=rows,
            rows_loaded=rows,
            message=specs[key].description,
            month=None,
        )
        results.append(result)
        changes.append(Replace("loads", {"load_seq": result.load_seq}, result.to_table()))
    commit(con, changes)
    log.info("reference data loaded from %s at %s", root, _dt.datetime.now(_dt.UTC).isoformat())
    return results
