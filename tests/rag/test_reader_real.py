"""The default answerer for real: Qwen2.5-Coder-1.5B, served by newsdesk's llama.cpp server, reading the
numbered sentences of an archive written for the tests (tests/rag/archive_articles.py): a question that says
when, the latest value of a story reported three times, a two-article question, and a question about a time
after the newest article."""

import os
import signal

import pytest

from rag.engine import NewsDesk
from tests.rag.archive_articles import write_archive


@pytest.fixture(scope="module")
def desk(tmp_path_factory, embedder):
    from index.sync import Indexer
    from llm.server import LocalServer
    from settings import Settings

    root = tmp_path_factory.mktemp("archive-real")
    settings = Settings(_env_file=None, home=root / "home", llm="local", local_model="qwen2.5-coder-1.5b",
                        models_dir=tmp_path_factory.mktemp("models"), llm_timeout=180)
    indexer = Indexer(settings, embedder=embedder)
    indexer.sync([write_archive(root / "articles")])
    indexer.close()
    desk = NewsDesk(settings, embedder=embedder)
    yield desk
    desk.close()
    state = LocalServer(settings)._state()
    if state:
        try:
            os.kill(state["pid"], signal.SIGTERM)
        except ProcessLookupError:
            pass


def cited_urls(desk, answer) -> list[str]:
    for citation in answer.citations:
        assert desk.catalog.article_text(citation.article_id)[citation.start:citation.end] == citation.quote
    return [c.url for c in answer.citations]


@pytest.mark.slow
def test_a_dated_question(desk):
    answer = desk.ask("How many goats escaped from the Elmstead farm in June 2023?")
    assert answer.mode == "llm" and not answer.refused, answer.notes
    assert ("forty" in answer.answer.lower() or "40" in answer.answer)
    assert cited_urls(desk, answer) == ["https://farm.example/elmstead-goats"]


@pytest.mark.slow
def test_the_latest_value_of_a_story_reported_three_times(desk):
    answer = desk.ask("How many people did the Dunmore floods kill, according to the latest count?")
    assert not answer.refused, answer.notes
    assert answer.answer.startswith("23") and cited_urls(desk, answer)[0] == "https://local.example/dunmore-bridge"


@pytest.mark.slow
def test_a_two_article_question(desk):
    answer = desk.ask("Was the Harlow tram extension approved before the goats escaped from the Elmstead farm?")
    assert answer.answer.startswith("Yes."), (answer.answer, answer.notes)
    assert cited_urls(desk, answer) == ["https://metro.example/harlow-tram", "https://farm.example/elmstead-goats"]


@pytest.mark.slow
def test_a_question_after_the_newest_article_is_refused_saying_where_the_collection_ends(desk):
    answer = desk.ask("Who won the 2031 Harbour Cup?")
    assert answer.refused and not answer.citations
    assert "the newest of them is from 2023-06-14" in answer.answer
