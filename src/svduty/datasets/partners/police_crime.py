"""Police recorded crime as forces export it for partners: one row per person involved in a
crime (victims and suspects), with the Home Office offence code and the crime's flags."""

from svduty.datasets import person
from svduty.datasets.contract import Column, Contract
from svduty.datasets.feeds import HO_CODE, Feed, event_in_month, flag
from svduty.datasets.partners.offences import OFFENCES

WHEN = "%d/%m/%Y %H:%M"

FEED = Feed(
    contract=Contract(
        feed="police-crime",
        description="police recorded crime, one row per person involved (victim or suspect)",
        columns=(
            Column("Crime Reference", "crime_ref", required=True, pattern=r"^[A-Z0-9/-]{4,30}$"),
            Column(
                "HO Offence Code",
                "ho_code",
                required=True,
                pattern=HO_CODE,
                allowed=frozenset(OFFENCES),
            ),
            Column("Offence Description", "offence", required=True, text=True, max_length=200),
            Column("Committed Date", "committed", "datetime", required=True, format=WHEN),
            Column("Longitude", "longitude", "float", minimum=-8.7, maximum=1.8),
            Column("Latitude", "latitude", "float", minimum=49.8, maximum=60.9),
            Column("LSOA", "lsoa_code", pattern=person.LSOA),
            flag("Knife Flag", "knife"),
            flag("Firearm Flag", "firearm"),
            flag("DA Flag", "domestic_abuse"),
            flag("Alcohol Flag", "alcohol"),
            flag("Drugs Flag", "drugs"),
            flag("County Lines Flag", "county_lines"),
            flag("Exploitation Flag", "exploitation"),
            Column("Role", "role", required=True, allowed=frozenset({"Victim", "Suspect"})),
            Column("Person URN", "person_urn", required=True, pattern=r"^[A-Z0-9]{4,20}$"),
            *person.identity("%d/%m/%Y"),
            person.pnc_id(),
        ),
        rules=(event_in_month("committed", "Committed Date", WHEN),),
    ),
    org="police",
    event="committed",
    record_id="crime_ref",
    person_id="person_urn",
)
