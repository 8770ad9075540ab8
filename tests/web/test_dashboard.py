"""The dashboard's data layer and routes on the synthetic partnership: filters slice the
assessment correctly (checked against the assessment's own rows), bad filters are refused, the
public view never shows a count from 1 to 4, and views are cached until the warehouse changes."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from svduty.analysis.counts import ALL
from svduty.config import Settings
from svduty.reports.public import is_count
from svduty.store import audit as store_audit
from svduty.store import open_store, users
from svduty.web.app import create_app
from svduty.web.dashboard import DASHBOARDS, Dashboards, FilterError, Snapshot
from svduty.web.dashboard_routes import _snapshot_of
from svduty.web.warehouse import WarehouseAccess
from tests.warehouses import Warehouse


@pytest.fixture(scope="module")
def web(synthetic_warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The platform over the synthetic warehouse with its own store, and an analyst's token."""
    root: Path = tmp_path_factory.mktemp("dashboard-store")
    wh = synthetic_warehouse
    settings = Settings(
        data_dir=wh.settings.data_dir,
        key_dir=wh.settings.key_dir,
        database_url=f"sqlite:///{root / 'store.sqlite'}",
    )
    store = open_store(settings)
    analyst = users.create_user(store, "police-analyst", "analyst", None, "a long passphrase 1")
    token = users.create_token(store, analyst.id, name="tests")
    yield (
        create_app(settings, store=store, warehouse_con=wh.con),
        store,
        {"Authorization": f"Bearer {token}"},
    )
    store.dispose()


@pytest.fixture(scope="module")
def snap(web: Any) -> Snapshot:
    return _snapshot_of(web[0])


@pytest.fixture(scope="module")
def client(web: Any) -> Iterator[TestClient]:
    with TestClient(web[0]) as c:  # the lifespan's warm-up shares the module's snapshot
        yield c


def _rows(snap: Snapshot, kind: str, area: str, months: list[str]) -> int:
    """The assessment's own count rows, summed (the independent reckoning)."""
    return sum(
        r["count"]
        for r in snap.figures["counts"]
        if r["kind"] == kind and r["area"] == area and r["month"] in months
    )


def test_totals_agree_with_the_assessment(snap: Snapshot) -> None:
    t = snap.trend(snap.everything)
    whole = next(
        r for r in snap.figures["trends"]["summary"] if r["kind"] == ALL and r["area"] == ALL
    )
    assert t["count"] == whole["count"] == sum(p["count"] for p in t["points"])
    assert t["rate_per_1000"] == pytest.approx(whole["rate_per_1000"])
    assert len(t["points"]) == len(snap.months) == snap.figures["scope"]["months"]


def test_area_filter_sums_the_lsoas_of_the_area(snap: Snapshot) -> None:
    area = next(iter(snap.area_names))
    f = snap.filters(area=area)
    t = snap.trend(f)
    lsoas = {p["lsoa"] for p in snap.figures["places"] if p["area"] == area}
    by_lsoa = sum(
        r["count"] for r in snap.figures["counts"] if r["area"] in lsoas and r["kind"] == ALL
    )
    assert t["count"] == by_lsoa == _rows(snap, ALL, area, snap.months)
    m = snap.map(f)
    assert {x["id"] for x in m["features"]} == lsoas
    assert sum(x["properties"]["count"] for x in m["features"]) == by_lsoa


def test_kind_and_period_filters(snap: Snapshot) -> None:
    months = snap.months[3:9]
    f = snap.filters(months[0], months[-1], kind="knife")
    t = snap.trend(f)
    assert [p["month"] for p in t["points"]] == months
    assert t["count"] == _rows(snap, "knife", ALL, months) > 0
    assert t["count"] < snap.trend(snap.filters(months[0], months[-1]))["count"]
    by_kind = {r["kind"]: r["count"] for r in t["by_kind"]}
    assert by_kind["knife"] == t["count"]
    assert sum(r["count"] for r in t["by_area"]) <= t["count"]
    assert t["change"] is None  # six months: no year to compare with
    m = snap.map(f)
    assert sum(x["properties"]["count"] for x in m["features"]) == sum(
        r["count"]
        for r in snap.figures["counts"]
        if r["kind"] == "knife" and r["month"] in months and r["area"] in snap.places.index
    )


