"""The documentation stays true to the tree: the generated reference pages are current, docs/layout.md lists
exactly the source modules on disk, the README stays a short front door, and every relative link in the
README and docs/ resolves (to a file, and to a heading when it names one)."""

import importlib.util
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The folders whose modules docs/layout.md lists: the packages of tests/test_layout.py and scripts/; and the
# top-level modules. tests/ is left out (it mirrors the tree), and so are folders without Python source.
PACKAGES = ("api", "cli", "evals", "index", "ingest", "llm", "prompts", "rag", "settings", "stories", "ui", "scripts")
TOP_MODULES = ("app.py", "errors.py")
README_MAX_LINES = 220

_LISTED = re.compile(r"^- `([^`]+\.py)`: \S", re.M)
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.M | re.S)
_CODE = re.compile(r"`[^`\n]*`")


def _reference_script():
    spec = importlib.util.spec_from_file_location("docs_reference", REPO / "scripts" / "reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def source_modules() -> set[str]:
    """Every Python module of the documented folders, as a path relative to the repository root."""
    found = {name for name in TOP_MODULES if (REPO / name).is_file()}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            relative = path.relative_to(REPO)
            if "__pycache__" not in relative.parts:
                found.add(relative.as_posix())
    return found


def markdown_files() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]


def _prose(text: str) -> str:
    """The text without fenced code blocks and inline code, where brackets are code, not links."""
    return _CODE.sub("", _FENCE.sub("", text))


def _slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for line in _FENCE.sub("", path.read_text(encoding="utf-8")).splitlines():
        match = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            slug = _slug(match.group(1))
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            out.add(slug if count == 0 else f"{slug}-{count}")
    return out


def test_generated_reference_pages_are_current():
    stale = _reference_script().check(REPO)
    assert not stale, (f"{', '.join(str(p) for p in stale)} differ from the code: run "
                       "`python scripts/reference.py` and commit the result")


def test_layout_lists_exactly_the_source_modules():
    listed = _LISTED.findall((REPO / "docs" / "layout.md").read_text(encoding="utf-8"))
    twice = sorted({name for name in listed if listed.count(name) > 1})
    on_disk = source_modules()
    missing = sorted(on_disk - set(listed))
    gone = sorted(set(listed) - on_disk)
    assert not (twice or missing or gone), (
        "docs/layout.md must list every module once, as '- `path.py`: what it holds'. "
        f"Not listed: {missing}; listed but not on disk: {gone}; listed twice: {twice}")


def test_readme_is_a_short_front_door():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= README_MAX_LINES, "README.md is a front door: the rest belongs in docs/"
    assert "make run" in text and "make test" in text  # CI's .ci/run calls `make test`


def test_relative_links_resolve():
    broken = []
    for page in markdown_files():
        for target in _LINK.findall(_prose(page.read_text(encoding="utf-8"))):
            if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto: ...
                continue
            path_part, _, fragment = target.partition("#")
            resolved = (page.parent / path_part).resolve() if path_part else page
            where = f"{page.relative_to(REPO)}: {target}"
            if not resolved.exists():
                broken.append(f"{where} (no such file)")
            elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
                broken.append(f"{where} (no such heading)")
    assert not broken, "broken links:\n" + "\n".join(broken)
