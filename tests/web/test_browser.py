"""The web platform in a real browser (Debian's Chromium, driven by Playwright): sign in with the
keyboard, upload a real police.uk month and read its validation, open the dashboard and its map,
filter it and drill down, check the audit trail's hash chain, sign out, and the public view.

On every page: axe-core finds no serious or critical violation, no console or page error is
logged, no request leaves the server, and a full-page screenshot is saved (to
``$SVDUTY_SCREENSHOTS`` when set, for a person to look at)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from svduty.config import Settings
from svduty.warehouse import connect
from tests.conftest import SHARED
from tests.warehouses import Warehouse
from tests.web.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DoesNotReflow,
    Watched,
    overflow,
    screenshot_dir,
    serve,
    sign_in,
    sign_out,
)
from tests.web.conftest import PASSWORD, Platform, build_platform

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is absent (scripts/system-deps.sh installs Debian's chromium)",
    ),
]

STREET = SHARED / "policeuk" / "2024-01" / "2024-01-cambridgeshire-street.csv"
VIEWPORT = {"width": 1280, "height": 900}
#: The kind of violence the dashboard test filters on.
KIND = "Knife or sharp object"


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screenshot_dir(tmp_path_factory.mktemp("screenshots"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def dashboard_site(
    synthetic_warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The platform over the session's synthetic warehouse (read only) with its own store,
    served on 127.0.0.1; yields its origin."""
    wh = synthetic_warehouse
    root = tmp_path_factory.mktemp("browser-dashboard")
    settings = Settings(
        data_dir=wh.settings.data_dir,
        key_dir=wh.settings.key_dir,
        key_file=wh.settings.key_file,
        database_url=f"sqlite:///{root / 'store.sqlite'}",
    )
    p = build_platform(settings, wh.con)
    with serve(p.app, warm=("/",)) as origin:
        yield origin
    p.store.dispose()


