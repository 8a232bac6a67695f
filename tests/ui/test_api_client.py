"""The chat as an API client (issue 12): with NEWSDESK_API_URL set, the app asks a newsdesk API service over real
HTTP (uvicorn on 127.0.0.1, a real index) instead of a ``NewsDesk`` in its own process; without it, in process.
Both paths are driven through the real app (AppTest) and must show the same cited answer."""

from __future__ import annotations

import pytest

from api.app import create_app
from api.keys import KeyStore
from api.service import Service
from errors import IndexEmpty, NewsdeskError
from rag.engine import NewsDesk
from settings import Settings
from tests.helpers import (SEED_TITLE, TROOPS_QUESTION, UNANSWERABLE, ThreadServer, ask, assistant_messages,
                           free_port, new_session, turns)
from ui.api_client import ApiDesk


def api_server(settings: Settings, embedder) -> ThreadServer:
    """The API service of ``settings`` (not started: ``with api_server(...) as server``)."""
    return ThreadServer(create_app(settings, service=Service(settings, embedder=embedder), host="127.0.0.1"))


@pytest.fixture(scope="module")
def api_url(shared_home, embedder):
    with api_server(Settings(_env_file=None, home=shared_home), embedder) as server:
        yield server.url


def test_the_api_desk_gives_the_answer_the_desk_in_process_gives(shared_home, api_url, embedder):
    settings = Settings(_env_file=None, home=shared_home, api_url=api_url)
    local, remote = NewsDesk(settings, embedder=embedder), ApiDesk(settings)
    try:
        for question in (TROOPS_QUESTION, UNANSWERABLE):
            expected = local.ask(question, mode="extractive")
            pieces = list(remote.stream(question, mode="extractive"))
            answer = pieces[-1]
            assert "".join(p for p in pieces[:-1] if isinstance(p, str)) == answer.answer == expected.answer
            assert answer.refused == expected.refused and answer.mode == "extractive"
            assert [(c.n, c.article_id, c.title, c.quote) for c in answer.citations] == \
                   [(c.n, c.article_id, c.title, c.quote) for c in expected.citations]
            assert [(e.article_id, e.source, e.published_at) for e in answer.retrieved] == \
                   list(dict.fromkeys((e.article_id, e.source, e.published_at) for e in expected.retrieved))
        cited = remote.stream(TROOPS_QUESTION, mode="extractive")
        article = [p for p in cited if not isinstance(p, str)][0].citations[0].article_id
        assert "Pyongyang" in remote.catalog.article_text(article)
        assert remote.catalog.article_text("no-such-article") is None
    finally:
        local.close()
        remote.close()


def test_the_servers_errors_come_back_as_the_same_newsdesk_errors(tmp_path, embedder):
    with api_server(Settings(_env_file=None, home=tmp_path / "empty"), embedder) as server:
        desk = ApiDesk(Settings(_env_file=None, home=tmp_path / "unused", api_url=server.url))
        with pytest.raises(IndexEmpty, match="No articles are indexed"):
            list(desk.stream("What happened?", mode="extractive"))
        desk.close()
    gone = ApiDesk(Settings(_env_file=None, home=tmp_path / "unused", api_url=server.url))  # the server stopped
    with pytest.raises(NewsdeskError, match="could not be reached"):
        list(gone.stream("What happened?"))
    gone.close()


def test_the_api_desk_sends_its_key_to_a_service_that_has_keys(tmp_path, embedder):
    home = tmp_path / "keyed"
    key = KeyStore(home).create("app", read_only=True)
    with api_server(Settings(_env_file=None, home=home), embedder) as server:
        anonymous = ApiDesk(Settings(_env_file=None, home=tmp_path / "unused", api_url=server.url))
        with pytest.raises(NewsdeskError, match="(?i)key") as refused:
            list(anonymous.stream("What happened?", mode="extractive"))
        assert not isinstance(refused.value, IndexEmpty)
        anonymous.close()
        keyed = ApiDesk(Settings(_env_file=None, home=tmp_path / "unused", api_url=server.url, api_key=key))
        with pytest.raises(IndexEmpty, match="No articles are indexed"):  # past the key check, to the empty index
            list(keyed.stream("What happened?", mode="extractive"))
        assert key not in repr(keyed.settings) and key not in str(keyed.settings.model_dump())
        keyed.close()


@pytest.mark.parametrize("through_api", [False, True], ids=["in-process", "api"])
def test_the_chat_answers_with_a_cited_source_in_process_and_through_the_api(through_api, shared_home, use_home,
                                                                             request):
    extra = {"NEWSDESK_API_URL": request.getfixturevalue("api_url")} if through_api else {}
    use_home(shared_home, **extra)
    at = ask(new_session(), TROOPS_QUESTION)
    answer = turns(at)[-1]["answer"]
    assert not answer.refused and answer.citations[0].title == SEED_TITLE and "28,500" in answer.answer
    # an answer rebuilt from the API's stream carries the retrieved articles but not their chunks
    assert all(e.chunk_id == "" for e in answer.retrieved) == through_api
    markdown = [m.value for m in assistant_messages(at)[-1].markdown]
    assert any(":blue-badge[1]" in text for text in markdown)
    # the quote highlighted in its paragraph: the article's text was read (through GET /v1/articles/{id})
    assert any(text.startswith("> ") and ":orange-background[" in text and "28,500" in text for text in markdown)
    assert [e.label for e in assistant_messages(at)[-1].expander] == ["Whole article"]

    ask(at, UNANSWERABLE)
    message = assistant_messages(at)[-1]
    assert turns(at)[-1]["answer"].refused and message.warning
    assert "Nearest articles" in " ".join(m.value for m in message.markdown)


def test_the_chat_says_so_when_the_api_cannot_be_reached(shared_home, use_home):
    use_home(shared_home, NEWSDESK_API_URL=f"http://127.0.0.1:{free_port()}")  # nothing listens there
    at = ask(new_session(), TROOPS_QUESTION)
    errors = [e.value for e in assistant_messages(at)[-1].error]
    assert errors and "could not be reached" in errors[0]
    assert turns(at)[-1]["answer"] is None