def test_hotspots_match_the_assessment(snap: Snapshot) -> None:
    """The dashboard's analytic Gi* classes are the assessment's (999 permutations do not
    change a class, which rests on the normal p-value and the false discovery rate)."""
    mine = {x["id"]: x["properties"]["hotspot"] for x in snap.map(snap.everything)["features"]}
    theirs = {r["lsoa"]: r["class"] for r in snap.figures["where"]["hotspots"]["lsoas"]}
    assert mine == theirs
    assert "hot" in mine.values()


def test_drill_down_to_an_lsoa_and_an_area(snap: Snapshot) -> None:
    f = snap.filters(kind="robbery")
    feature = max(snap.map(f)["features"], key=lambda x: x["properties"]["count"])
    a = snap.area(feature["id"], f)
    assert a["level"] == "lsoa" and a["count"] == feature["properties"]["count"]
    assert sum(p["count"] for p in a["points"]) == a["count"]
    assert {k["kind"]: k["count"] for k in a["kinds"]}["robbery"] == a["count"]
    assert a["deprivation"] is None or 1 <= a["deprivation"]["decile"] <= 10
    area = snap.area(a["parent"]["code"], f)
    assert area["level"] == "partnership area"
    assert area["count"] == _rows(snap, "robbery", a["parent"]["code"], snap.months)
    assert area["top_lsoas"][0]["count"] >= area["top_lsoas"][-1]["count"]
    with pytest.raises(FilterError):
        snap.area("E01XXXXXX", f)


def test_cohorts_sliced_in_memory_match_the_assessment(snap: Snapshot) -> None:
    mine = snap.cohorts(snap.everything)
    theirs = snap.figures["cohorts"]
    assert theirs["available"] and mine["available"]
    for key in ("people", "records", "repeats", "victim_suspects", "knife_under_25"):
        assert mine[key] == theirs[key], key
    one = snap.cohorts(snap.filters(area=next(iter(snap.area_names))))
    assert one["people"] < mine["people"]


def test_measures_and_quality(snap: Snapshot) -> None:
    everything = snap.measures(snap.everything)
    assert everything["measures"] and everything["filters"]["area"] == ALL
    area = next(iter(snap.area_names))
    half = snap.measures(snap.filters(snap.months[0], snap.months[11], area=area, kind="knife"))
    assert half["area"] == area and half["filters"]["kind"] == ALL
    for m in (m for m in half["measures"] if m["available"]):
        assert len(m["series"]) <= 12
    q = snap.quality(snap.filters(snap.months[0], snap.months[5], area=area))
    assert q["feeds"] and q["months"] == {"from": snap.months[0], "to": snap.months[5]}


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"start": "2024-13"}, "from"),
        ({"end": "24-01"}, "to"),
        ({"start": "1990-01"}, "from"),
        ({"area": "E99999999"}, "area"),
        ({"kind": "shoplifting"}, "kind"),
    ],
)
def test_bad_filters_are_refused(snap: Snapshot, given: dict[str, str], field: str) -> None:
    with pytest.raises(FilterError) as e:
        snap.filters(**given)
    assert [x["field"] for x in e.value.errors] == [field]


def test_period_must_run_forwards(snap: Snapshot) -> None:
    with pytest.raises(FilterError, match="after the last"):
        snap.filters(snap.months[5], snap.months[2])


