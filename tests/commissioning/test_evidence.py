"""The evidence file: every approach DOMAIN.md lists, lookups by name and alias, the flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from svduty.commissioning.evidence import describe, flag, flag_reason, load_evidence, lookup
from svduty.errors import ConfigError

#: The Youth Endowment Fund Toolkit ratings as DOMAIN.md gives them (an independent copy).
DOMAIN = {
    "focused deterrence": "high",
    "trauma-specific therapies": "high",
    "cognitive behavioural therapy": "high",
    "social skills training": "high",
    "A&E navigators": "high",
    "sports programmes": "high",
    "Functional Family Therapy": "moderate",
    "Multisystemic Therapy": "moderate",
    "mentoring": "moderate",
    "hot spots policing": "moderate",
    "pre-court diversion": "moderate",
    "restorative justice": "moderate",
    "after-school programmes": "low",
    "CCTV": "low",
    "adventure and wilderness therapy": "low",
    "police in schools": "unclear",
    "knife crime education": "unclear",
    "scared straight": "harmful",
    "prison awareness": "harmful",
}


@pytest.mark.parametrize(("name", "band"), sorted(DOMAIN.items()))
def test_every_approach_of_domain_is_rated_as_domain_says(name: str, band: str) -> None:
    entry = lookup(name)
    assert entry is not None, name
    assert entry.band == band


def test_the_flags() -> None:
    assert flag(lookup("Scared Straight")) == "harmful"
    assert flag(lookup("prison awareness")) == "harmful"
    assert flag(lookup("knife crime education")) == "no-clear-evidence"
    assert flag(lookup("other")) == "no-clear-evidence"
    assert flag(None) == "no-clear-evidence"
    mentoring = lookup("mentoring")
    assert mentoring is not None and mentoring.band == "moderate" and flag(mentoring) is None
    assert flag_reason(mentoring) is None
    assert "can cause harm" in (flag_reason(lookup("scared straight")) or "")
    assert "no clear evidence" in (flag_reason(lookup("knife crime workshops")) or "")


def test_lookup_ignores_case_spaces_and_hyphens() -> None:
    assert lookup("  A&E   NAVIGATORS ").key == "ae-navigators"  # type: ignore[union-attr]
    assert lookup("after_school programmes").key == "after-school-programmes"  # type: ignore[union-attr]
    assert lookup("MST").key == "multisystemic-therapy"  # type: ignore[union-attr]
    assert lookup("underwater basket weaving") is None


def test_no_estimate_is_invented() -> None:
    # DOMAIN.md gives two figures (focused deterrence about 33%, after-school -8%) and no
    # strength or cost rating: everything else must be left unrated.
    e = load_evidence()
    estimates = {k: a.estimate for k, a in e.approaches.items() if a.estimate is not None}
    assert estimates == {"focused-deterrence": 33.0, "after-school-programmes": 8.0}
    assert all(a.strength is None and a.cost is None for a in e.approaches.values())
    assert e.approaches["sports-programmes"].confidence == "low"
    assert "youthendowmentfund.org.uk/toolkit" in e.url and "DOMAIN.md" in e.read
    assert describe(e.approaches["focused-deterrence"]).startswith(
        "Focused deterrence: high impact (30% or more less violence; about 33% on average)"
    )


def test_a_partnerships_own_file(tmp_path: Path) -> None:
    own = tmp_path / "own.toml"
    own.write_text(
        'source = "Local review"\nurl = "https://example.org"\nread = "2026-10"\n'
        'version = "local-1"\n'
        + "".join(f"[bands.{b}]\nband_midpoint = 1.0\n" for b in BANDS)
        + '[approaches.other]\nname = "Other"\nband = "unclear"\n'
        '[approaches.boxing]\nname = "Boxing club"\nband = "moderate"\nstrength = 3\n'
    )
    e = load_evidence(own)
    assert lookup("boxing club", e).strength_factor == pytest.approx(0.6)  # type: ignore[union-attr]
    assert e.version == "local-1" and lookup("mentoring", e) is None

    bad = tmp_path / "bad.toml"
    bad.write_text(own.read_text().replace("strength = 3", "strength = 9"))
    with pytest.raises(ConfigError, match=r"bad.toml.*strength must be a whole number from 1 to 5"):
        load_evidence(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_evidence(tmp_path / "missing.toml")


BANDS = ("high", "moderate", "low", "unclear", "harmful")
