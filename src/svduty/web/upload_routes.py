"""The upload portal: a partner uploads its feed's files and sees what validation found.

A file is read into memory (or a temporary folder outside the data folder, for a zip archive),
loaded through the same ingestion as ``svduty ingest`` (validated, quarantined with reasons,
identifiers sealed), and then forgotten: the store keeps its name, size, SHA-256 and results.
An organisation sees only its own uploads; an id of another organisation's upload is "not found"
(and the attempt is audited).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from svduty.datasets.partners import FEEDS
from svduty.errors import FileRefused
from svduty.store.models import Organisation, Upload, stamp
from svduty.web.security import Principal, audit, check_csrf, require
from svduty.web.templating import render

router = APIRouter()

UPLOADERS = ("partner_data_officer", "admin")
#: The organisation that sends each feed.
FEED_ORG: dict[str, str] = {"police-uk": "police", **{f.name: f.org for f in FEEDS.values()}}
FEED_LABELS: dict[str, str] = {
    "police-uk": "police.uk street, outcomes and stop and search files",
    **{f.name: f.contract.description for f in FEEDS.values()},
}
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._()+-]{0,199}$")
QUARANTINE_SHOWN = 500
#: The largest id an upload can have (the column is a 32-bit integer on PostgreSQL).
MAX_ID = 2**31 - 1


def feeds_for(who: Principal) -> list[str]:
    """The feeds this principal may upload: its organisation's (every feed for an admin)."""
    if who.role == "admin":
        return list(FEED_ORG)
    return [feed for feed, org in FEED_ORG.items() if org == who.org]


def check_file_name(name: str) -> str | None:
    """Why a file name is refused, or None. Names are shown back, so only plain ones pass.

    >>> check_file_name("2024-01-avon-and-somerset-street.csv") is None
    True
    >>> "folder" in check_file_name("../../etc/passwd.csv")
    True
    """
    if not name:
        return "the file has no name"
    if "/" in name or "\\" in name or ".." in name:
        return 'the file name must not contain a folder ("/", "\\\\" or "..")'
    if not _SAFE_NAME.match(name):
        return "the file name may use only letters, digits, spaces and . _ ( ) + -"
    if not name.lower().endswith((".csv", ".zip")):
        return "only .csv files (or a .zip of them) can be uploaded"
    return None


def _org_id(request: Request, short_name: str) -> int:
    with request.app.state.store.sessions() as s:
        org = s.execute(select(Organisation).where(Organisation.short_name == short_name)).scalar()
    if org is None:
        raise HTTPException(409, f"The organisation {short_name!r} is not set up in svduty.")
    return org.id


def _sources(upload_id: int, name: str, data: bytes, work: Path) -> tuple[list[Any], list[Any]]:
    from svduty.ingest.sources import Source, zip_sources

    display = f"upload {upload_id}: {name}"
    if name.lower().endswith(".zip"):
        archive = work / name
        archive.write_bytes(data)
        found, refused = zip_sources(archive)
        # Name members as "upload N: name.zip!member", never by the server's temporary folder
        # (the names are stored with the quarantine and shown to the uploader).
        where = str(archive)

        def shown(text: str) -> str:
            return display + text[len(where) :] if text.startswith(where) else text

        found = [dataclasses.replace(f, display=shown(f.display)) for f in found]
        for r in refused:
            r.source = shown(r.source)
        return found, refused
    return [Source(display=display, name=name, reader=lambda: data)], []


def _ingest(request: Request, who: Principal, feed: str, sources: list[Any], refused: list[Any]):
    settings = request.app.state.settings

    def load(con: Any) -> Any:
        if feed == "police-uk":
            from svduty.ingest.police_uk import ingest_police_uk

            return ingest_police_uk(con, sources, refused)
        from svduty.ingest.partners import ingest_feed

        return ingest_feed(con, settings, feed, sources, refused, FEED_ORG[feed])

    return request.app.state.warehouse.write(load)


def _quarantined(request: Request, displays: set[str]) -> list[dict[str, Any]]:
    """The quarantined rows of these source files: row, column, rule and reason (no values)."""

    def read(con: Any) -> list[dict[str, Any]]:
        q = con.table("quarantine")
        q = q.filter(q.source.isin(sorted(displays))).order_by([q.source, q.row, q.rule])
        cols = ["source", "row", "column", "rule", "message"]
        return q.select(cols).limit(QUARANTINE_SHOWN).to_pyarrow().to_pylist()

    return request.app.state.warehouse.read(read)


