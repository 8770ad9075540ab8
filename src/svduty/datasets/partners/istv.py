"""Emergency department assault attendances: the NHS Information Sharing to Tackle Violence
minimum dataset (SCCI 1594): submission header fields on every row, the attendance and the
assault, plus the patient's age band. The identifying fields beside it are those of an
identifiable extract shared under an information-sharing agreement, for linkage; the free-text
location description often names people and places, so it is treated as an identifier."""

from svduty.datasets import person
from svduty.datasets.contract import Column, Contract
from svduty.datasets.feeds import Feed, event_in_month

METHODS = frozenset(
    {
        "Body part",
        "Blunt object",
        "Sharp object",
        "Firearm",
        "Bite",
        "Strangulation",
        "Other",
        "Unknown",
    }
)
LOCATIONS = frozenset(
    {
        "Home",
        "Street",
        "Licensed premises",
        "Workplace",
        "School",
        "Public transport",
        "Other public place",
        "Other",
        "Unknown",
    }
)
WHEN = "%Y-%m-%dT%H:%M"

FEED = Feed(
    contract=Contract(
        feed="istv",
        description="ED assault attendances (ISTV minimum dataset)",
        columns=(
            Column("Site Code", "site_code", required=True, pattern=r"^[A-Z0-9]{3,5}$"),
            Column("Reporting Period Start", "period_start", "date", required=True),
            Column("Reporting Period End", "period_end", "date", required=True),
            Column("Attendance ID", "attendance_id", required=True, pattern=r"^[A-Z0-9]{4,20}$"),
            Column("Arrival Date Time", "arrival", "datetime", required=True, format=WHEN),
            Column("Assault Date Time", "assault_time", "datetime", format=WHEN),
            Column("Assault Method", "assault_method", required=True, allowed=METHODS),
            Column("Assault Method Other", "assault_method_other", text=True, max_length=255),
            Column("Assault Location Type", "location_type", required=True, allowed=LOCATIONS),
            Column(
                "Assault Location Description",
                "location_description",
                text=True,
                max_length=255,
                identifier=True,
            ),
            Column(
                "Patient Age Band", "age_band", required=True, allowed=frozenset(person.AGE_BANDS)
            ),
            person.sex(),
            person.nhs_number(),
            person.forename(),
            person.surname(),
            person.date_of_birth("%Y-%m-%d"),
            person.postcode(),
            person.home_lsoa("Patient LSOA"),
        ),
        rules=(event_in_month("arrival", "Arrival Date Time", WHEN),),
    ),
    org="health",
    event="arrival",
    record_id="attendance_id",
)
