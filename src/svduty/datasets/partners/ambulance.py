"""Ambulance call-outs to assaults: time, place, injury and the patient's age band (anonymous)."""

from svduty.datasets import person
from svduty.datasets.contract import Column, Contract
from svduty.datasets.feeds import Feed, event_in_month

INJURIES = frozenset(
    {
        "Stab or puncture wound",
        "Gunshot wound",
        "Head injury",
        "Other injury",
        "No injury recorded",
    }
)
WHEN = "%Y-%m-%d %H:%M:%S"

FEED = Feed(
    contract=Contract(
        feed="ambulance",
        description="ambulance call-outs to assaults",
        columns=(
            Column("Incident Number", "incident_no", required=True, pattern=r"^[A-Z0-9]{4,20}$"),
            Column("Call Date Time", "call_time", "datetime", required=True, format=WHEN),
            Column("Longitude", "longitude", "float", minimum=-8.7, maximum=1.8),
            Column("Latitude", "latitude", "float", minimum=49.8, maximum=60.9),
            Column("LSOA", "lsoa_code", pattern=person.LSOA),
            Column("Injury", "injury", required=True, allowed=INJURIES),
            Column("Patient Age Band", "age_band", allowed=frozenset(person.AGE_BANDS)),
            person.sex(),
        ),
        rules=(event_in_month("call_time", "Call Date Time", WHEN),),
    ),
    org="ambulance",
    event="call_time",
    record_id="incident_no",
    dob=None,
)