def receive(request: Request, who: Principal, feed: str, name: str, data: bytes) -> Upload:
    """Validate and load one uploaded file; record and audit it. Raises HTTPException if refused."""
    if feed not in FEED_ORG:
        audit(request, "upload", f"feed:{feed[:60]}", "refused", reason="unknown feed")
        raise HTTPException(422, f"There is no feed called {feed[:60]!r}.")
    if feed not in feeds_for(who):
        audit(request, "upload", f"feed:{feed}", "refused", reason="not this organisation's feed")
        raise HTTPException(403, f"Only {FEED_ORG[feed]} can upload the {feed} feed.")
    problem = check_file_name(name)
    if problem:
        audit(request, "upload", f"feed:{feed}", "refused", reason=problem)
        raise HTTPException(422, f"The file was refused: {problem}.")
    if len(data) > MAX_UPLOAD_BYTES:
        audit(request, "upload", f"feed:{feed}", "refused", reason="too large", bytes=len(data))
        raise HTTPException(413, f"The file is over the limit of {MAX_UPLOAD_BYTES:,} bytes.")
    if not data:
        audit(request, "upload", f"feed:{feed}", "refused", reason="empty")
        raise HTTPException(422, "The file is empty.")
    store = request.app.state.store
    with store.session() as s:
        upload = Upload(
            org_id=_org_id(request, FEED_ORG[feed]),
            user_id=who.user_id,
            feed=feed,
            filename=name,
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            status="received",
        )
        s.add(upload)
        s.flush()
        upload_id = upload.id
    work = Path(tempfile.mkdtemp(prefix="svduty-upload-"))
    try:
        sources, refused = _sources(upload_id, name, data, work)
        report = _ingest(request, who, feed, sources, refused)
    except FileRefused as e:
        report = None
        failure = e.message
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with store.session() as s:
        upload = s.get(Upload, upload_id)
        assert upload is not None
        upload.finished_at = stamp()
        if report is None:
            upload.status = "refused"
            upload.result = {"files": [], "refused": [failure], "quarantine": []}
        else:
            totals = report.totals()
            upload.rows_read = totals["rows_read"]
            upload.rows_loaded = totals["rows_loaded"]
            upload.rows_quarantined = totals["rows_quarantined"]
            upload.rows_already_present = totals["rows_already_present"]
            upload.months = sorted({r.month.strftime("%Y-%m") for r in report.results if r.month})
            files = [
                {"file": r.file_name, "status": r.status, "rows_read": r.rows_read,
                 "rows_loaded": r.rows_loaded, "rows_quarantined": r.rows_quarantined,
                 "rows_already_present": r.rows_already_present, "message": r.message}
                for r in report.results
            ]  # fmt: skip
            quarantine = (
                _quarantined(request, {r.source for r in report.results})
                if totals["rows_quarantined"]
                else []
            )
            upload.result = {
                "files": files,
                "refused": [r.message for r in report.refused],
                "quarantine": quarantine,
            }
            upload.status = "refused" if len(report.refused) == len(report.results) else "loaded"
        result = upload
    audit(
        request,
        "upload",
        f"upload:{upload_id}",
        "ok" if result.status == "loaded" else "refused",
        feed=feed,
        file=name,
        sha256=result.sha256,
        rows_loaded=result.rows_loaded,
        rows_quarantined=result.rows_quarantined,
    )
    return result


def as_json(upload: Upload, org: str) -> dict[str, Any]:
    """An upload as the API gives it."""
    return {
        "id": upload.id,
        "org": org,
        "feed": upload.feed,
        "filename": upload.filename,
        "size_bytes": upload.size_bytes,
        "sha256": upload.sha256,
        "status": upload.status,
        "rows_read": upload.rows_read,
        "rows_loaded": upload.rows_loaded,
        "rows_quarantined": upload.rows_quarantined,
        "rows_already_present": upload.rows_already_present,
        "months": upload.months,
        "created_at": upload.created_at,
        "finished_at": upload.finished_at,
        "removed_at": upload.removed_at,
        "result": upload.result,
    }


def visible_uploads(request: Request, who: Principal, limit: int = 100) -> list[dict[str, Any]]:
    """The uploads this principal may see, newest first: its organisation's (all for an admin)."""
    q = select(Upload, Organisation.short_name).join(Organisation, Upload.org_id == Organisation.id)
    if who.role != "admin":
        q = q.where(Organisation.short_name == who.org)
    q = q.order_by(Upload.id.desc()).limit(limit)
    with request.app.state.store.sessions() as s:
        return [as_json(u, org) for u, org in s.execute(q).all()]


