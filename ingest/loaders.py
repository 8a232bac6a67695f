"""Article files in: one loader per format, and a scanner that walks folders safely.

Every problem with an input (empty, binary, bad encoding, malformed JSON, no text, too large,
unreadable, symlink loop) becomes a ``Skipped`` with a reason; nothing here raises for bad input.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import stat
import zlib
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

from index.types import Article, LoadResult, Skipped, article_id_for
from ingest.dates import parse_date

SUFFIXES = (".jsonl.gz", ".jsonl", ".json", ".txt", ".md", ".markdown", ".html", ".htm")
_TEXT_KEYS = ("text", "body", "content", "article", "maintext")
_DATE_KEYS = ("published_at", "publish_date", "published", "date", "pubDate", "datePublished", "created_at")
_SOURCE_KEYS = ("source", "outlet", "site", "site_name", "publisher")
_URL_KEYS = ("url", "link", "href")
_AUTHOR_KEYS = ("authors", "author", "byline")
_CONTAINER_LIMIT = 4 * 1024**3  # JSONL/JSON-list files are streamed; only absurd ones are refused


def suffix_of(path: Path) -> str | None:
    name = path.name.lower()
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return suffix
    return None


class ArticleLoader:
    """Parses one file into articles. ``relpath`` (relative to the indexed root) keys URL-less ids."""

    def __init__(self, max_article_bytes: int = 5 * 1024 * 1024) -> None:
        self.max_article_bytes = max_article_bytes

    def load(self, path: Path, relpath: str, sink: Callable[[Article], None] | None = None) -> LoadResult:
        """Parse ``path``. With ``sink``, articles are handed over one by one as they are parsed."""
        result = LoadResult(sink=sink)
        where = str(path)
        suffix = suffix_of(path)
        if suffix is None:
            result.skipped.append(Skipped(where, "unsupported file type"))
            return result
        try:
            info = path.stat()
        except OSError as error:
            result.skipped.append(Skipped(where, _os_reason(error)))
            return result
        if not stat.S_ISREG(info.st_mode):
            result.skipped.append(Skipped(where, "not a regular file"))
            return result
        if info.st_size == 0:
            result.skipped.append(Skipped(where, "empty file"))
            return result
        single = suffix not in (".jsonl", ".jsonl.gz", ".json")
        limit = self.max_article_bytes if single else _CONTAINER_LIMIT
        if info.st_size > limit:
            mb = self.max_article_bytes / 1024**2
            result.skipped.append(Skipped(where, f"file larger than {mb:g} MB ({info.st_size / 1024**2:.1f} MB)"))
            return result
        if suffix in (".jsonl", ".jsonl.gz"):
            for item in self._jsonl_items(path, relpath, suffix == ".jsonl.gz"):
                self._add(result, item)  # outside the reading code: a sink's own errors are not read errors
            return result
        try:
            raw = path.read_bytes()
        except OSError as error:
            result.skipped.append(Skipped(where, _os_reason(error)))
            return result
        if b"\x00" in raw[:8192]:
            result.skipped.append(Skipped(where, "binary file"))
            return result
        text, problem = _decode(raw)
        if problem:
            result.skipped.append(Skipped(where, problem))
            return result
        if not text.strip():
            result.skipped.append(Skipped(where, "empty file"))
            return result
        if suffix == ".json":
            self._load_json(path, relpath, text, result)
        elif suffix == ".txt":
            self._add(result, _from_txt(text, path, relpath))
        elif suffix in (".md", ".markdown"):
            self._add(result, _from_markdown(text, path, relpath))
        else:
            self._add(result, _from_html(text, path, relpath))
        return result

    def _add(self, result: LoadResult, article: Article | Skipped) -> None:
        if isinstance(article, Skipped):
            result.skipped.append(article)
        elif len(article.text.encode("utf-8")) > self.max_article_bytes:
            result.skipped.append(Skipped(_where(article.path, article.line), "article text larger than the size limit"))
        else:
            result.add(article)

    def _load_json(self, path: Path, relpath: str, text: str, result: LoadResult) -> None:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            result.skipped.append(Skipped(str(path), f"malformed JSON: {error.msg} (line {error.lineno})"))
            return
        if isinstance(data, dict) and isinstance(data.get("articles"), list):
            data = data["articles"]
        if isinstance(data, dict):
            self._add(result, _from_record(data, path, relpath, None))
        elif isinstance(data, list):
            for number, item in enumerate(data, start=1):
                if isinstance(item, dict):
                    self._add(result, _from_record(item, path, relpath, number))
                else:
                    result.skipped.append(Skipped(_where(str(path), number), "list item is not a JSON object"))
        else:
            result.skipped.append(Skipped(str(path), "JSON is neither an article object nor a list of them"))

    def _jsonl_items(self, path: Path, relpath: str, gzipped: bool) -> Iterator[Article | Skipped]:
        """Each line's article, or why it was skipped; a file that cannot be read is one Skipped."""
        where = str(path)
        try:
            with open(path, "rb") as handle:
                head = handle.read(8192)
        except OSError as error:
            yield Skipped(where, _os_reason(error))
            return
        if gzipped and not head.startswith(b"\x1f\x8b"):
            yield Skipped(where, "not a gzip file")
            return
        if not gzipped and b"\x00" in head:
            yield Skipped(where, "binary file")
            return
        opener = gzip.open if gzipped else open
        try:
            with opener(path, "rb") as stream:
                for number, raw in enumerate(_bounded_lines(stream, self.max_article_bytes), start=1):
                    if raw is None:
                        yield Skipped(_where(where, number), "line larger than the size limit")
                        continue
                    if not raw.strip():
                        continue
                    line, problem = _decode(raw)
                    if problem:
                        yield Skipped(_where(where, number), problem)
                        continue
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError as error:
                        yield Skipped(_where(where, number), f"malformed JSON: {error.msg}")
                        continue
                    if not isinstance(record, dict):
                        yield Skipped(_where(where, number), "line is not a JSON object")
                        continue
                    yield _from_record(record, path, relpath, number)
        except (OSError, EOFError, zlib.error) as error:  # raised while reading: the consumer runs outside
            yield Skipped(where, f"unreadable: {error}")


