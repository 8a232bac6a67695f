"""Safe rendering for the UI: everything that comes from an article goes through these helpers.

Article text, titles, outlets, quotes and evaluation records are data. They are only ever shown
through ``escape_md`` (every Markdown/HTML special character backslash-escaped) or in dataframes;
links are made only for http(s) URLs (``safe_href``). Numbers and durations are formatted here
too (``number``, ``seconds_text``), so every page writes them the same way.

Pure functions: no Streamlit import, so they are tested directly (tests/ui/test_render.py).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urlsplit

from ingest.uploads import is_web_url


# Every ASCII punctuation character may be backslash-escaped in CommonMark and then renders as
# itself. Escaping all that Markdown, GFM, HTML (<, &), Streamlit directives (:color[...]), emoji
# shortcodes (:smile:) and LaTeX ($) use makes any text inert.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&^=])")
_MARKER = re.compile(r"\s?\[(\d{1,2})\]")


def escape_md(text: str | None) -> str:
    """``text`` as inert Markdown: shows exactly these characters, never markup, HTML or links."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", str(text)).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\x00", "").replace("\t", " ")
    escaped = _MD_SPECIAL.sub(r"\\\1", text)
    # a newline is a line break (not a new paragraph); no line starts indented (a code block)
    lines = escaped.split("\n")
    return "  \n".join([lines[0]] + [line.lstrip() for line in lines[1:]])


def escape_paragraphs(text: str) -> str:
    """Like ``escape_md`` but keeps paragraphs: each non-empty line becomes a Markdown paragraph."""
    return "\n\n".join(escape_md(line.strip()) for line in text.split("\n") if line.strip())


def with_markers(answer_text: str, numbers: set[int]) -> str:
    """The answer as safe Markdown, with each citation marker ``[n]`` shown as a numbered badge."""
    out, cursor = [], 0
    for match in _MARKER.finditer(answer_text):
        number = int(match.group(1))
        if number not in numbers:
            continue
        out.append(escape_md(answer_text[cursor:match.start()]))
        out.append(f" :blue-badge[{number}]")
        cursor = match.end()
    out.append(escape_md(answer_text[cursor:]))
    return "".join(out)


def highlight(escaped: str) -> str:
    """Wraps already-escaped text in a highlight (the text cannot close the directive early)."""
    return f":orange-background[{escaped}]" if escaped else ""


def safe_href(url: str | None) -> str | None:
    """An http(s) URL fit for a Markdown link destination, else None (javascript:, data:, ...)."""
    if not url:
        return None
    url = url.strip()
    if not is_web_url(url):
        return None
    # percent-encode everything that could end or confuse the destination: spaces, (), <>, [], quotes
    return quote(url, safe=":/?#@!$&*+,;=%~._-")


def link_md(url: str | None, label: str | None = None) -> str | None:
    """A safe Markdown link to an http(s) ``url`` (its host and path as the label), else None."""
    href = safe_href(url)
    if href is None:
        return None
    shown = label or (urlsplit(url.strip()).netloc + (urlsplit(url.strip()).path if len(url) < 70 else "/…"))
    return f"[{escape_md(shown)}]({href})"


def also_reported_md(also_reported_by, own_source: str | None = None) -> str | None:
    """"Also reported by" for a source folded from wire copies (``rag.wire``): each other outlet once,
    linked to its article; the same outlet's other URLs as "also at". Safe Markdown, or None when the
    story was carried once."""
    outlets: dict[str, str] = {}
    elsewhere: list[str] = []
    for item in also_reported_by or []:
        source = item.source or "unknown outlet"
        if own_source and source == own_source:
            link = link_md(item.url)
            if link and link not in elsewhere:
                elsewhere.append(link)
            continue
        outlets.setdefault(source, link_md(item.url, source) or escape_md(source))
    parts = []
    if outlets:
        parts.append("Also reported by " + ", ".join(outlets.values()))
    if elsewhere:
        parts.append("also at " + ", ".join(elsewhere))
    return "; ".join(parts) if parts else None


def date_text(value) -> str:
    """A date for display: the ISO day, or "date unknown"."""
    if value is None or value == "":
        return "date unknown"
    if hasattr(value, "date"):
        return value.date().isoformat()
    return str(value)[:10]


def moment_text(value: str | None) -> str:
    """An ISO timestamp as "YYYY-MM-DD HH:MM UTC" (or "never")."""
    if not value:
        return "never"
    if value.endswith("+00:00") and "T" in value:
        return value[:16].replace("T", " ") + " UTC"
    return value


def number(value) -> str:
    """The UI's one number format: counts with thousands separators (28,500), scores and other
    fractions with three decimals (0.875), a missing value as "–"."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def seconds_text(seconds: float) -> str:
    """A duration: "12.3 s"."""
    return f"{seconds:.1f} s"


# --- a quote inside its article ------------------------------------------------------------------


def quote_span(text: str | None, quote_text: str, start: int, end: int) -> tuple[int, int] | None:
    """Where ``quote_text`` stands in ``text``: at ``start:end`` when it is there, else its first occurrence."""
    if not text:
        return None
    if 0 <= start < end <= len(text) and text[start:end] == quote_text:
        return start, end
    found = text.find(quote_text) if quote_text else -1
    return (found, found + len(quote_text)) if found >= 0 else None


def paragraph_with_quote(text: str, start: int, end: int, context_chars: int) -> str:
    """The quote highlighted inside its paragraph (trimmed to ``context_chars`` around it when the paragraph
    is long)."""
    p_start = text.rfind("\n", 0, start) + 1
    p_end = text.find("\n", end)
    p_end = len(text) if p_end < 0 else p_end
    before, after = text[p_start:start], text[end:p_end]
    if len(before) > context_chars:
        before = "…" + before[-context_chars:].split(" ", 1)[-1]
    if len(after) > context_chars:
        after = after[:context_chars].rsplit(" ", 1)[0] + "…"
    quote_text = text[start:end].replace("\n", " ")
    return (escape_md(before.replace("\n", " ").lstrip()) + highlight(escape_md(quote_text))
            + escape_md(after.replace("\n", " ")))


def article_with_quote(text: str, start: int, end: int) -> str:
    """The whole article as safe Markdown paragraphs, the quote highlighted where it stands."""
    if end > len(text):
        return escape_paragraphs(text)
    paragraphs, cursor = [], 0
    for line in text.split("\n"):
        line_start, line_end = cursor, cursor + len(line)
        cursor = line_end + 1
        if not line.strip():
            continue
        if line_end <= start or line_start >= end:
            paragraphs.append(escape_md(line.strip()))
            continue
        a, b = max(start, line_start) - line_start, min(end, line_end) - line_start
        paragraphs.append(escape_md(line[:a].lstrip()) + highlight(escape_md(line[a:b])) + escape_md(line[b:]))
    return "\n\n".join(paragraphs)