def one_upload(request: Request, who: Principal, upload_id: int) -> dict[str, Any]:
    """One upload, if this principal may see it; 404 otherwise (audited)."""
    row = None
    if 1 <= upload_id <= MAX_ID:  # a number no id can be is not found (never a database error)
        q = (
            select(Upload, Organisation.short_name)
            .join(Organisation, Upload.org_id == Organisation.id)
            .where(Upload.id == upload_id)
        )
        with request.app.state.store.sessions() as s:
            row = s.execute(q).first()
    if row is None or (who.role != "admin" and row[1] != who.org):
        audit(request, "read", f"upload:{upload_id}", "refused", reason="not found or not yours")
        raise HTTPException(404, "There is no upload with that number for your organisation.")
    audit(request, "read", f"upload:{upload_id}")
    return as_json(row[0], row[1])


Uploader = Annotated[Principal, Depends(require(*UPLOADERS))]


@router.get("/uploads", response_class=HTMLResponse, include_in_schema=False)
def uploads_page(request: Request, who: Uploader) -> Response:
    return render(
        request,
        "uploads.html",
        {
            "feeds": [(f, FEED_LABELS[f]) for f in feeds_for(who)],
            "uploads": visible_uploads(request, who),
            "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
            "errors": {},
        },
    )


@router.post("/uploads", include_in_schema=False)
async def upload_form(
    request: Request,
    who: Uploader,
    _: Annotated[None, Depends(check_csrf)],
    feed: Annotated[str, Form(max_length=60)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    errors: dict[str, str] = {}
    if not feed:
        errors["feed"] = "Choose the feed this file belongs to"
    if file is None or not file.filename:
        errors["file"] = "Choose a file to upload"
    if errors:
        return render(
            request,
            "uploads.html",
            {
                "feeds": [(f, FEED_LABELS[f]) for f in feeds_for(who)],
                "uploads": visible_uploads(request, who),
                "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
                "errors": errors,
            },
            status_code=422,
        )
    assert file is not None
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    from starlette.concurrency import run_in_threadpool

    try:
        upload = await run_in_threadpool(receive, request, who, feed, file.filename or "", data)
    except HTTPException as e:
        return render(
            request,
            "uploads.html",
            {
                "feeds": [(f, FEED_LABELS[f]) for f in feeds_for(who)],
                "uploads": visible_uploads(request, who),
                "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
                "errors": {"file": str(e.detail)},
                "chosen": feed,
            },
            status_code=e.status_code,
        )
    return RedirectResponse(f"/uploads/{upload.id}", status_code=303)


@router.get("/uploads/{upload_id}", response_class=HTMLResponse, include_in_schema=False)
def upload_page(request: Request, who: Uploader, upload_id: int) -> Response:
    return render(request, "upload.html", {"upload": one_upload(request, who, upload_id)})


@router.post("/api/uploads", tags=["uploads"], summary="Upload a file for a feed", status_code=201)
async def upload_api(
    request: Request,
    who: Uploader,
    _: Annotated[None, Depends(check_csrf)],
    feed: Annotated[str, Form(max_length=60, description="The feed, e.g. police-uk")],
    file: Annotated[UploadFile, File(description="A CSV file (or a .zip of them)")],
) -> dict[str, Any]:
    """Validate and load the file; returns the upload with rows loaded and quarantined."""
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    from starlette.concurrency import run_in_threadpool

    upload = await run_in_threadpool(receive, request, who, feed, file.filename or "", data)
    return {"ok": True, "upload": as_json(upload, FEED_ORG[feed])}


@router.get("/api/uploads", tags=["uploads"], summary="Your organisation's uploads")
def uploads_api(request: Request, who: Uploader) -> dict[str, Any]:
    """The uploads of your organisation, newest first (an administrator sees every one)."""
    return {"ok": True, "uploads": visible_uploads(request, who)}


@router.get("/api/uploads/{upload_id}", tags=["uploads"], summary="One upload and its result")
def upload_api_one(request: Request, who: Uploader, upload_id: int) -> dict[str, Any]:
    """One upload with its validation result; 404 for another organisation's."""
    return {"ok": True, "upload": one_upload(request, who, upload_id)}