def _bounded_lines(stream: io.BufferedIOBase, limit: int) -> Iterator[bytes | None]:
    """Lines of a binary stream; a line longer than ``limit`` yields None without being held in memory."""
    pending = b""
    oversized = False
    while True:
        block = stream.read(1 << 20)
        if not block:
            break
        pending += block
        while True:
            cut = pending.find(b"\n")
            if cut < 0:
                break
            line, pending = pending[:cut], pending[cut + 1:]
            yield None if oversized or len(line) > limit else line
            oversized = False
        if len(pending) > limit:
            oversized, pending = True, b""
    if pending or oversized:
        yield None if oversized or len(pending) > limit else pending


def _decode(raw: bytes) -> tuple[str, str | None]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return "", f"invalid UTF-8 at byte {error.start}"
    return text.replace("\r\n", "\n").replace("\r", "\n"), None


# C0/C1 control characters (terminal escapes), zero-width and bidi-override characters carry no
# meaning in news text but can hide instructions or garble a terminal: they are removed on load.
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e"
                        "\u2060-\u2064\u2066-\u2069\ufeff]")


def clean_text(text: str) -> str:
    return _INVISIBLE.sub("", text)


def _where(path: str, line: int | None) -> str:
    return f"{path}:{line}" if line is not None else path


def _os_reason(error: OSError) -> str:
    if error.errno == 40:  # ELOOP
        return "symlink loop"
    if isinstance(error, PermissionError):
        return "unreadable: permission denied"
    if isinstance(error, FileNotFoundError):
        return "broken symlink or vanished file"
    return f"unreadable: {error.strerror or error}"


