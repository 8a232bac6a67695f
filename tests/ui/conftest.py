"""Shared fixtures and helpers of the UI tests: the app driven by streamlit.testing.v1.AppTest on real indexes.

Every AppTest runs the real entry point (app.py, st.navigation) against a real index in a temporary
NEWSDESK_HOME: the packaged MiniLM embedder, an embedded Chroma store and the SQLite catalog. A
page other than the chat is chosen as a browser would by its URL: ``new_session("library")``
runs the app once, then ``AppTest.switch_page("ui/pages/library.py")``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from index.sync import Indexer
from settings import Settings

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "app.py"
UI_SOURCES = [APP, *sorted((REPO / "ui").rglob("*.py"))]  # every file that renders anything
TIMEOUT = 120

SEED_TITLE = "North Korea Conducts Ballistic Missile Test Amid Heightened Regional Tensions"
TROOPS_QUESTION = "How many US troops are stationed in South Korea?"
UNANSWERABLE = "Who won the 2030 World Cup?"

PAYLOADS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "![x](https://attacker.example/?q=1)",
            "[click](javascript:alert(1))"]
HOSTILE = {
    "title": "<script>alert(1)</script> Zorblat festival report",
    "source": "<b>Evil</b> Times",
    "url": "javascript:alert(1)",
    "published_at": "2022-06-01",
    "text": ("The Zorblat festival in Oslo drew 4,321 visitors this year. Organisers posted "
             "<img src=x onerror=alert(1)> and [click](javascript:alert(1)) on the site. Tickets cost $5 and $10.\n"
             "![x](https://attacker.example/?q=1)\n"
             "<script>alert(1)</script> The next Zorblat festival is planned for 2023."),
}
MARZIPAN_TEXT = ("The Luebeck Marzipan Council announced on Monday that it will open 17 new tasting rooms across "
                 "Norway next spring. The council's chair, Greta Holm, said demand had doubled since 2021.")


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_home(tmp_path_factory, seed_file, embedder) -> Path:
    """A read-only index for the chat tests: the seed article and a hostile article."""
    root = tmp_path_factory.mktemp("app")
    articles = root / "articles"
    articles.mkdir()
    (articles / "hostile.json").write_text(json.dumps(HOSTILE), encoding="utf-8")
    (articles / "weather.txt").write_text("Heavy rain expected in Bergen\nForecasters expect 80 mm of rain in "
                                          "Bergen on Friday, the most since 2019.\n", encoding="utf-8")
    home = root / "home"
    indexer = Indexer(Settings(_env_file=None, home=home), embedder=embedder)
    report = indexer.sync([seed_file, articles])
    indexer.close()
    assert report.added == 3 and not report.skipped
    return home


@pytest.fixture
def use_home(monkeypatch, tmp_path):
    """Points the app at a home: NEWSDESK_HOME set, no other NEWSDESK_*/OPENAI_* settings, no .env."""

    def use(home: Path, **extra: str) -> Path:
        for key in list(os.environ):
            if key.startswith(("NEWSDESK_", "OPENAI_")):
                monkeypatch.delenv(key)
        monkeypatch.setenv("NEWSDESK_HOME", str(home))
        for key, value in extra.items():
            monkeypatch.setenv(key, value)
        workdir = tmp_path / "cwd"
        workdir.mkdir(exist_ok=True)
        monkeypatch.chdir(workdir)  # so a developer's .env cannot change the configuration
        return home

    return use


# --- helpers ----------------------------------------------------------------------------------------


def new_session(page: str | None = None) -> AppTest:
    """A new browser session of the app, on the chat (the default page) or on ``page`` (its url_path)."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run(timeout=TIMEOUT)
    assert not at.exception, [e.value for e in at.exception]
    if page:
        at.switch_page(f"ui/pages/{page}.py")  # the script registered under /library, /evaluations
        at.run(timeout=TIMEOUT)
        assert not at.exception, [e.value for e in at.exception]
    return at


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input(key="question").set_value(question)
    at.run(timeout=TIMEOUT)
    assert not at.exception, [e.value for e in at.exception]
    return at


def all_text(at: AppTest) -> list[str]:
    """Every piece of Markdown the app sent (markdown, captions, alerts, labels)."""
    texts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    texts += [a.value for alerts in (at.warning, at.error, at.info, at.success) for a in alerts]
    texts += [e.label for e in at.expander]
    return texts


def unescaped(markdown: str) -> str:
    """What a Markdown string shows once its backslash escapes are resolved."""
    out, i = [], 0
    while i < len(markdown):
        if markdown[i] == "\\" and i + 1 < len(markdown):
            out.append(markdown[i + 1])
            i += 2
        else:
            out.append(markdown[i])
            i += 1
    return "".join(out)


def assistant_messages(at: AppTest):
    return [m for m in at.chat_message if m.name == "assistant"]


def turns(at: AppTest) -> list[dict]:
    return at.session_state["turns"] if "turns" in at.session_state else []
