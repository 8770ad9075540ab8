"""Youth offending team cases: the child, the offence, the disposal, its dates and risk flags."""

from svduty.datasets import person
from svduty.datasets.contract import Column, Contract
from svduty.datasets.feeds import HO_CODE, Feed, event_in_month, flag
from svduty.datasets.partners.offences import OFFENCES

DISPOSALS = frozenset(
    {
        "Community Resolution",
        "Youth Caution",
        "Youth Conditional Caution",
        "Referral Order",
        "Youth Rehabilitation Order",
        "Detention and Training Order",
        "Other",
    }
)
DAY = "%d/%m/%Y"

FEED = Feed(
    contract=Contract(
        feed="youth-justice",
        description="youth offending team cases",
        columns=(
            Column("Case ID", "case_id", required=True, pattern=r"^[A-Z0-9]{4,20}$"),
            Column("Child ID", "child_id", required=True, pattern=r"^[A-Z0-9]{4,20}$"),
            *person.identity(DAY),
            person.pnc_id(),
            Column(
                "Offence Code",
                "ho_code",
                required=True,
                pattern=HO_CODE,
                allowed=frozenset(OFFENCES),
            ),
            Column("Offence Description", "offence", text=True, max_length=200),
            Column("Disposal", "disposal", required=True, allowed=DISPOSALS),
            Column("Start Date", "start_date", "date", required=True, format=DAY),
            Column("End Date", "end_date", "date", format=DAY),
            flag("Exploitation Risk", "exploitation_risk"),
            flag("County Lines", "county_lines"),
            flag("Weapon", "weapon"),
        ),
        rules=(event_in_month("start_date", "Start Date", DAY),),
    ),
    org="youth-justice",
    event="start_date",
    record_id="case_id",
    person_id="child_id",
)
