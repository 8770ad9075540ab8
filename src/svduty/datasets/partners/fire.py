"""Fire and rescue incidents related to violence: deliberate fires and arson."""

from svduty.datasets import person
from svduty.datasets.contract import Column, Contract
from svduty.datasets.feeds import Feed, event_in_month

TYPES = frozenset(
    {
        "Deliberate primary fire",
        "Deliberate secondary fire",
        "Arson endangering life",
        "Vehicle arson",
        "Other",
    }
)
PROPERTIES = frozenset({"Dwelling", "Other building", "Vehicle", "Outdoor", "Refuse"})
WHEN = "%Y-%m-%dT%H:%M:%S"

FEED = Feed(
    contract=Contract(
        feed="fire",
        description="deliberate fires and arson",
        columns=(
            Column("Incident Number", "incident_no", required=True, pattern=r"^[A-Z0-9]{4,20}$"),
            Column("Incident Date Time", "incident_time", "datetime", required=True, format=WHEN),
            Column("Longitude", "longitude", "float", minimum=-8.7, maximum=1.8),
            Column("Latitude", "latitude", "float", minimum=49.8, maximum=60.9),
            Column("LSOA", "lsoa_code", pattern=person.LSOA),
            Column("Incident Type", "incident_type", required=True, allowed=TYPES),
            Column("Property Type", "property_type", allowed=PROPERTIES),
        ),
        rules=(event_in_month("incident_time", "Incident Date Time", WHEN),),
    ),
    org="fire",
    event="incident_time",
    record_id="incident_no",
    dob=None,
)
