"""Write the corpus of malformed police.uk files in tests/data/policeuk-malformed/.

Run from the repository root: ``python tests/data/make_malformed.py``. The files are committed;
this script documents how each was made and re-makes them byte for byte. Every file is named as
police.uk names them (month 2024-01, force "testforce") so the file's month is known; each case's
expected outcome is in tests/ingest/test_malformed.py.
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import zipfile
from pathlib import Path

HERE = Path(__file__).parent / "policeuk-malformed"
STREET = [
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
]
OUTCOMES = STREET[:9] + ["Outcome type"]
SEARCH = [
    "Type",
    "Date",
    "Part of a policing operation",
    "Policing operation",
    "Latitude",
    "Longitude",
    "Gender",
    "Age range",
    "Self-defined ethnicity",
    "Officer-defined ethnicity",
    "Legislation",
    "Object of search",
    "Outcome",
    "Outcome linked to object of search",
    "Removal of more than just outer clothing",
]
FORCE = "Test Constabulary"
NAME = "2024-01-testforce-street.csv"


def crime_id(i: int, salt: str = "") -> str:
    return hashlib.sha256(f"{salt}{i}".encode()).hexdigest()


def street_row(i: int, salt: str = "", **over: str) -> list[str]:
    row = {
        "Crime ID": crime_id(i, salt),
        "Month": "2024-01",
        "Reported by": FORCE,
        "Falls within": FORCE,
        "Longitude": f"{0.1 + i / 1000:.6f}",
        "Latitude": "52.200000",
        "Location": f"On or near Test Street {i}",
        "LSOA code": "E01017961",
        "LSOA name": "Cambridge 001A",
        "Crime type": "Violence and sexual offences",
        "Last outcome category": "Unable to prosecute suspect",
        "Context": "",
    }
    row.update(over)
    return [row[c] for c in STREET]


def to_csv(header: list[str], rows: list[list[str]], delimiter: str = ",") -> bytes:
    out = io.StringIO()
    w = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue().encode("utf-8")


def write(case: str, data: bytes, name: str = NAME) -> None:
    folder = HERE / case
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def good(n: int, salt: str) -> list[list[str]]:
    return [street_row(i, salt) for i in range(n)]


def main() -> None:
    shutil.rmtree(HERE, ignore_errors=True)
    HERE.mkdir(parents=True)
    # Whole-file problems: refused with a reason.
    write("missing-column", to_csv(STREET[:-1], [r[:-1] for r in good(3, "a")]))
    write("extra-column", to_csv(STREET + ["Notes"], [r + ["x"] for r in good(3, "b")]))
    write("semicolons", to_csv(STREET, good(3, "c"), delimiter=";"))
    write("empty", b"")
    write("header-only", to_csv(STREET, []))
    write("not-csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    write("html-page", b"<!DOCTYPE html>\n<html><body>Service unavailable</body></html>\n")
    write(
        "utf16",
        "\ufeff".encode("utf-16-le") + to_csv(STREET, good(2, "u")).decode().encode("utf-16-le"),
    )
    # Row problems: the row is quarantined, the rest loads.
    latin = (
        to_csv(STREET, good(4, "d")).decode()
        + ",".join(street_row(99, "d", Location="On or near Caf\u00e9 Street"))
        + "\n"
    )
    write("latin1", latin.encode("latin-1"))
    write("utf8-bom", b"\xef\xbb\xbf" + to_csv(STREET, good(4, "e")))
    truncated = to_csv(STREET, good(5, "f"))
    write("truncated-last-line", truncated[: truncated.rindex(b",On or near")])
    write("wrong-month", to_csv(STREET, good(3, "g") + [street_row(3, "g", Month="2024-02")]))
    write("month-format", to_csv(STREET, good(3, "h") + [street_row(3, "h", Month="01/2024")]))
    write(
        "coordinates-out-of-range",
        to_csv(
            STREET,
            good(3, "i")
            + [street_row(3, "i", Latitude="95.0"), street_row(4, "i", Longitude="12.5")],
        ),
    )
    write("coordinates-half", to_csv(STREET, good(3, "j") + [street_row(3, "j", Latitude="")]))
    write(
        "formula-payload",
        to_csv(
            STREET,
            good(3, "k")
            + [
                street_row(3, "k", Location="=cmd|' /C calc'!A0"),
                street_row(4, "k", **{"LSOA name": "@SUM(1+1)*cmd|' /C calc'!A0"}),
            ],
        ),
    )
    write(
        "duplicate-crime-id",
        to_csv(STREET, good(3, "l") + [street_row(1, "l", Location="On or near Other Street")]),
    )
    write(
        "unknown-crime-type",
        to_csv(STREET, good(3, "m") + [street_row(3, "m", **{"Crime type": "Knife crime"})]),
    )
    write(
        "bad-crime-id",
        to_csv(
            STREET,
            good(3, "n")
            + [
                street_row(3, "n", **{"Crime ID": "abc123"}),
                street_row(4, "n", **{"Crime ID": ""}),
                street_row(
                    5,
                    "n",
                    **{
                        "Crime ID": "",
                        "Crime type": "Anti-social behaviour",
                        "Last outcome category": "",
                    },
                ),
            ],
        ),
    )
    write("bad-lsoa", to_csv(STREET, good(3, "o") + [street_row(3, "o", **{"LSOA code": "E1234"})]))
    write(
        "unknown-outcome",
        to_csv(STREET, good(3, "p") + [street_row(3, "p", **{"Last outcome category": "Sorted"})]),
    )
    write("too-many-fields", to_csv(STREET, good(3, "q")) + b"a,b,c,d,e,f,g,h,i,j,k,l,m\n")
    write(
        "unclosed-quote",
        to_csv(STREET, good(2, "r"))
        + b'x,2024-01,"Test Constabulary,broken\n'
        + b"".join(to_csv(STREET, [street_row(i, "r") for i in range(2, 5)]).splitlines(True)[1:]),
    )
    write("blank-lines", to_csv(STREET, good(4, "s")).replace(b"\n", b"\n\n", 2))
    write("crlf", to_csv(STREET, good(4, "t")).replace(b"\n", b"\r\n"))
    write(
        "quoted-newline",
        to_csv(
            STREET,
            good(2, "v")
            + [street_row(2, "v", Location="On or near\nTwo Lines")]
            + [street_row(3, "v")],
        ),
    )
    outcome_rows = [
        [
            crime_id(0, "w"),
            "2024-01",
            FORCE,
            FORCE,
            "",
            "",
            "No location",
            "",
            "",
            "Suspect charged",
        ],
        ["", "2024-01", FORCE, FORCE, "", "", "No location", "", "", "Suspect charged"],
        [crime_id(2, "w"), "2024-01", FORCE, FORCE, "", "", "No location", "", "", "Let off"],
    ]
    write("outcomes-bad", to_csv(OUTCOMES, outcome_rows), "2024-01-testforce-outcomes.csv")
    search_rows = [
        [
            "Person search",
            "2024-01-05T10:00:00+00:00",
            "False",
            "",
            "52.2",
            "0.12",
            "Male",
            "18-24",
            "",
            "White",
            "Misuse of Drugs Act 1971 (section 23)",
            "Controlled drugs",
            "Arrest",
            "True",
            "False",
        ],
        [
            "Bike search",
            "2024-02-30T10:00:00+00:00",
            "yes",
            "",
            "52.2",
            "0.12",
            "Male",
            "18-24",
            "",
            "White",
            "",
            "",
            "Arrest",
            "",
            "",
        ],
        [
            "Person search",
            "2024-02-10T10:00:00+00:00",
            "",
            "",
            "",
            "",
            "Female",
            "10-17",
            "",
            "",
            "",
            "",
            "Arrest",
            "",
            "",
        ],
    ]
    write("stop-search-bad", to_csv(SEARCH, search_rows), "2024-01-testforce-stop-and-search.csv")
    # Archives: a 10 MB field, and a member whose path climbs out of the folder.
    big = to_csv(STREET, good(3, "x") + [street_row(3, "x", Location="A" * (10 << 20))])
    with zipfile.ZipFile(HERE / "ten-mb-field.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("2024-01/" + NAME, big)
    with zipfile.ZipFile(HERE / "zip-slip.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("../../evil.csv", to_csv(STREET, good(2, "y")))
        zf.writestr("/etc/2024-01-testforce-street.csv", to_csv(STREET, good(2, "y")))
        zf.writestr("2024-01/" + NAME, to_csv(STREET, good(3, "z")))


if __name__ == "__main__":
    main()
