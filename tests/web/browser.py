"""Helpers for the browser tests: the real app served by uvicorn on 127.0.0.1 in a background
thread, Debian's Chromium driven by Playwright, and a watched page that records every request,
console error and page error, checks each page with axe-core and saves a screenshot of it."""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
#: This machine's network is closed: without these, Chromium tries to reach Google's services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: axe-core impacts that fail a test.
BLOCKING = ("serious", "critical")
#: Screenshots go here when set (else to the test's temporary folder).
SCREENSHOTS_ENV = "SVDUTY_SCREENSHOTS"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(app: Any, timeout: float = 60.0, warm: tuple[str, ...] = ()) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 in a thread; yields its origin (``http://...``)
    once ``/api/health`` answers and each path of ``warm`` has been fetched (the first view
    of the dashboard assesses the warehouse: slow once, then memoised)."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{origin}/api/health", timeout=5) as r:  # noqa: S310
                    if json.load(r)["ok"]:
                        break
            except OSError:
                pass
            if not thread.is_alive():
                raise RuntimeError(f"uvicorn stopped before it served {origin}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not answer on {origin} in {timeout:.0f} s")
            time.sleep(0.05)
        for path in warm:
            with urllib.request.urlopen(f"{origin}{path}", timeout=600) as r:  # noqa: S310
                r.read()
        yield origin
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def screenshot_dir(default: Path) -> Path:
    """Where screenshots go: ``$SVDUTY_SCREENSHOTS`` when set, else ``default``."""
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or default)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def violations(results: dict[str, Any], blocking: bool = True) -> list[str]:
    """axe-core's violations, one line each (rule, impact, help, targets): the serious and
    critical ones, or (``blocking=False``) the others."""
    lines = []
    for v in results["violations"]:
        if (v.get("impact") in BLOCKING) == blocking:
            targets = [" ".join(map(str, n["target"])) for n in v["nodes"]]
            lines.append(f"{v['id']} ({v['impact']}): {v['help']} at {targets[:8]}")
    return lines


class DoesNotReflow(AssertionError):
    """The page scrolls sideways at a narrow width (WCAG 2.2 1.4.10 Reflow)."""


#: Elements wider than the window, outside the boxes that may scroll (tables, the map).
_OVERFLOWING = """() => [...document.querySelectorAll("body *")]
  .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
  .filter((e) => !e.closest(".svduty-table-wrap, .leaflet-container"))
  .slice(0, 5)
  .map((e) => `${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""}.${e.classList[0] || ""}`
    + ` (${Math.round(e.getBoundingClientRect().right)} px)`)"""


def overflow(page: Any) -> str | None:
    """Why the page scrolls sideways (its widest elements), or None when it does not."""
    wide = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    return f"{page.url}: {page.evaluate(_OVERFLOWING)}" if wide else None


@dataclass
class Watched:
    """A page with everything it asked for and every error it logged."""

    page: Any
    origin: str
    shots: Path
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    #: HTTP statuses a test expects (Chromium logs "Failed to load resource" for each).
    allowed: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", self._console)
        self.page.on(
            "pageerror", lambda e: self.errors.append(f"page error: {e} ({self.page.url})")
        )

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        text = message.text
        found = re.match(
            r"Failed to load resource: the server responded with a status of (\d+)", text
        )
        if found and int(found.group(1)) in self.allowed:
            return
        self.errors.append(f"console: {text} ({self.page.url})")

    def allow_status(self, status: int) -> None:
        """Expect responses with this (error) status from now on."""
        self.allowed.add(status)

    def goto(self, path: str, status: int = 200) -> Any:
        """Open ``path`` on the server; its response must have ``status``."""
        response = self.page.goto(self.origin + path)
        assert response is not None, path
        assert response.status == status, f"{path}: {response.status}, not {status}"
        return response

    def check(self, name: str) -> None:
        """Check the page as it is now: axe-core finds nothing serious or critical; no error was
        logged; save a full-page screenshot as ``NAME.png``."""
        from axe_playwright_python.sync_playwright import Axe

        self.page.wait_for_load_state("load")
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)
        results = Axe().run(self.page).response
        problems = violations(results)
        assert not problems, f"axe-core on {name} ({self.page.url}):\n" + "\n".join(problems)
        for line in violations(results, blocking=False):  # shown with -rP or on failure
            print(f"axe-core on {name}, not blocking: {line}")
        self.checked.append(name)
        self.assert_clean()

    def shoot(self, name: str, selector: str) -> None:
        """Save a screenshot of one element as ``NAME.png`` (to look at its focus, say)."""
        self.page.locator(selector).screenshot(path=str(self.shots / f"{name}.png"))

    def assert_clean(self) -> None:
        """No console or page error; every request stayed on the server (or data:/about:)."""
        assert not self.errors, "\n".join(self.errors)
        away = [
            u for u in self.requests if not u.startswith((self.origin + "/", "data:", "about:"))
        ]
        assert not away, f"requests that left {self.origin}: {away}"


def sign_in(w: Watched, name: str, password: str) -> None:
    """Sign in through the form with the keyboard: type the name and password, press Enter."""
    w.goto("/login")
    w.page.get_by_label("User name").fill(name)
    w.page.get_by_label("Password").fill(password)
    with w.page.expect_navigation():
        w.page.get_by_label("Password").press("Enter")


def sign_out(w: Watched) -> None:
    """Press the header's "Sign out" button; land on the sign-in page saying so."""
    with w.page.expect_navigation():
        w.page.get_by_role("button", name="Sign out").click()
    assert re.search(r"/login\?signed_out=1$", w.page.url), w.page.url