def _first(record: dict, keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = record.get(key)
        if value not in (None, "", []):
            return value
    return None


def _authors(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = re.sub(r"^\s*by\s+", "", value, flags=re.I)
        parts = re.split(r"\s*(?:;|,|\band\b)\s*", value)
    elif isinstance(value, list):
        parts = [p.get("name", "") if isinstance(p, dict) else str(p) for p in value]
    else:
        parts = [str(value)]
    return tuple(p.strip() for p in parts if p and p.strip())


def _source_from_url(url: str | None) -> str | None:
    if not url:
        return None
    host = urlsplit(url).netloc.lower()
    return host[4:] if host.startswith("www.") else (host or None)


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = re.sub(r"\s+", " ", clean_text(str(value))).strip()
    return text or None


def _make(path: Path, relpath: str, line: int | None, *, text: str, title: Any = None, url: Any = None,
          source: Any = None, date: Any = None, authors: Any = None, summary_only: Any = False) -> Article | Skipped:
    body = clean_text(text).strip("\n") if isinstance(text, str) else ""
    if not body.strip():
        return Skipped(_where(str(path), line), "no text")
    url = _clean(url)
    return Article(
        id=article_id_for(url, relpath, line),
        text=body,
        path=str(path),
        title=_clean(title),
        source=_clean(source) or _source_from_url(url),
        url=url,
        published_at=parse_date(date),
        authors=_authors(authors),
        line=line,
        summary_only=summary_only is True or str(summary_only).lower() == "true",
    )


def _from_record(record: dict, path: Path, relpath: str, line: int | None) -> Article | Skipped:
    text = _first(record, _TEXT_KEYS)
    if isinstance(text, list):
        text = "\n\n".join(str(t) for t in text)
    return _make(path, relpath, line, text=text if isinstance(text, str) else "",
                 title=_first(record, ("title", "headline")), url=_first(record, _URL_KEYS),
                 source=_first(record, _SOURCE_KEYS), date=_first(record, _DATE_KEYS),
                 authors=_first(record, _AUTHOR_KEYS), summary_only=record.get("summary_only", False))


def _from_txt(text: str, path: Path, relpath: str) -> Article | Skipped:
    """First non-empty line is the headline, the rest is the body (the seed article's shape)."""
    lines = text.strip("\n").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    title = lines[0].strip() if lines else None
    return _make(path, relpath, None, text="\n".join(lines[1:]), title=title)


def _from_markdown(text: str, path: Path, relpath: str) -> Article | Skipped:
    import frontmatter
    import yaml

    try:
        post = frontmatter.loads(text)
        meta, body = dict(post.metadata), post.content
    except (yaml.YAMLError, ValueError) as error:
        return Skipped(str(path), f"malformed YAML front matter: {str(error).splitlines()[0]}")
    title = meta.get("title")
    if not title:
        match = re.match(r"\s*#\s+(.+)\n?", body)
        if match:
            title, body = match.group(1), body[match.end():]
    return _make(path, relpath, None, text=body, title=title, url=_first(meta, _URL_KEYS),
                 source=_first(meta, _SOURCE_KEYS), date=_first(meta, _DATE_KEYS), authors=_first(meta, _AUTHOR_KEYS))


def _from_html(html: str, path: Path, relpath: str) -> Article | Skipped:
    import trafilatura

    try:
        extracted = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False)
        doc = extracted.as_dict() if extracted is not None else None
    except Exception as error:  # the extractor's failures are many and undocumented; skip the file
        return Skipped(str(path), f"HTML extraction failed: {type(error).__name__}")
    if not doc or not (doc.get("text") or "").strip():
        return Skipped(str(path), "no text")
    return _make(path, relpath, None, text=doc["text"], title=doc.get("title"), url=doc.get("url"),
                 source=doc.get("sitename") or doc.get("hostname"), date=doc.get("date"), authors=doc.get("author"))


def walk(scope: Path, on_skip: Callable[[Skipped], None]) -> Iterator[Path]:
    """Supported files at or under ``scope``, sorted, following symlinks but never looping."""
    try:
        top = scope.resolve(strict=True)
    except (OSError, RuntimeError) as error:
        reason = "symlink loop" if isinstance(error, RuntimeError) else _os_reason(error)
        on_skip(Skipped(str(scope), reason))
        return
    if not top.is_dir():
        yield scope
        return
    seen_dirs: set[tuple[int, int]] = set()

    def visit(folder: Path) -> Iterator[Path]:
        try:
            info = folder.stat()
        except OSError as error:
            on_skip(Skipped(str(folder), _os_reason(error)))
            return
        key = (info.st_dev, info.st_ino)
        if key in seen_dirs:
            on_skip(Skipped(str(folder), "symlink loop (folder already visited)"))
            return
        seen_dirs.add(key)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as error:
            on_skip(Skipped(str(folder), _os_reason(error)))
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir(follow_symlinks=True)
            except OSError as error:
                on_skip(Skipped(str(path), _os_reason(error)))
                continue
            if is_dir:
                yield from visit(path)
            elif entry.is_symlink() and not path.exists():
                on_skip(Skipped(str(path), _symlink_reason(path)))
            elif suffix_of(path) is not None:
                yield path
            elif entry.name.upper() not in ("README", "LICENSE"):
                on_skip(Skipped(str(path), "unsupported file type"))

    yield from visit(scope)


def _symlink_reason(path: Path) -> str:
    try:
        path.stat()
    except OSError as error:
        return _os_reason(error)
    return "broken symlink"
