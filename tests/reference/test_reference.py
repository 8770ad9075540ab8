"""Reference data: a tiny hand-made set for the rules, then the real ONS/MHCLG files."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from svduty.errors import ReferenceDataError
from svduty.reference import load_reference
from svduty.reference.loader import DOMAINS_2019, DOMAINS_2025
from tests.conftest import SHARED, needs_shared, run_cli

LSOAS = {"E01000001": (0.10, 52.20), "E01000002": (0.12, 52.20), "E01000003": (0.14, 52.20)}
AGES = [
    "Aged 15 years and under",
    "Aged 16 to 24 years",
    "Aged 25 to 34 years",
    "Aged 35 to 49 years",
    "Aged 50 to 64 years",
    "Aged 65 years and over",
]


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def make_reference(root: Path) -> Path:
    """Three LSOAs in one ward of one authority; 2011 E01000012/13 merged into E01000002."""
    features = []
    for code, (lon, lat) in LSOAS.items():
        ring = [
            [lon, lat],
            [lon + 0.02, lat],
            [lon + 0.02, lat + 0.01],
            [lon, lat + 0.01],
            [lon, lat],
        ]
        features.append(
            {
                "type": "Feature",
                "properties": {"lsoa21_code": code, "lsoa21_name": f"Test {code[-1]}"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    (root / "geography").mkdir(parents=True)
    (root / "geography" / "lsoa21_test.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features})
    )
    _write_csv(
        root / "lookups" / "lsoa21_ward24_ltla24_test.csv",
        ["lsoa21_name", "lsoa21_code", "ward24_name", "ward24_code", "ltla24_name", "ltla24_code"],
        [[f"Test {c[-1]}", c, "Ward", "E05000001", "Testshire", "E07000001"] for c in LSOAS],
    )
    _write_csv(
        root / "lookups" / "ltla24_csp24_pfa24.csv",
        ["ltla24_code", "ltla24_name", "csp24_code", "csp24_name", "pfa24_code", "pfa24_name"],
        [["E07000001", "Testshire", "E22000001", "Testshire CSP", "E23000001", "Test Police"]],
    )
    _write_csv(
        root / "lookups" / "lsoa11_lsoa21_ltla22_test.csv",
        [
            "lsoa11_name",
            "lsoa11_code",
            "change_code",
            "lsoa21_name",
            "lsoa21_code",
            "ltla22_name",
            "ltla22_code",
        ],
        [
            ["a", "E01000001", "U", "a", "E01000001", "T", "E07000001"],
            ["b", "E01000012", "M", "b", "E01000002", "T", "E07000001"],
            ["c", "E01000013", "M", "b", "E01000002", "T", "E07000001"],
            ["d", "E01000003", "U", "d", "E01000003", "T", "E07000001"],
        ],
    )
    _write_csv(
        root / "population" / "census2021_lsoa21_age6_test.csv",
        ["lsoa21_code", "lsoa21_name", "age_group", "usual_residents"],
        [[c, "x", a, 100 + i] for c in LSOAS for i, a in enumerate(AGES)],
    )
    header = ["lsoa21_code"]
    for m in ("decile", "rank", "score"):
        header += [f"{d}_{m}" for d in DOMAINS_2025]
    rows = []
    for i, c in enumerate(LSOAS):
        rows.append([c] + [i + 1] * 8 + [1000 * (i + 1)] * 8 + [10.5 * (i + 1)] * 8)
    _write_csv(root / "imd" / "imd2025_test_lsoa21.csv", header, rows)
    header19 = ["lsoa11_code", "lsoa11_name", "lad19_code", "lad19_name"]
    header19 += [f"{d}_rank" for d in DOMAINS_2019] + [f"{d}_decile" for d in DOMAINS_2019]
    ranks = {"E01000001": 100, "E01000012": 5000, "E01000013": 9000, "E01000003": 32000}
    _write_csv(
        root / "imd" / "iod2019_test_lsoa11_ranks_deciles.csv",
        header19,
        [[c, "n", "E07000001", "T"] + [r] * 8 + [1] * 8 for c, r in ranks.items()],
    )
    return root


def test_tiny_reference_set_loads(con: Any, tmp_path: Path) -> None:
    results = load_reference(con, make_reference(tmp_path / "ref"))
    assert {r.feed for r in results} >= {"reference-boundaries", "reference-population"}
    assert con.table("ref_lsoa").count().execute() == 3
    lsoa = con.table("ref_lsoa").to_pyarrow().to_pylist()
    # 0.02 by 0.01 degrees at 52.2N is about 1.366 km by 1.112 km
    assert all(1.45 < r["area_km2"] < 1.59 for r in lsoa)
    pop = con.table("ref_population")
    assert pop.residents.sum().execute() == 3 * sum(100 + i for i in range(6))
    assert set(pop.age_band.execute()) == {"0-15", "16-24", "25-34", "35-49", "50-64", "65+"}
    imd = con.table("ref_imd")
    merged = imd.filter(imd.edition == "2019", imd.lsoa21_code == "E01000002", imd.domain == "imd")
    row = merged.to_pyarrow().to_pylist()[0]
    assert row["rank"] == 7000.0  # the mean of the two 2011 LSOAs merged into it
    assert row["decile"] == 3  # 7000 of 32,844 falls in the third tenth
    assert row["bridged_from"] == 2
    geo = con.table("ref_geography").to_pyarrow().to_pylist()
    assert {g["csp24_name"] for g in geo} == {"Testshire CSP"}


def test_loading_again_replaces_rather_than_adds(con: Any, tmp_path: Path) -> None:
    root = make_reference(tmp_path / "ref")
    load_reference(con, root)
    load_reference(con, root)
    assert con.table("ref_lsoa").count().execute() == 3
    assert con.table("ref_imd").count().execute() == 3 * 8 * 2


def test_missing_file_is_named(con: Any, tmp_path: Path) -> None:
    root = make_reference(tmp_path / "ref")
    (root / "population" / "census2021_lsoa21_age6_test.csv").unlink()
    with pytest.raises(ReferenceDataError, match=r"population: no file matching census2021"):
        load_reference(con, root)
    assert con.table("ref_lsoa").count().execute() == 0  # nothing half-loaded


def test_wrong_geography_version_is_named(con: Any, tmp_path: Path) -> None:
    root = make_reference(tmp_path / "ref")
    path = root / "population" / "census2021_lsoa21_age6_test.csv"
    text = path.read_text().replace("lsoa21_code", "lsoa11_code")
    path.write_text(text)
    with pytest.raises(ReferenceDataError) as e:
        load_reference(con, root)
    assert str(path) in str(e.value)
    assert "missing column(s) lsoa21_code" in str(e.value)


def test_bad_number_is_named_with_row_and_column(con: Any, tmp_path: Path) -> None:
    root = make_reference(tmp_path / "ref")
    path = root / "population" / "census2021_lsoa21_age6_test.csv"
    lines = path.read_text().splitlines()
    lines[3] = lines[3].rsplit(",", 1)[0] + ",lots"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ReferenceDataError, match=r"column usual_residents, row 4: not a number"):
        load_reference(con, root)


def test_boundaries_without_a_lookup_entry_are_refused(con: Any, tmp_path: Path) -> None:
    root = make_reference(tmp_path / "ref")
    path = root / "lookups" / "lsoa21_ward24_ltla24_test.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(ReferenceDataError, match=r"1 LSOA\(s\) of .* are not in it"):
        load_reference(con, root)


def test_broken_geojson_is_named(con: Any, tmp_path: Path) -> None:
    root = make_reference(tmp_path / "ref")
    (root / "geography" / "lsoa21_test.geojson").write_text('{"type": "FeatureCollection", "feat')
    with pytest.raises(ReferenceDataError, match=r"lsoa21_test.geojson: not a readable GeoJSON"):
        load_reference(con, root)


def test_cli_reports_a_refused_folder_in_one_line(tmp_path: Path) -> None:
    result = run_cli("reference", "load", str(tmp_path / "nowhere"), data_dir=tmp_path / "d")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "no such folder" in result.stderr


@needs_shared()
@pytest.mark.shared
def test_real_reference_files(con: Any) -> None:
    load_reference(con, SHARED)
    area = con.table("ref_lsoa")
    assert area.count().execute() == 516
    pop = con.table("ref_population")
    in_area = pop.semi_join(area, pop.lsoa21_code == area.lsoa21_code)
    assert in_area.residents.sum().execute() == 894_479
    young = in_area.filter(in_area.age_band.isin(["0-15", "16-24"]))
    assert young.residents.sum().execute() == 264_027
    geo = con.table("ref_geography")
    names = geo.semi_join(area, geo.lsoa21_code == area.lsoa21_code).csp24_name.execute()
    assert set(names) == {
        "Cambridge",
        "East Cambridgeshire",
        "Fenland",
        "Huntingdonshire",
        "South Cambridgeshire",
        "Peterborough",
    }
    imd = con.table("ref_imd")
    imd_area = imd.semi_join(area, imd.lsoa21_code == area.lsoa21_code)
    counts = imd_area.group_by("edition").aggregate(n=imd_area.count()).to_pyarrow().to_pylist()
    assert {r["edition"]: r["n"] for r in counts} == {"2025": 516 * 8, "2019": 516 * 8}


@needs_shared()
@pytest.mark.shared
def test_real_2019_bridge_matches_an_independent_computation(con: Any) -> None:
    load_reference(con, SHARED)
    with gzip.open(SHARED / "imd" / "iod2019_england_lsoa11_ranks_deciles.csv.gz", "rt") as f:
        rank11 = {
            r["lsoa11_code"]: int(r["index_of_multiple_deprivation_imd_rank"])
            for r in csv.DictReader(f)
        }
    with open(SHARED / "lookups" / "lsoa11_lsoa21_ltla22_cambs_pboro.csv", encoding="utf-8") as f:
        lookup = list(csv.DictReader(f))
    merged = {r["lsoa21_code"] for r in lookup if r["change_code"] == "M"}
    assert merged
    imd = con.table("ref_imd")
    got = {
        r["lsoa21_code"]: r["rank"]
        for r in imd.filter(imd.edition == "2019", imd.domain == "imd").to_pyarrow().to_pylist()
    }
    for code in merged:
        sources = [rank11[r["lsoa11_code"]] for r in lookup if r["lsoa21_code"] == code]
        assert got[code] == pytest.approx(sum(sources) / len(sources))
