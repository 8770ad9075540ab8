"""People on probation for violent offences: offence, sentence, start and end."""

from svduty.datasets import person
from svduty.datasets.contract import Column, Contract
from svduty.datasets.feeds import HO_CODE, Feed, event_in_month
from svduty.datasets.partners.offences import OFFENCES

SENTENCES = frozenset({"Community Order", "Suspended Sentence Order", "Licence after custody"})

FEED = Feed(
    contract=Contract(
        feed="probation",
        description="people on probation for violent offences",
        columns=(
            Column("Case Reference", "case_ref", required=True, pattern=r"^[A-Z0-9]{4,20}$"),
            Column("CRN", "crn", required=True, pattern=r"^[A-Z][0-9]{6}$"),
            *person.identity(None),
            person.pnc_id(),
            Column(
                "Index Offence Code",
                "ho_code",
                required=True,
                pattern=HO_CODE,
                allowed=frozenset(OFFENCES),
            ),
            Column("Index Offence", "offence", text=True, max_length=200),
            Column("Sentence", "sentence", required=True, allowed=SENTENCES),
            Column("Start Date", "start_date", "date", required=True),
            Column("End Date", "end_date", "date"),
        ),
        rules=(event_in_month("start_date", "Start Date", None),),
    ),
    org="probation",
    event="start_date",
    record_id="case_ref",
    person_id="crn",
)
