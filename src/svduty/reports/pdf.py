"""Print an HTML report to PDF with headless Chromium (Debian's ``chromium``), so that the PDF
is exactly what the HTML shows, charts included, with nothing fetched from the network."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from svduty.errors import SvdutyError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class PdfError(SvdutyError):
    """The PDF could not be printed."""


def find_chromium() -> str:
    """The Chromium executable: ``SVDUTY_CHROMIUM`` if set, else the first on the PATH."""
    chosen = os.environ.get("SVDUTY_CHROMIUM")
    if chosen:
        if not Path(chosen).is_file():
            raise PdfError(f"SVDUTY_CHROMIUM={chosen} is not a file")
        return chosen
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    raise PdfError(
        "printing the PDF needs Chromium, which was not found on the PATH: install Debian's "
        "package (apt install chromium) or set SVDUTY_CHROMIUM; the HTML report was written"
    )


def print_pdf(html: Path, pdf: Path, timeout: float = 180) -> Path:
    """Print ``html`` to ``pdf`` (A4, backgrounds, no browser header or footer)."""
    exe = find_chromium()
    with tempfile.TemporaryDirectory(prefix="svduty-chromium-") as profile:
        cmd = [
            exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            "--disable-background-networking", f"--user-data-dir={profile}",
            "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw",
            f"--print-to-pdf={pdf}", html.resolve().as_uri(),
        ]  # fmt: skip
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise PdfError(f"Chromium did not print {html} within {timeout:.0f} s") from e
    if done.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        tail = (done.stderr or "").strip().splitlines()[-3:]
        raise PdfError(f"Chromium could not print {html} to PDF: {' | '.join(tail)}")
    return pdf
