"""Children's social care episodes, with child criminal and sexual exploitation flags."""

from svduty.datasets import person
from svduty.datasets.contract import Column, Contract
from svduty.datasets.feeds import Feed, event_in_month, flag

TYPES = frozenset({"Child in Need", "Child Protection Plan", "Looked After Child"})
DAY = "%d/%m/%Y"

FEED = Feed(
    contract=Contract(
        feed="social-care",
        description="children's social care episodes",
        columns=(
            Column("Episode ID", "episode_id", required=True, pattern=r"^[A-Z0-9]{4,20}$"),
            Column("Child ID", "child_id", required=True, pattern=r"^[A-Z0-9]{4,20}$"),
            person.nhs_number(),
            *person.identity(DAY),
            Column("Episode Start", "episode_start", "date", required=True, format=DAY),
            Column("Episode End", "episode_end", "date", format=DAY),
            Column("Episode Type", "episode_type", required=True, allowed=TYPES),
            flag("CCE Flag", "cce"),
            flag("CSE Flag", "cse"),
            Column("Missing Episodes", "missing_episodes", "int", minimum=0, maximum=500),
        ),
        rules=(event_in_month("episode_start", "Episode Start", DAY),),
    ),
    org="council",
    event="episode_start",
    record_id="episode_id",
    person_id="child_id",
)
