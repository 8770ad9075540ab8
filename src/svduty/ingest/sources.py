"""Finding the files to load among paths, folders and zip archives, safely.

Archives are untrusted: a member whose name would escape a folder (``../../evil.csv``, an absolute
path), or that claims to be larger than the limit, is refused with its reason; the rest of the
archive is still read.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from svduty.errors import FileRefused

MAX_FILE_BYTES = 1 << 30  # one force-month of police.uk is tens of MB; 1 GiB is far beyond


@dataclass(frozen=True)
class Source:
    """One file to load: a file on disk or a member of a zip archive."""

    display: str
    name: str
    reader: Callable[[], bytes]

    def read(self) -> bytes:
        """The file's bytes."""
        return self.reader()


def _file_reader(path: Path) -> Callable[[], bytes]:
    def read() -> bytes:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise FileRefused(
                str(path),
                "too-large",
                f"the file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}",
            )
        return path.read_bytes()

    return read


def _member_reader(archive: Path, member: str, display: str) -> Callable[[], bytes]:
    def read() -> bytes:
        with zipfile.ZipFile(archive) as zf, zf.open(member) as f:
            data = f.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise FileRefused(display, "too-large", f"the member is over {MAX_FILE_BYTES:,} bytes")
        return data

    return read


def _unsafe(member: str) -> bool:
    p = PurePosixPath(member.replace("\\", "/"))
    return p.is_absolute() or ".." in p.parts or (len(member) > 1 and member[1] == ":")


def zip_sources(archive: Path, suffix: str = ".csv") -> tuple[list[Source], list[FileRefused]]:
    """The CSV members of a zip archive, and the members refused as unsafe."""
    sources: list[Source] = []
    refused: list[FileRefused] = []
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as e:
        return [], [FileRefused(str(archive), "not-zip", f"not a readable zip archive ({e})")]
    with zf:
        for info in sorted(zf.infolist(), key=lambda i: i.filename):
            if info.is_dir():
                continue
            display = f"{archive}!{info.filename}"
            if _unsafe(info.filename):
                refused.append(
                    FileRefused(
                        display,
                        "unsafe-path",
                        "the archive member's path leaves its folder (absolute or '..'); "
                        "it was not extracted or read",
                    )
                )
                continue
            if not info.filename.lower().endswith(suffix):
                continue
            if info.file_size > MAX_FILE_BYTES:
                refused.append(
                    FileRefused(
                        display, "too-large", f"the member unpacks to {info.file_size:,} bytes"
                    )
                )
                continue
            name = PurePosixPath(info.filename).name
            sources.append(Source(display, name, _member_reader(archive, info.filename, display)))
    return sources, refused


def find_sources(paths: list[Path], suffix: str = ".csv") -> tuple[list[Source], list[FileRefused]]:
    """Every file to load under ``paths`` (files, folders searched recursively, zip archives).

    Returns:
        The sources in a stable order (sorted by path), and the paths refused outright.
    """
    sources: list[Source] = []
    refused: list[FileRefused] = []

    def add(path: Path) -> None:
        if path.suffix.lower() == ".zip":
            s, r = zip_sources(path, suffix)
            sources.extend(s)
            refused.extend(r)
        else:
            sources.append(Source(str(path), path.name, _file_reader(path)))

    for path in paths:
        if not path.exists():
            refused.append(FileRefused(str(path), "not-found", "no such file or folder"))
        elif path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in (suffix, ".zip")
            )
            if not found:
                refused.append(
                    FileRefused(
                        str(path), "not-found", f"the folder holds no {suffix} or .zip files"
                    )
                )
            for p in found:
                add(p)
        else:
            add(path)
    return sources, refused
