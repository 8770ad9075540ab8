"""School suspensions and permanent exclusions, with the DfE reason categories."""

from svduty.datasets import person
from svduty.datasets.contract import Column, Contract
from svduty.datasets.feeds import Feed, event_in_month

REASONS = frozenset(
    {
        "Physical assault against a pupil",
        "Physical assault against an adult",
        "Verbal abuse or threatening behaviour against a pupil",
        "Verbal abuse or threatening behaviour against an adult",
        "Use or threat of use of an offensive weapon or prohibited item",
        "Drug and alcohol related",
        "Persistent disruptive behaviour",
        "Damage",
        "Theft",
        "Bullying",
        "Other",
    }
)
DAY = "%d/%m/%Y"

FEED = Feed(
    contract=Contract(
        feed="education",
        description="school suspensions and permanent exclusions",
        columns=(
            Column("Record ID", "record_id", required=True, pattern=r"^[A-Z0-9]{4,20}$"),
            Column("UPN", "upn", required=True, pattern=person.UPN, identifier=True),
            *person.identity(DAY),
            Column("School URN", "school_urn", required=True, pattern=r"^[0-9]{6}$"),
            Column("Exclusion Date", "exclusion_date", "date", required=True, format=DAY),
            Column(
                "Exclusion Type",
                "exclusion_type",
                required=True,
                allowed=frozenset({"Suspension", "Permanent exclusion"}),
            ),
            Column("Reason", "reason", required=True, allowed=REASONS),
        ),
        rules=(event_in_month("exclusion_date", "Exclusion Date", DAY),),
    ),
    org="council",
    event="exclusion_date",
    record_id="record_id",
    person_id="upn",
)
