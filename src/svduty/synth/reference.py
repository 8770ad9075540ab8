"""The county's reference files, laid out and named as ONS and MHCLG publish them, so that
``svduty reference load`` reads them as it reads the real ones."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path

from svduty.synth.place import AGE_GROUPS, IMD_DOMAINS, PFA, TOWNS, Place

# Rural-urban classes in the style of the 2021 classification, by urbanity.
_RUC = (
    (0.3, "UN1", "Urban: Nearer to a major town or city", "Urban"),
    (0.1, "RLN1", "Larger rural: Nearer to a major town or city", "Rural"),
    (-1.0, "RSN1", "Smaller rural: Nearer to a major town or city", "Rural"),
)


def _write_csv(path: Path, header: list[str], rows: Iterable[list[object]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def write_reference(out: Path, place: Place) -> dict[str, int]:
    """Write ``out/reference/``: boundaries, lookups, population, deprivation, rurality.

    Returns:
        Rows written per file (features for the boundaries), keyed by path under ``out``.
    """
    root = out / "reference"
    counts: dict[str, int] = {}
    n = place.n
    la_code, csp_code = place.la_code, place.csp_code

    features = [
        {
            "type": "Feature",
            "properties": {"lsoa21_code": place.code[i], "lsoa21_name": place.name[i]},
            "geometry": {"type": "Polygon", "coordinates": [place.ring(i)]},
        }
        for i in range(n)
    ]
    geo = root / "geography" / "lsoa21_synth.geojson"
    geo.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"))
    geo.write_text(text + "\n", encoding="utf-8")
    counts["reference/geography/lsoa21_synth.geojson"] = n

    files: list[tuple[str, list[str], Iterable[list[object]]]] = [
        (
            "lookups/lsoa21_ward24_ltla24_synth.csv",
            ["lsoa21_name", "lsoa21_code", "ward24_name", "ward24_code", "ltla24_name",
             "ltla24_code"],
            ([place.name[i], place.code[i], place.ward_name[place.ward[i]],
              place.ward_code[place.ward[i]], TOWNS[place.la[i]].name, la_code[place.la[i]]]
             for i in range(n)),
        ),
        (
            "lookups/ltla24_csp24_pfa24.csv",
            ["ltla24_code", "ltla24_name", "csp24_code", "csp24_name", "pfa24_code", "pfa24_name"],
            ([la_code[t], town.name, csp_code[t], town.name, *PFA]
             for t, town in enumerate(TOWNS)),
        ),
        (
            "lookups/lsoa11_lsoa21_ltla22_synth.csv",
            ["lsoa11_name", "lsoa11_code", "change_code", "lsoa21_name", "lsoa21_code",
             "ltla22_name", "ltla22_code"],
            ([place.name[i], place.code[i], "U", place.name[i], place.code[i],
              TOWNS[place.la[i]].name, la_code[place.la[i]]] for i in range(n)),
        ),
        (
            "lookups/ruc21_lsoa21_synth.csv",
            ["lsoa21_code", "lsoa21_name", "ruc21_code", "classification", "ruc"],
            ([place.code[i], place.name[i], *next(r[1:] for r in _RUC if place.urbanity[i] > r[0])]
             for i in range(n)),
        ),
        (
            "population/census2021_lsoa21_age6_synth.csv",
            ["lsoa21_code", "lsoa21_name", "age_group", "usual_residents"],
            ([place.code[i], place.name[i], group, int(place.residents[i, a])]
             for i in range(n) for a, group in enumerate(AGE_GROUPS)),
        ),
        (
            "imd/imd2025_synth_lsoa21.csv",
            ["lsoa21_code", "lsoa21_name"]
            + [f"{d}_{m}" for d in IMD_DOMAINS for m in ("score", "rank", "decile")],
            ([place.code[i], place.name[i]]
             + [v for d in range(len(IMD_DOMAINS))
                for v in (f"{place.imd_score[i, d]:.3f}", int(place.imd_rank[i, d]),
                          int(place.imd_decile[i, d]))]
             for i in range(n)),
        ),
    ]  # fmt: skip
    for name, header, rows in files:
        counts[f"reference/{name}"] = _write_csv(root / name, header, rows)
    return counts
