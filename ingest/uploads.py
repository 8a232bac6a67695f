"""Uploaded and pasted articles: safe file names, size limits, and writing them under NEWSDESK_HOME/uploads.

Nothing here is Streamlit's: the app's Library page uses it, and so can the command line. An upload
is anything with a ``name``, a ``size`` and ``getvalue()`` (Streamlit's ``UploadedFile`` is one).
A file is only ever written inside the uploads folder, under a name made of ``[A-Za-z0-9_-]`` and
a supported suffix; whatever cannot be accepted raises ``BadUpload`` with a sentence for the user.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
import uuid
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Protocol
from urllib.parse import urlsplit

from errors import BadUpload

if TYPE_CHECKING:
    from settings import Settings

UPLOAD_SUFFIXES = (".jsonl.gz", ".jsonl", ".json", ".txt", ".md", ".markdown", ".html", ".htm")
BULK_SUFFIXES = (".jsonl.gz", ".jsonl")  # many articles in one file: a larger limit


class Upload(Protocol):
    """One uploaded file: Streamlit's ``UploadedFile``, or any object with these three."""

    name: str
    size: int

    def getvalue(self) -> bytes: ...


def uploads_dir(settings: Settings) -> Path:
    folder = (settings.index.home / "uploads").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def safe_upload_name(raw: str) -> str:
    """A file name made only of [A-Za-z0-9_-] and a supported suffix: no folders, no dots, no hidden files."""
    name = unicodedata.normalize("NFKC", raw or "").replace("\x00", "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    lowered = name.lower()
    suffix = next((s for s in UPLOAD_SUFFIXES if lowered.endswith(s)), None)
    if suffix is None:
        raise BadUpload(f"“{raw}” is not a supported file: use {', '.join(UPLOAD_SUFFIXES)}.")
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", name[: len(name) - len(suffix)]).strip("_-")[:100]
    return (stem or "upload") + suffix


def upload_limit_bytes(name: str, settings: Settings) -> tuple[int, float]:
    """The size limit for a file of this name: (bytes, megabytes). JSONL files of many articles get more."""
    bulk = name.lower().endswith(BULK_SUFFIXES)
    megabytes = max(settings.index.bulk_max_mb, settings.index.max_article_mb) if bulk else settings.index.max_article_mb
    return int(megabytes * 1024 * 1024), megabytes


def check_upload_size(name: str, size: int, settings: Settings) -> None:
    limit, megabytes = upload_limit_bytes(name, settings)
    if size > limit:
        kind = "JSONL files" if name.lower().endswith(BULK_SUFFIXES) else "single-article files"
        raise BadUpload(f"“{name}” is {size / 1024 / 1024:.1f} MB; the limit for {kind} is {megabytes:g} MB.")
    if size == 0:
        raise BadUpload(f"“{name}” is empty.")


def write_upload(folder: Path, name: str, data: bytes) -> Path:
    """Writes ``data`` as ``folder/name`` (replacing a file of that name), never outside ``folder``."""
    folder = folder.resolve()
    target = folder / name
    if Path(name).name != name or name.startswith(".") or target.resolve().parent != folder:
        raise BadUpload(f"“{name}” would be written outside the uploads folder.")
    if target.is_dir():
        raise BadUpload(f"“{name}” is a folder in the uploads folder.")
    temporary = folder / f".upload-{uuid.uuid4().hex}.part"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, target)  # replaces a symlink itself, never what it points to
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target


def save_uploads(files: Iterable[Upload], settings: Settings) -> tuple[list[Path], list[str]]:
    """Writes accepted uploads under home/uploads. Returns (paths written, reasons for rejected ones)."""
    folder = uploads_dir(settings)
    written: list[Path] = []
    rejected: list[str] = []
    used: set[str] = set()
    for upload in files:
        try:
            name = safe_upload_name(upload.name)
            check_upload_size(name, upload.size, settings)
            stem, suffix = name, ""
            for s in UPLOAD_SUFFIXES:
                if name.lower().endswith(s):
                    stem, suffix = name[: -len(s)], name[-len(s):]
                    break
            counter = 2
            while name in used:
                name = f"{stem}-{counter}{suffix}"
                counter += 1
            used.add(name)
            written.append(write_upload(folder, name, upload.getvalue()))
        except BadUpload as error:
            rejected.append(str(error))
    return written, rejected


def is_web_url(url: str) -> bool:
    """An http(s) URL with a host and no control characters: the one rule for what becomes a link (the UI's
    ``safe_href`` too), so a pasted article's link is accepted exactly when it can be shown."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return (parts.scheme.lower() in ("http", "https") and bool(parts.netloc)
            and not any(ch in url for ch in "\n\r\t\x00"))


def pasted_article_file(settings: Settings, title: str, text: str, published: date | None, outlet: str,
                        url: str) -> Path:
    """Writes a pasted article as a JSON file in the uploads folder (ready to index) and returns its path."""
    title, text, outlet, url = title.strip(), text.strip(), outlet.strip(), url.strip()
    if not title:
        raise BadUpload("Give the article a title.")
    if not text:
        raise BadUpload("Paste the article's text.")
    if url and not is_web_url(url):
        raise BadUpload("The link must be an http(s) URL.")
    record = {"title": title, "text": text, "source": outlet or None, "url": url or None,
              "published_at": published.isoformat() if published else None}
    data = json.dumps(record, ensure_ascii=False, indent=1).encode("utf-8")
    limit, megabytes = upload_limit_bytes("x.json", settings)
    if len(data) > limit:
        raise BadUpload(f"The pasted article is larger than {megabytes:g} MB.")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode())
    slug = slug.strip("-").lower()[:60] or "article"
    fingerprint = hashlib.sha256(json.dumps([title, outlet, record["published_at"]]).encode()).hexdigest()[:8]
    name = safe_upload_name(f"pasted-{slug}-{fingerprint}.json")
    return write_upload(uploads_dir(settings), name, data)


def remove_articles(indexer, settings: Settings, ids: list[str]) -> tuple[list[str], list[str]]:
    """``indexer.remove(ids)``, and an uploaded file left with no indexed article is deleted too, so the
    next sync cannot bring its articles back. Returns (removed, unknown)."""
    folder = uploads_dir(settings)
    paths = {record.path for record in (indexer.catalog.get_article(i) for i in ids) if record is not None}
    removed, unknown = indexer.remove(ids)
    for path in paths:
        file = Path(path)
        if file.parent.resolve() == folder and not indexer.catalog.article_ids_under(str(file)):
            file.unlink(missing_ok=True)
    return removed, unknown
