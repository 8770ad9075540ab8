"""Participants of funded interventions: who each commissioned project took on, and when.

Providers send the commissioner a list of the young people referred to each project (the
project's reference in the interventions register, the referral and its dates). The list names
people, so its identifiers are sealed at ingestion like every other person-level feed, and the
participants are linked to the partners' records only through pseudonymous person keys: the
cohort evaluation (``svduty evaluate cohort``) counts their later police and ED involvement
against a matched comparison group, and nobody is scored.
"""

from svduty.datasets import person
from svduty.datasets.contract import Column, Contract
from svduty.datasets.feeds import Feed, event_in_month

SOURCES = frozenset(
    {
        "School",
        "Police",
        "Youth Justice",
        "Children's Social Care",
        "Health",
        "Community",
        "Self or Family",
        "Other",
    }
)
STATUSES = frozenset({"Referred", "Engaged", "Completed", "Withdrawn"})
DAY = "%d/%m/%Y"

FEED = Feed(
    contract=Contract(
        feed="participants",
        description="participants referred to funded interventions (providers' lists)",
        columns=(
            Column("Referral ID", "referral_id", required=True, pattern=r"^[A-Z0-9-]{4,30}$"),
            Column("Participant ID", "participant_id", required=True, pattern=r"^[A-Z0-9]{4,20}$"),
            Column(
                "Project Reference",
                "project_ref",
                required=True,
                pattern=r"^[A-Za-z0-9][A-Za-z0-9/_.-]{1,39}$",
            ),
            *person.identity(DAY),
            Column("Referral Date", "referral_date", "date", required=True, format=DAY),
            Column("Referral Source", "referral_source", required=True, allowed=SOURCES),
            Column("Start Date", "start_date", "date", format=DAY),
            Column("End Date", "end_date", "date", format=DAY),
            Column("Status", "status", required=True, allowed=STATUSES),
            Column("Sessions Attended", "sessions", "int", minimum=0, maximum=1000),
        ),
        rules=(event_in_month("referral_date", "Referral Date", DAY),),
    ),
    org="council",
    event="referral_date",
    record_id="referral_id",
    person_id="participant_id",
)
