"""police.uk street-level crime, outcomes and stop-and-search files: their declared contracts.

The layout follows the archive that data.police.uk serves: ``YYYY-MM/YYYY-MM-<force>-street.csv``,
``-outcomes.csv`` and ``-stop-and-search.csv``. Sources: the data.police.uk "About" page (columns,
anonymisation) and the categories as published in the files themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from svduty.datasets.contract import Column, Contract, RowRule, unparseable

CRIME_TYPES = frozenset(
    {
        "Anti-social behaviour",
        "Bicycle theft",
        "Burglary",
        "Criminal damage and arson",
        "Drugs",
        "Other theft",
        "Possession of weapons",
        "Public order",
        "Robbery",
        "Shoplifting",
        "Theft from the person",
        "Vehicle crime",
        "Violence and sexual offences",
        "Other crime",
    }
)

# Outcome categories as they appear in police.uk CSV files since the 2014 relabelling.
OUTCOMES = frozenset(
    {
        "Action to be taken by another organisation",
        "Awaiting court outcome",
        "Court case unable to proceed",
        "Court result unavailable",
        "Defendant found not guilty",
        "Defendant sent to Crown Court",
        "Formal action is not in the public interest",
        "Further action is not in the public interest",
        "Further investigation is not in the public interest",
        "Investigation complete; no suspect identified",
        "Local resolution",
        "Offender deprived of property",
        "Offender fined",
        "Offender given a caution",
        "Offender given a drugs possession warning",
        "Offender given absolute discharge",
        "Offender given community sentence",
        "Offender given conditional discharge",
        "Offender given penalty notice",
        "Offender given suspended prison sentence",
        "Offender ordered to pay compensation",
        "Offender otherwise dealt with",
        "Offender sent to prison",
        "Status update unavailable",
        "Suspect charged",
        "Suspect charged as part of another case",
        "Unable to prosecute suspect",
        "Under investigation",
    }
)

SEARCH_TYPES = frozenset({"Person search", "Vehicle search", "Person and Vehicle search"})
AGE_RANGES = frozenset({"under 10", "10-17", "18-24", "25-34", "over 34"})
GENDERS = frozenset({"Male", "Female", "Other"})

# A box around the United Kingdom, Scilly to Shetland, Northern Ireland to Kent (WGS84 degrees).
UK_LONGITUDE = (-8.7, 1.8)
UK_LATITUDE = (49.8, 60.9)

LSOA_PATTERN = r"^[EW]01[0-9]{6}$"
CRIME_ID_PATTERN = r"^[0-9a-f]{64}$"
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
ASB = "Anti-social behaviour"
SEARCH_DATE_PATTERN = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9](\.[0-9]+)?"
    r"([+-][0-9]{2}:[0-9]{2}|Z)$"
)

FILE_NAME = re.compile(
    r"^(?P<month>\d{4}-\d{2})-(?P<force>[a-z0-9-]+?)-(?P<kind>street|outcomes|stop-and-search)\.csv$"
)


def _empty(a: pa.Array) -> pa.Array:
    return pc.or_(pc.is_null(a), pc.equal(pc.utf8_length(a), 0))


def _coordinates_half_empty(t: pa.Table, _: dict[str, Any]) -> pa.Array:
    lon, lat = _empty(t["longitude"].combine_chunks()), _empty(t["latitude"].combine_chunks())
    return pc.xor(lon, lat)


def _month_differs(t: pa.Table, ctx: dict[str, Any]) -> pa.Array:
    month = t["month"].combine_chunks()
    return pc.and_(pc.invert(_empty(month)), pc.not_equal(month, ctx["month"]))


def _search_month_differs(t: pa.Table, ctx: dict[str, Any]) -> pa.Array:
    """police.uk files stop and search by the UK's local month: 23:51 UTC on 31 March 2024 is
    00:51 BST on 1 April, in the April file."""
    date = t["date"].combine_chunks()
    ok = pc.fill_null(pc.match_substring_regex(date, SEARCH_DATE_PATTERN), False)
    ok = pc.and_(ok, pc.invert(unparseable(date, ok, "timestamp")))
    when = pc.cast(pc.if_else(ok, date, pa.scalar(None, pa.string())), pa.timestamp("us", "UTC"))
    local = pc.strftime(pc.cast(when, pa.timestamp("us", "Europe/London")), "%Y-%m")
    return pc.and_(ok, pc.not_equal(local, ctx["month"]))


def _id_missing(t: pa.Table, _: dict[str, Any]) -> pa.Array:
    asb = pc.equal(t["crime_type"].combine_chunks(), ASB)
    return pc.and_(_empty(t["crime_id"].combine_chunks()), pc.invert(pc.fill_null(asb, False)))


def _id_repeated(t: pa.Table, _: dict[str, Any]) -> pa.Array:
    """True for the second and later rows carrying the same non-empty crime ID."""
    ids = t["crime_id"].combine_chunks()
    n = len(ids)
    if n == 0:
        return pa.array([], pa.bool_())
    order = pa.table({"id": ids, "i": pa.array(range(n), pa.int64())})
    first = order.group_by("id", use_threads=False).aggregate([("i", "min")])
    joined = order.join(first, "id").sort_by("i")
    repeated = pc.not_equal(joined["i"], joined["i_min"])
    return pc.and_(repeated.combine_chunks(), pc.invert(_empty(joined["id"].combine_chunks())))


def _location_columns() -> tuple[Column, ...]:
    return (
        Column("Reported by", "reported_by", required=True, text=True, max_length=200),
        Column("Falls within", "falls_within", required=True, text=True, max_length=200),
        Column("Longitude", "longitude", "float", minimum=UK_LONGITUDE[0], maximum=UK_LONGITUDE[1]),
        Column("Latitude", "latitude", "float", minimum=UK_LATITUDE[0], maximum=UK_LATITUDE[1]),
        Column("Location", "location", text=True, max_length=500),
        Column("LSOA code", "lsoa_code", pattern=LSOA_PATTERN),
        Column("LSOA name", "lsoa_name", text=True, max_length=200),
    )


_COORDS = RowRule(
    "coordinates-pair",
    "Longitude",
    "only one of Longitude and Latitude is given; both or neither are expected",
    _coordinates_half_empty,
)
_MONTH = RowRule(
    "month-mismatch",
    "Month",
    "Month differs from the month of the file (from its name); each police.uk file holds one month",
    _month_differs,
)

STREET = Contract(
    feed="police-uk-street",
    description="police.uk street-level crime and anti-social behaviour, one row per incident",
    columns=(
        Column("Crime ID", "crime_id", pattern=CRIME_ID_PATTERN),
        Column("Month", "month", required=True, pattern=MONTH_PATTERN),
        *_location_columns(),
        Column("Crime type", "crime_type", required=True, allowed=CRIME_TYPES),
        Column("Last outcome category", "last_outcome_category", allowed=OUTCOMES),
        Column("Context", "context", text=True),
    ),
    rules=(
        _COORDS,
        _MONTH,
        RowRule(
            "crime-id-required",
            "Crime ID",
            "Crime ID is empty; only anti-social behaviour rows may have no ID",
            _id_missing,
        ),
        RowRule(
            "duplicate-crime-id",
            "Crime ID",
            "this Crime ID already appeared on an earlier row of the same file; the first is kept",
            _id_repeated,
        ),
    ),
)

OUTCOMES_CONTRACT = Contract(
    feed="police-uk-outcomes",
    description="police.uk outcomes: what happened to a crime, in the month it happened",
    columns=(
        Column("Crime ID", "crime_id", required=True, pattern=CRIME_ID_PATTERN),
        Column("Month", "month", required=True, pattern=MONTH_PATTERN),
        *_location_columns(),
        Column("Outcome type", "outcome_type", required=True, allowed=OUTCOMES),
    ),
    rules=(_COORDS, _MONTH),
)

STOP_AND_SEARCH = Contract(
    feed="police-uk-stop-and-search",
    description="police.uk stop and search records",
    columns=(
        Column("Type", "type", required=True, allowed=SEARCH_TYPES),
        Column(
            "Date",
            "date",
            "timestamp",
            required=True,
            pattern=SEARCH_DATE_PATTERN,
        ),
        Column("Part of a policing operation", "part_of_policing_operation", "bool"),
        Column("Policing operation", "policing_operation", text=True, max_length=500),
        Column("Latitude", "latitude", "float", minimum=UK_LATITUDE[0], maximum=UK_LATITUDE[1]),
        Column("Longitude", "longitude", "float", minimum=UK_LONGITUDE[0], maximum=UK_LONGITUDE[1]),
        Column("Gender", "gender", allowed=GENDERS),
        Column("Age range", "age_range", allowed=AGE_RANGES),
        Column("Self-defined ethnicity", "self_defined_ethnicity", text=True, max_length=200),
        Column("Officer-defined ethnicity", "officer_defined_ethnicity", text=True, max_length=200),
        Column("Legislation", "legislation", text=True, max_length=300),
        Column("Object of search", "object_of_search", text=True, max_length=300),
        Column("Outcome", "outcome", text=True, max_length=300),
        Column("Outcome linked to object of search", "outcome_linked_to_object", "bool"),
        Column("Removal of more than just outer clothing", "removal_of_outer_clothing", "bool"),
    ),
    rules=(
        _COORDS,
        RowRule(
            "month-mismatch",
            "Date",
            "Date falls outside the month of the file (from its name)",
            _search_month_differs,
        ),
    ),
)


@dataclass(frozen=True)
class Kind:
    """One kind of police.uk file and where it lands in the warehouse."""

    name: str
    contract: Contract
    table: str
    suffix: str


KINDS = {
    "street": Kind("street", STREET, "policeuk_street", "street"),
    "outcomes": Kind("outcomes", OUTCOMES_CONTRACT, "policeuk_outcomes", "outcomes"),
    "stop-and-search": Kind(
        "stop-and-search", STOP_AND_SEARCH, "policeuk_stop_search", "stop-and-search"
    ),
}


def kind_from_header(header: list[str]) -> Kind | None:
    """The kind of file whose contract has exactly this header, if any."""
    for kind in KINDS.values():
        if header == kind.contract.header:
            return kind
    return None


def parse_file_name(name: str) -> tuple[str, str, str] | None:
    """``(month, force, kind)`` from a police.uk file name, or None.

    Examples:
        >>> parse_file_name("2024-01-cambridgeshire-street.csv")
        ('2024-01', 'cambridgeshire', 'street')
    """
    m = FILE_NAME.match(name)
    if not m:
        return None
    return m["month"], m["force"], m["kind"]
