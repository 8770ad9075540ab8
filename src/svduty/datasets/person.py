"""Columns that identify people, shared by the person-level feeds, and their checks.

Every column here is a direct identifier: at ingestion it is split off to the encrypted linkage
store and never reaches the warehouse, a log line or a message.
"""

from __future__ import annotations

import pyarrow as pa

from svduty.datasets.contract import Column

POSTCODE = r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$"
PNC_ID = r"^[0-9]{2,4}/[0-9]{1,7}[A-Z]$"
UPN = r"^[A-Z][0-9]{12}$"
SEXES = frozenset({"Male", "Female", "Unknown"})
AGE_BANDS = ("0-9", "10-14", "15-17", "18-24", "25-34", "35-49", "50-64", "65+")
LSOA = r"^[EW]01[0-9]{6}$"


def nhs_number_valid(number: str) -> bool:
    """The NHS number's modulus 11 check digit (NHS Data Dictionary).

    Examples:
        >>> nhs_number_valid("9434765919"), nhs_number_valid("9434765918")
        (True, False)
    """
    if len(number) != 10 or not number.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(number[9])


def _nhs_fails(values: pa.Array) -> pa.Array:
    return pa.array([bool(v) and not nhs_number_valid(v) for v in values.to_pylist()])


def forename(header: str = "Forename") -> Column:
    """A given name."""
    return Column(header, "forename", required=True, text=True, max_length=100, identifier=True)


def surname(header: str = "Surname") -> Column:
    """A family name."""
    return Column(header, "surname", required=True, text=True, max_length=100, identifier=True)


def date_of_birth(fmt: str | None, header: str = "Date of Birth") -> Column:
    """A date of birth, in the agency's format."""
    return Column(header, "date_of_birth", "date", required=True, format=fmt, identifier=True)


def postcode(header: str = "Postcode") -> Column:
    """A home postcode."""
    return Column(header, "postcode", pattern=POSTCODE, max_length=8, identifier=True)


def nhs_number(header: str = "NHS Number", required: bool = False) -> Column:
    """An NHS number, with its check digit."""
    return Column(
        header,
        "nhs_number",
        required=required,
        pattern=r"^[0-9]{10}$",
        check=("check-digit", _nhs_fails),
        identifier=True,
    )


def pnc_id(header: str = "PNC ID") -> Column:
    """A Police National Computer identifier."""
    return Column(header, "pnc_id", pattern=PNC_ID, max_length=16, identifier=True)


def sex(header: str = "Sex") -> Column:
    """Sex as recorded."""
    return Column(header, "sex", allowed=SEXES)


def home_lsoa(header: str = "Home LSOA") -> Column:
    """The LSOA of residence (2021), as the partner geocoded it."""
    return Column(header, "home_lsoa", pattern=LSOA)


def identity(dob_format: str | None) -> tuple[Column, ...]:
    """The columns every person-level feed carries, in the order agencies export them: name,
    date of birth (in the agency's format), sex, postcode and LSOA of residence."""
    return (forename(), surname(), date_of_birth(dob_format), sex(), postcode(), home_lsoa())


def age_band(age: int | None) -> str | None:
    """The age band of an age in years.

    Examples:
        >>> [age_band(a) for a in (9, 14, 17, 24, 70)]
        ['0-9', '10-14', '15-17', '18-24', '65+']
    """
    if age is None:
        return None
    for band, top in zip(AGE_BANDS, (9, 14, 17, 24, 34, 49, 64), strict=False):
        if age <= top:
            return band
    return "65+"
