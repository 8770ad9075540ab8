"""The warehouse's tables: their schemas and how each is partitioned.

A partition is the unit a load replaces as a whole (for police.uk, one force's month), so that a
file's load is atomic and loading it again replaces rather than duplicates. On Spark a partition is
a folder of Parquet files; on DuckDB it is the rows matching the partition columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.datatypes as dt


@dataclass(frozen=True)
class TableDef:
    """A warehouse table."""

    name: str
    schema: ibis.Schema
    partition_by: tuple[str, ...]
    description: str


def _s(**cols: str | dt.DataType) -> ibis.Schema:
    return ibis.schema(cols)


_LOCATION = {
    "reported_by": "string",
    "falls_within": "string",
    "longitude": "float64",
    "latitude": "float64",
    "location": "string",
    "lsoa_code": "string",
    "lsoa_name": "string",
}
_PROVENANCE = {"force": "string", "source_row": "int64", "load_seq": "int64"}

TABLES: dict[str, TableDef] = {
    t.name: t
    for t in (
        TableDef(
            "policeuk_street",
            _s(
                crime_id="string",
                month="date",
                **_LOCATION,
                crime_type="string",
                last_outcome_category="string",
                context="string",
                **_PROVENANCE,
            ),
            ("force", "month"),
            "police.uk street-level crime and ASB; one row per incident",
        ),
        TableDef(
            "policeuk_outcomes",
            _s(crime_id="string", month="date", **_LOCATION, outcome_type="string", **_PROVENANCE),
            ("force", "month"),
            "police.uk outcomes, one row per outcome event",
        ),
        TableDef(
            "policeuk_stop_search",
            _s(
                type="string",
                date="timestamp('UTC')",
                month="date",
                part_of_policing_operation="boolean",
                policing_operation="string",
                latitude="float64",
                longitude="float64",
                gender="string",
                age_range="string",
                self_defined_ethnicity="string",
                officer_defined_ethnicity="string",
                legislation="string",
                object_of_search="string",
                outcome="string",
                outcome_linked_to_object="boolean",
                removal_of_outer_clothing="boolean",
                **_PROVENANCE,
            ),
            ("force", "month"),
            "police.uk stop and search records",
        ),
        TableDef(
            "quarantine",
            _s(
                feed="string",
                org="string",
                month="date",
                source="string",
                row="int64",
                column="string",
                rule="string",
                message="string",
                raw="string",
                load_seq="int64",
            ),
            ("feed", "org", "month"),
            "rows refused by validation, with the file, row, column, rule and the raw record",
        ),
        TableDef(
            "loads",
            _s(
                load_seq="int64",
                feed="string",
                org="string",
                month="date",
                source="string",
                file_name="string",
                sha256="string",
                rows_read="int64",
                rows_loaded="int64",
                rows_quarantined="int64",
                rows_already_present="int64",
                rows_updated="int64",
                status="string",
                message="string",
                loaded_at="timestamp('UTC')",
                svduty_version="string",
            ),
            ("load_seq",),
            "every load attempted: file, SHA-256, counts and result (loaded, unchanged, refused)",
        ),
        TableDef(
            "ref_lsoa",
            _s(
                lsoa21_code="string",
                lsoa21_name="string",
                centroid_lon="float64",
                centroid_lat="float64",
                area_km2="float64",
                geometry="string",
            ),
            (),
            "the reference area: LSOA 2021 boundaries (GeoJSON geometry, WGS84)",
        ),
        TableDef(
            "ref_geography",
            _s(
                lsoa21_code="string",
                lsoa21_name="string",
                ward24_code="string",
                ward24_name="string",
                ltla24_code="string",
                ltla24_name="string",
                csp24_code="string",
                csp24_name="string",
                pfa24_code="string",
                pfa24_name="string",
                ruc21_code="string",
                ruc21_class="string",
                urban_rural="string",
            ),
            (),
            "LSOA 2021 -> ward -> local authority -> community safety partnership -> police force",
        ),
        TableDef(
            "ref_population",
            _s(lsoa21_code="string", age_band="string", residents="int64"),
            (),
            "Census 2021 usual residents by LSOA 2021 and age band",
        ),
        TableDef(
            "ref_lsoa11_lsoa21",
            _s(lsoa11_code="string", lsoa21_code="string", change_code="string"),
            (),
            "ONS LSOA 2011 -> 2021 best-fit lookup (U unchanged, S split, M merged, X irregular)",
        ),
        TableDef(
            "ref_imd",
            _s(
                edition="string",
                lsoa21_code="string",
                domain="string",
                score="float64",
                rank="float64",
                decile="int64",
                bridged_from="int64",
            ),
            (),
            "Indices of Deprivation by LSOA 2021 and domain; 2019 is bridged from 2011 LSOAs",
        ),
        TableDef(
            "person_links",
            _s(
                feed="string",
                record_key="string",
                person_key="string",
                linked_key="string",
                cluster_size="int64",
                match_probability="float64",
                linked_at="timestamp('UTC')",
            ),
            (),
            "cross-agency record linkage: one row per person record (feed, record and person "
            "pseudonyms) with the pseudonymous key of the person it was linked to",
        ),
    )
}


_IBIS_TYPES = {
    "string": "string",
    "float": "float64",
    "int": "int64",
    "bool": "boolean",
    "date": "date",
    "datetime": "timestamp",
    "timestamp": "timestamp('UTC')",
}


def partner_table(feed: Any) -> TableDef:
    """The warehouse table of a partner feed: the columns it keeps (never an identifier), keyed
    pseudonyms of its record and person references, the age at the event, and provenance."""
    cols: dict[str, str] = {c.name: _IBIS_TYPES[c.type] for c in feed.kept}
    cols["record_key"] = "string"
    cols["person_key"] = "string"
    if feed.dob:
        cols["age_at_event"] = "int64"
        cols.setdefault("age_band", "string")
    cols.update(org="string", month="date", source_row="int64", load_seq="int64")
    return TableDef(feed.table, ibis.schema(cols), ("org", "month"), feed.contract.description)


def _register_partner_feeds() -> None:
    from svduty.datasets.partners import FEEDS

    for feed in FEEDS.values():
        TABLES[feed.table] = partner_table(feed)


_register_partner_feeds()
