"""Agreements: defaults for every feed, health record-level rows for health only, audited."""

from __future__ import annotations

import pytest

from svduty.datasets.partners import FEEDS
from svduty.store import audit
from svduty.store.agreements import (
    DEFAULT_AGREEMENTS,
    PARTNER_ORGS,
    AgreementError,
    agreement,
    can_see_aggregates,
    can_see_records,
    ensure_agreements,
    list_agreements,
    list_orgs,
    set_agreement,
)
from svduty.store.db import Store
from svduty.store.models import ROLES


def test_every_feed_has_a_default_agreement() -> None:
    assert set(DEFAULT_AGREEMENTS) == {"police-uk", *FEEDS}
    for name, feed in FEEDS.items():
        d = DEFAULT_AGREEMENTS[name]
        assert d["owner"] == feed.org and d["owner"] in PARTNER_ORGS
        assert d["retention_months"] >= 12 and d["purpose"] and d["legal_basis"]
        assert set(d["record_roles"]) <= set(ROLES)


@pytest.mark.parametrize("feed", ["istv", "ambulance", "social-care"])
def test_health_and_social_care_do_not_rest_on_section_16(feed: str) -> None:
    basis = DEFAULT_AGREEMENTS[feed]["legal_basis"]
    assert "does not cover" in basis and "Art. 9(2)" in basis


def test_defaults_created_once(store: Store) -> None:
    created = ensure_agreements(store)
    assert created == list(DEFAULT_AGREEMENTS)
    assert ensure_agreements(store) == []
    assert [o["short_name"] for o in list_orgs(store)] == list(PARTNER_ORGS)
    rows = {a["feed"]: a for a in list_agreements(store)}
    assert rows["istv"]["owner"] == "health" and rows["istv"]["record_orgs"] == ["health"]
    assert rows["police-crime"]["aggregate_roles"] == list(ROLES)
    assert audit.verify(store) == (1, [])


def test_health_record_level_rows_only_for_health_users(store: Store) -> None:
    ensure_agreements(store)
    istv = agreement(store, "istv")
    assert istv is not None
    for org in PARTNER_ORGS:
        for role in ROLES:
            allowed = can_see_records(istv, role, org)
            assert allowed == (org == "health" and role == "analyst"), (role, org)
            assert can_see_records("istv", role, org, store=store) == allowed
    assert can_see_records(istv, "analyst", None) is False
    assert can_see_records(istv, None, "health") is False
    assert can_see_aggregates(istv, "commissioner", "police")
    assert not can_see_aggregates(istv, None, None)  # the anonymous public
    assert not can_see_records("no-such-feed", "analyst", "police")
    assert can_see_records("police-crime", "analyst", "council")
    assert not can_see_records("police-crime", "commissioner", "police")


def test_set_agreement_is_audited_and_validated(store: Store) -> None:
    ensure_agreements(store)
    d = set_agreement(
        store, "istv", retention_months=24, record_orgs="health,ambulance", actor="dpo1"
    )
    assert d["retention_months"] == 24 and d["record_orgs"] == ["health", "ambulance"]
    assert can_see_records("istv", "analyst", "ambulance", store=store)
    event = audit.search(store, action="rights", actor="dpo1")[0]
    assert event["resource"] == "agreement:istv"
    assert event["detail"]["fields"]["retention_months"] == {"from": 36, "to": 24}
    with pytest.raises(AgreementError, match="unknown role"):
        set_agreement(store, "istv", record_roles="analyst,hacker")
    with pytest.raises(AgreementError, match="unknown organisation"):
        set_agreement(store, "istv", record_orgs="nowhere")
    with pytest.raises(AgreementError, match="at least 1"):
        set_agreement(store, "istv", retention_months=0)
    with pytest.raises(AgreementError, match="no agreement"):
        set_agreement(store, "nope", retention_months=5)
    with pytest.raises(AgreementError, match="cannot change"):
        set_agreement(store, "istv", owner="other")
    assert audit.verify(store) == (2, [])
