"""The partner feeds of a Serious Violence Duty partnership, one module each."""

from svduty.datasets.feeds import Feed
from svduty.datasets.partners import (
    ambulance,
    education,
    fire,
    istv,
    participants,
    police_crime,
    probation,
    social_care,
    youth_justice,
)

FEEDS: dict[str, Feed] = {
    f.name: f
    for f in (
        police_crime.FEED,
        istv.FEED,
        ambulance.FEED,
        youth_justice.FEED,
        probation.FEED,
        education.FEED,
        social_care.FEED,
        fire.FEED,
        participants.FEED,
    )
}

__all__ = ["FEEDS", "Feed"]
