"""Stories through the HTTP API (/v1/stories, /v1/stories/{id}, /v1/stories/{id}/timeline) and the MCP tools
`stories` and `timeline` through the official SDK's client, on a real index served over 127.0.0.1."""

from __future__ import annotations

import json

import anyio
import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from api.keys import KeyStore
from settings import Settings
from tests.helpers import api_settings
from tests.storm import STORM, STORM_WORDS, index_with_stories, storm_story, write_stories


@pytest.fixture(scope="module")
def stories_home(tmp_path_factory, embedder):
    """The storm's four reports and the cheese fair, indexed with their stories (read only by these tests)."""
    root = tmp_path_factory.mktemp("api-stories")
    settings = Settings(_env_file=None, home=root / "home")
    index_with_stories(settings, [write_stories(root / "articles")], embedder)
    story_id, timeline = storm_story(settings)
    return root / "home", story_id, timeline


def reports(timeline: dict) -> list[dict]:
    """Every quoted report of a timeline: entries (and the other outlets' words), moves, disagreements."""
    found = [r for e in timeline["entries"] for r in (e["report"], *e["also"])]
    found += [r for m in timeline["moves"] for r in (m["before"], m["after"])]
    return found + [r for d in timeline["disagreements"] for r in (d["first"], d["second"])]


def test_stories_over_http(stories_home, serve):
    home, story_id, timeline = stories_home
    server = serve(api_settings(home))
    with httpx.Client(base_url=server.url, timeout=120) as http:
        listed = http.get("/v1/stories").json()
        assert listed["total"] == 1 and listed["offset"] == 0 and listed["since"] is None
        assert [s["id"] for s in listed["stories"]] == [story_id]
        story = listed["stories"][0]
        assert (story["first_date"], story["last_date"], story["articles"]) == ("2022-03-02", "2022-03-09", 4)
        assert story["outlets"] == ["coastal-herald.example", "island-times.example"]
        since = http.get("/v1/stories", params={"since": "2022-03-09"}).json()
        assert [s["id"] for s in since["stories"]] == [story_id]
        later = http.get("/v1/stories", params={"since": "2022-03-10"}).json()
        assert later["stories"] == [] and later["since"] == "2022-03-10" and later["total"] == 1
        assert http.get("/v1/stories", params={"offset": 1}).json()["stories"] == []
        bad = http.get("/v1/stories", params={"since": "someday"})
        assert bad.status_code == 422 and bad.json()["error"]["type"] == "invalid_request"

        detail = http.get(f"/v1/stories/{story_id}").json()
        assert detail["story"] == story
        assert [a["published_at"] for a in detail["articles"]] == sorted(a["published_at"] for a in STORM)
        assert {(a["title"], a["url"], a["source"]) for a in detail["articles"]} == {
            (a["title"], a["url"], a["source"]) for a in STORM}

        got = http.get(f"/v1/stories/{story_id}/timeline")
        assert got.status_code == 200 and got.json() == timeline
        assert timeline["entries"] and timeline["moves"] and timeline["disagreements"]
        for report in reports(timeline):  # every quote is its article's text, character for character
            text = http.get(f"/v1/articles/{report['article_id']}").json()["text"]
            assert text[report["start"]:report["end"]] == report["quote"]

        for path in ("/v1/stories/st-000000000000", "/v1/stories/st-000000000000/timeline"):
            missing = http.get(path)
            assert missing.status_code == 404
            assert missing.json() == {"error": {"type": "story_not_found",
                                                "message": "There is no story 'st-000000000000'."}}


def test_stories_on_an_empty_index(tmp_path, serve):
    server = serve(api_settings(tmp_path / "home"))
    assert httpx.get(server.url + "/v1/stories", timeout=120).json() == {"total": 0, "offset": 0, "since": None,
                                                                          "stories": []}
    missing = httpx.get(server.url + "/v1/stories/st-000000000000/timeline", timeout=120)
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "story_not_found"


def payload(result) -> dict:
    assert not result.is_error, result.content
    return result.structured_content if result.structured_content is not None else json.loads(result.content[0].text)


def test_stories_and_timeline_mcp_tools(stories_home, serve):
    home, story_id, timeline = stories_home
    key = KeyStore(home).create("reader", read_only=True)  # reading stories needs no more than a read-only key
    server = serve(api_settings(home))

    async def main() -> None:
        with anyio.fail_after(240):
            async with create_mcp_http_client(headers={"Authorization": f"Bearer {key}"}) as http:
                async with streamable_http_client(server.url + "/mcp", http_client=http) as (read, write):
                    async with ClientSession(read, write) as session:
                        await session.initialize()
                        tools = {t.name: t for t in (await session.list_tools()).tools}
                        assert {"stories", "timeline"} <= set(tools)
                        assert "story id" in tools["timeline"].description
                        listed = payload(await session.call_tool("stories", {}))
                        assert [s["id"] for s in listed["stories"]] == [story_id] and listed["total"] == 1
                        later = payload(await session.call_tool("stories", {"since": "2022-03-10"}))
                        assert later["stories"] == []
                        by_words = payload(await session.call_tool("timeline", {"query": STORM_WORDS}))
                        assert by_words == timeline
                        assert payload(await session.call_tool("timeline", {"query": story_id})) == timeline
                        missing = await session.call_tool("timeline", {"query": "zeppelin regatta"})
                        assert missing.is_error and "No story matches 'zeppelin regatta'." in missing.content[0].text
                        bad = await session.call_tool("stories", {"since": "someday"})
                        assert bad.is_error and "not a date" in bad.content[0].text

    anyio.run(main)


def test_stories_over_http_on_every_backend(store_settings, tmp_path, serve, embedder):
    """The same routes on the embedded store, a Chroma server, and a Chroma server with the PostgreSQL catalog."""
    settings = store_settings.updated(answer_mode="extractive")
    index_with_stories(settings, [write_stories(tmp_path / "articles")], embedder)
    story_id, timeline = storm_story(settings)
    server = serve(settings)
    with httpx.Client(base_url=server.url, timeout=120) as http:
        listed = http.get("/v1/stories").json()
        assert [(s["id"], s["articles"]) for s in listed["stories"]] == [(story_id, 4)]
        assert http.get(f"/v1/stories/{story_id}").json()["story"] == listed["stories"][0]
        assert http.get(f"/v1/stories/{story_id}/timeline").json() == timeline
        assert http.get("/v1/stories/st-000000000000").status_code == 404
