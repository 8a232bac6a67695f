"""Safe rendering (ui/render.py): article text is inert Markdown, links are http(s) only."""

from __future__ import annotations

from tests.helpers import PAYLOADS, unescaped
from ui.render import escape_md, link_md, number, safe_href, seconds_text, with_markers


def test_escape_md_and_links():
    for payload in PAYLOADS + [":red[x]", "$x^2$", "# heading", "1. item", "    code", "| a | b |", "&lt;b&gt;"]:
        escaped = escape_md(payload)
        assert unescaped(escaped).strip() == payload.strip()
        assert "<" not in escaped.replace("\\<", "")
        assert "[" not in escaped.replace("\\[", "")
    assert safe_href("javascript:alert(1)") is None
    assert safe_href("data:text/html,<script>") is None
    assert safe_href("https://example.com/a b)(<x>") == "https://example.com/a%20b%29%28%3Cx%3E"
    assert link_md("JavaScript:alert(1)") is None
    assert with_markers("Claim [1]. Other [7].", {1}) == "Claim :blue-badge[1]\\. Other \\[7\\]\\."


def test_one_number_format():
    assert number(28_500) == "28,500" and number(3) == "3"  # counts
    assert number(0.875) == "0.875" and number(1.0) == "1.000"  # scores and rates
    assert number(None) == "–" and number("n/a") == "n/a"
    assert seconds_text(12.345) == "12.3 s"
