"""The MCP server with the official SDK's own client: over stdio (`newsdesk mcp`) and streamable HTTP (/mcp)."""

from __future__ import annotations

import json
import sys

import anyio
import httpx
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from api.keys import KeyStore
from tests.helpers import REPO, api_settings, clean_env

TOOLS = {"ask", "search", "get_article", "list_recent", "stories", "timeline"}


def payload(result) -> dict:
    """A tool's result: its structured content, else the JSON of its text."""
    assert not result.is_error, result.content
    if result.structured_content is not None:
        return result.structured_content
    return json.loads(result.content[0].text)


async def exercise(session: ClientSession) -> None:
    await session.initialize()
    assert {t.name for t in (await session.list_tools()).tools} == TOOLS
    answer = payload(await session.call_tool("ask", {"question": "How many US troops are stationed in South Korea?"}))
    assert "28,500" in answer["answer"] and answer["citations"][0]["n"] == 1 and answer["refused"] is False
    filtered = payload(await session.call_tool("ask", {"question": "Which national park was closed by flooding?",
                                                       "sources": ["b.example"]}))
    assert filtered["refused"] is True
    found = payload(await session.call_tool("search", {"query": "airline merger", "k": 2}))
    assert found["results"][0]["title"] == "Airlines merge"
    recent = payload(await session.call_tool("list_recent", {"n": 2}))
    assert [a["title"] for a in recent["articles"]] == ["Floods close park", "Airlines merge"]
    article = payload(await session.call_tool("get_article", {"id": recent["articles"][0]["article_id"]}))
    assert article["text"].startswith("Severe flooding closed Yellowstone")
    missing = await session.call_tool("get_article", {"id": "no-such-id"})
    assert missing.is_error and "no article with id 'no-such-id'" in missing.content[0].text


@pytest.mark.slow  # `newsdesk mcp` as a subprocess: ~3 s
def test_mcp_over_stdio(home):
    params = StdioServerParameters(command=sys.executable, args=["-m", "cli", "mcp"], cwd=str(REPO),
                                   env=clean_env(NEWSDESK_HOME=str(home), NEWSDESK_ANSWER_MODE="extractive"))

    async def main() -> None:
        with anyio.fail_after(240):
            async with stdio_client(params) as (read, write):
                async with ClientSession(read, write) as session:
                    await exercise(session)

    anyio.run(main)


def test_mcp_over_http_with_a_key(home, serve):
    key = KeyStore(home).create("assistant", read_only=True)
    server = serve(api_settings(home))

    async def main(headers: dict) -> None:
        with anyio.fail_after(240):
            async with create_mcp_http_client(headers=headers) as http:
                async with streamable_http_client(server.url + "/mcp", http_client=http) as (read, write):
                    async with ClientSession(read, write) as session:
                        await exercise(session)

    anyio.run(main, {"Authorization": f"Bearer {key}"})
    refused = httpx.post(server.url + "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                         headers={"Accept": "application/json, text/event-stream"}, timeout=120)
    assert refused.status_code == 401 and refused.json()["error"]["type"] == "missing_api_key"
    with pytest.raises(BaseException):  # the SDK's client without a key fails too, it does not hang
        anyio.run(main, {})