@pytest.fixture(scope="module")
def upload_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The platform over a new, empty warehouse of its own (uploads never touch the shared
    synthetic one), served on 127.0.0.1; yields its origin."""
    root = tmp_path_factory.mktemp("browser-uploads")
    settings = Settings(data_dir=root / "data", database_url=f"sqlite:///{root / 'store.sqlite'}")
    con = connect(settings)
    p: Platform = build_platform(settings, con)
    with serve(p.app) as origin:
        yield origin
    p.store.dispose()
    con.disconnect()


def _watched(browser: Any, origin: str, shots: Path) -> Iterator[Watched]:
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB")
    w = Watched(context.new_page(), origin, shots)
    yield w
    context.close()
    w.assert_clean()


@pytest.fixture
def on_dashboard_site(browser: Any, dashboard_site: str, shots: Path) -> Iterator[Watched]:
    """A fresh browser context (no cookies) on the dashboard site."""
    yield from _watched(browser, dashboard_site, shots)


@pytest.fixture
def on_upload_site(browser: Any, upload_site: str, shots: Path) -> Iterator[Watched]:
    """A fresh browser context (no cookies) on the upload site."""
    yield from _watched(browser, upload_site, shots)


def test_skip_link_comes_first_and_moves_focus_to_the_content(on_upload_site: Watched) -> None:
    w = on_upload_site
    w.goto("/login")
    w.page.keyboard.press("Tab")
    focused = w.page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    w.check("skip-link-focused")
    w.page.keyboard.press("Enter")
    assert w.page.evaluate("document.activeElement.id") == "main-content"
    # The next Tab goes on into the content (the first link of the sign-in page), not back up.
    w.page.keyboard.press("Tab")
    assert w.page.evaluate("document.activeElement.textContent.trim()") == "see them here"


def test_sign_in_errors_are_announced(on_upload_site: Watched) -> None:
    w = on_upload_site
    w.goto("/login")
    w.check("login")
    w.page.get_by_label("User name").fill("police-pdo")
    w.page.get_by_label("Password").fill("not the password")
    w.allow_status(400)
    with w.page.expect_response(re.compile(r"/login$")) as answer:
        w.page.get_by_label("Password").press("Enter")
    assert answer.value.status == 400
    summary = w.page.locator(".govuk-error-summary")
    assert "The user name or password is not right" in summary.inner_text()
    # GOV.UK Frontend moves focus to the summary so that a screen reader reads it out.
    assert w.page.evaluate("document.activeElement.classList.contains('govuk-error-summary')")
    w.check("login-error")


@pytest.mark.skipif(not STREET.is_file(), reason=f"the police.uk month {STREET} is absent")
def test_partner_uploads_a_police_uk_month_and_signs_out(on_upload_site: Watched) -> None:
    w = on_upload_site
    page = w.page
    sign_in(w, "police-pdo", PASSWORD)
    assert page.url == w.origin + "/uploads"
    w.check("uploads-empty")

    page.get_by_label("Feed").select_option("police-uk")
    page.get_by_label(re.compile(r"^File")).set_input_files(STREET)
    with page.expect_navigation(url=re.compile(r"/uploads/\d+$"), timeout=120_000):
        page.get_by_role("button", name="Upload and check").click()
    assert page.get_by_role("heading", level=1).inner_text().endswith(STREET.name)
    panel = page.locator(".govuk-panel").inner_text()
    assert re.search(r"[\d,]+ rows loaded", panel), panel
    assert "quarantined" in panel
    assert page.locator(".govuk-tag").first.inner_text().startswith("Loaded")
    months = page.locator(".govuk-summary-list__row", has_text="Months")
    assert "2024-01" in months.inner_text()
    w.check("upload-result")

    with page.expect_navigation():
        page.get_by_role("link", name="Back to uploads").click()
    history = page.get_by_role("table", name=re.compile("uploads, newest first"))
    assert STREET.name in history.inner_text()
    w.check("uploads-history")

    # Someone else's (or no) upload: the error page.
    w.allow_status(404)
    w.goto("/uploads/999999", status=404)
    assert page.get_by_role("heading", level=1).inner_text() == "Page not found"
    w.check("error-404")

    sign_out(w)
    assert "You have signed out." in page.locator(".govuk-notification-banner").inner_text()
    w.check("signed-out")
    # Signed out for real: the uploads page now sends you to sign in.
    w.goto("/uploads")
    assert page.url == w.origin + "/login?next=%2Fuploads"


def test_analyst_opens_the_dashboard_filters_it_and_drills_down(
    on_dashboard_site: Watched,
) -> None:
    w = on_dashboard_site
    page = w.page
    sign_in(w, "police-analyst", PASSWORD)
    assert page.url == w.origin + "/dashboard"
    shapes = page.locator("#svduty-map .leaflet-interactive")
    shapes.first.wait_for()
    drawn = shapes.count()
    # The table behind the map has one row per neighbourhood drawn.
    rows = page.locator("table", has_text="Neighbourhoods by records").locator("tbody tr")
    assert drawn > 0 and rows.count() == drawn
    w.check("dashboard")

    summary = page.locator("#summary")
    before = summary.inner_text()
    page.get_by_label("Kind of violence").select_option(label=KIND)
    with page.expect_response(re.compile(r"/dashboard/panels\?")) as answer:
        page.get_by_role("button", name="Show figures").click()
    assert answer.value.ok
    page.wait_for_function(
        "before => document.querySelector('#summary').innerText !== before", arg=before
    )
    assert summary.inner_text().startswith(KIND)
    assert "kind=" in page.url  # the filtered view has an address of its own
    shapes.first.wait_for()
    assert shapes.count() == drawn
    status = page.locator("#panels-status")
    assert status.inner_text() == f"Figures updated: {summary.inner_text()}"
    w.check("dashboard-filtered")

    # The map is one Tab stop; the arrow keys move from area to area, with a visible outline.
    assert page.locator('#svduty-map [tabindex="0"]').count() == 1
    shapes.first.focus()
    first = page.evaluate("document.activeElement.getAttribute('aria-label')")
    page.keyboard.press("ArrowRight")
    second = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert second and second != first
    assert page.locator('#svduty-map [tabindex="0"]').count() == 1
    assert page.locator(".leaflet-svduty-focus-pane path").count() == 2  # yellow, then black

    # Each neighbourhood on the map is a link: focus the one with the most records (the first
    # row of the table behind the map), and Enter opens its figures.
    busiest = rows.first.locator("a").text_content().strip()
    shape = page.locator(f'#svduty-map [aria-label^="{busiest}: "]')
    shape.focus()
    # Focus shows what a hover shows (the tooltips left fade out over 200 ms).
    page.wait_for_function("() => document.querySelectorAll('.leaflet-tooltip').length === 1")
    assert page.locator(".leaflet-tooltip").inner_text().startswith(f"{busiest}: ")
    w.shoot("dashboard-map-focused", "#svduty-map")
    with page.expect_navigation(url=re.compile(r"/dashboard/area/")):
        page.keyboard.press("Enter")
    assert page.get_by_role("heading", level=1).inner_text() == busiest
    assert page.get_by_label("Kind of violence").input_value() != "all"  # the filter followed
    w.check("area")
    sign_out(w)


def test_dpo_checks_the_audit_trail(on_dashboard_site: Watched) -> None:
    w = on_dashboard_site
    page = w.page
    sign_in(w, "dpo", PASSWORD)
    assert page.url == w.origin + "/audit"
    w.check("audit")
    with page.expect_navigation():
        page.get_by_role("button", name="Check the hash chain").click()
    banner = page.locator(".govuk-notification-banner")
    assert re.search(r"The audit trail is intact: [\d,]+ events", banner.inner_text())
    w.check("audit-verified")
    w.goto("/admin")
    assert page.get_by_role("table", name="Users").locator("tbody tr").count() >= 8
    w.check("admin")


def test_public_view_needs_no_sign_in(on_dashboard_site: Watched) -> None:
    w = on_dashboard_site
    page = w.page
    w.goto("/")
    assert page.get_by_role("heading", level=1).inner_text() == "Serious violence in our area"
    assert page.get_by_role("link", name="Sign in").is_visible()
    assert page.locator("table").count() >= 1
    scrolling = page.locator(".svduty-table-wrap[tabindex='0'][role='region']")
    assert scrolling.count() == 0  # every table fits: no needless Tab stop
    w.check("public")
    with page.expect_navigation():
        page.get_by_role("link", name="Accessibility statement").click()
    w.check("accessibility")
    # WCAG 1.4.10 reflow: at 320 CSS pixels the page does not scroll sideways (wide tables
    # scroll inside their own box).
    page.set_viewport_size({"width": 320, "height": 640})
    w.goto("/")
    assert overflow(page) is None, overflow(page)
    # ... and a table box that scrolls can be reached (and so scrolled) with the keyboard.
    assert scrolling.count() >= 1
    assert "(scrolls sideways)" in scrolling.first.get_attribute("aria-label")
    w.check("public-320px")


def test_dashboard_reflows_at_320px(on_dashboard_site: Watched) -> None:
    """WCAG 1.4.10: at 320 CSS pixels (a 1280 px window zoomed to 400%) the dashboard and an
    area's page do not scroll sideways; the map and wide tables scroll in their own boxes."""
    w = on_dashboard_site
    page = w.page
    page.set_viewport_size({"width": 320, "height": 640})
    sign_in(w, "police-analyst", PASSWORD)
    page.locator("#svduty-map .leaflet-interactive").first.wait_for()
    problems = [overflow(page)]
    w.check("dashboard-320px")
    with page.expect_navigation(url=re.compile(r"/dashboard/area/")):
        page.get_by_role("table", name=re.compile("by partnership area")).get_by_role(
            "link"
        ).first.click()
    problems.append(overflow(page))
    w.check("area-320px")
    found = [p for p in problems if p]
    if found:
        raise DoesNotReflow("pages scroll sideways at 320 px: " + "; ".join(found))