def _counts(part: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(part, dict):
        for k, v in part.items():
            if is_count(k):
                yield f"{path}.{k}", v
            yield from _counts(v, f"{path}.{k}")
    elif isinstance(part, list):
        for i, v in enumerate(part):
            yield from _counts(v, f"{path}[{i}]")


def test_public_view_never_shows_a_small_count(snap: Snapshot) -> None:
    view = snap.public_view()
    counts = list(_counts(view))
    assert counts and view["sentences"]
    small = [(p, v) for p, v in counts if isinstance(v, int) and 1 <= v <= 4]
    assert small == []
    text = str(view)
    assert not any(code in text for code in snap.places.index)  # no neighbourhood at all
    # the synthetic partnership has kinds rare enough to need suppression
    assert any(k["count"] is None for k in view["kinds"]) or view["disclosure"]["suppressed"]


def test_views_are_memoised_and_rebuilt_when_the_warehouse_changes(
    synthetic_warehouse: Warehouse, snap: Snapshot
) -> None:
    f = snap.filters(kind="knife")
    assert snap.trend(f) is snap.trend(dataclasses.replace(f))
    assert snap.json("map", f) is snap.json("map", f)
    access = WarehouseAccess(synthetic_warehouse.settings, synthetic_warehouse.con)
    cache = Dashboards()
    first = cache.snapshot("w", access.version(), access.read)
    assert cache.snapshot("w", access.version(), access.read) is first
    access.write(lambda con: None)  # a load, as far as the cache can tell
    second = cache.snapshot("w", access.version(), access.read)
    assert second is not first and second.version != first.version
    assert second.trend(second.everything)["count"] == first.trend(first.everything)["count"]


# --- routes ---------------------------------------------------------------------------------


def test_public_page_and_api_need_no_sign_in(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    for text in ("Where to find help", "0800 555 111", "0800 1111", "999", 'id="help"'):
        assert text in page.text
    assert "<script>" not in page.text and "onclick" not in page.text
    api = client.get("/api/public/figures")
    assert api.status_code == 200 and api.json()["sentences"]


@pytest.mark.parametrize(
    "path",
    ["/api/dashboard/options", "/api/dashboard/trend", "/api/dashboard/map",
     "/api/dashboard/measures", "/api/dashboard/quality", "/api/dashboard/cohorts",
     "/api/dashboard/area/E22900001"],
)  # fmt: skip
def test_dashboard_api_needs_a_staff_role(client: TestClient, web: Any, path: str) -> None:
    anonymous = client.get(path)
    assert anonymous.status_code == 401
    assert anonymous.json() == {
        "ok": False, "error": anonymous.json()["error"], "errors": [], "status": 401
    }  # fmt: skip
    signed_in = client.get(path, headers=web[2])
    assert signed_in.status_code == 200, signed_in.text


def test_api_filters_and_errors(client: TestClient, web: Any, snap: Snapshot) -> None:
    area = next(iter(snap.area_names))
    q = {"from": snap.months[0], "to": snap.months[11], "area": area, "kind": "knife"}
    trend = client.get("/api/dashboard/trend", params=q, headers=web[2]).json()
    assert trend["count"] == _rows(snap, "knife", area, snap.months[:12])
    geo = client.get("/api/dashboard/map", params=q, headers=web[2])
    assert geo.headers["content-type"].startswith("application/geo+json")
    assert geo.json()["type"] == "FeatureCollection"
    for bad, field in (({"from": "2024-13"}, "from"), ({"area": "E99999999"}, "area"),
                       ({"kind": "nope"}, "kind"), ({"from": "1990-01"}, "from")):  # fmt: skip
        r = client.get("/api/dashboard/trend", params=bad, headers=web[2])
        body = r.json()
        assert r.status_code == 422 and body["ok"] is False and body["status"] == 422
        assert field in str(body["errors"])
    missing = client.get("/api/dashboard/area/E01XXXXXX", headers=web[2])
    assert missing.status_code == 404 and missing.json()["ok"] is False


def test_dashboard_pages(client: TestClient, web: Any, snap: Snapshot) -> None:
    page = client.get("/dashboard", params={"kind": "knife"}, headers=web[2])
    assert page.status_code == 200
    for text in (
        'role="img"',
        "<title>",
        "govuk-table",
        'id="svduty-map"',
        'hx-get="/dashboard/panels"',
    ):
        assert text in page.text
    panels = client.get("/dashboard/panels", params={"kind": "robbery"}, headers=web[2])
    assert panels.status_code == 200 and "<html" not in panels.text
    assert panels.headers["HX-Push-Url"].startswith("/dashboard?")
    bad = client.get("/dashboard", params={"area": "nowhere"}, headers=web[2])
    assert bad.status_code == 422 and "govuk-error-summary" in bad.text
    lsoa = snap.places.index[0]
    for code in (lsoa, next(iter(snap.area_names))):
        area = client.get(f"/dashboard/area/{code}", headers=web[2])
        assert area.status_code == 200 and 'role="img"' in area.text
    assert client.get("/dashboard", follow_redirects=False).status_code in (303, 401)


def test_reads_are_audited(client: TestClient, web: Any) -> None:
    client.get("/api/dashboard/trend", params={"kind": "robbery"}, headers=web[2])
    events = store_audit.search(web[1], action="read", resource="dashboard/trend")
    assert events and events[0]["actor"] == "police-analyst"


def test_snapshot_is_shared_across_apps(web: Any, snap: Snapshot) -> None:
    assert (
        DASHBOARDS.snapshot(
            str(web[0].state.settings.data_dir.resolve()), snap.version, web[0].state.warehouse.read
        )
        is snap
    )
    assert isinstance(Settings, type)
