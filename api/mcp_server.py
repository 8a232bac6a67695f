"""The MCP server: newsdesk's tools for assistants, over stdio (`newsdesk mcp`) or streamable HTTP (/mcp).

Built with the official SDK (``mcp.server.mcpserver.MCPServer``, mcp 2.x). The tools call the same
``Service`` as the HTTP API, so answers, limits and the model queue are the same; errors a person can
act on come back as tool errors with newsdesk's one-sentence message.
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from api.errors import ApiError
from api.service import Service
from errors import NewsdeskError

INSTRUCTIONS = ("Answers questions about the indexed news articles with cited sources. Use `ask` for an answer with "
                "citations ([n] markers map to the citations list), `search` for ranked evidence passages, "
                "`get_article` for one article's text, `list_recent` for the newest articles, `stories` for the "
                "newest stories (articles about one event across outlets and days) and `timeline` for how one story "
                "developed, what changed and where reports disagree.")


def _tool_call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except ApiError as error:
        raise ToolError(error.message) from None
    except NewsdeskError as error:
        raise ToolError(str(error)) from None


def build_mcp(service: Service) -> MCPServer:
    mcp = MCPServer("newsdesk", instructions=INSTRUCTIONS, log_level="WARNING")

    @mcp.tool()
    def ask(question: str, as_of: str | None = None, since: str | None = None, until: str | None = None,
            sources: list[str] | None = None) -> dict:
        """Answer a question from the indexed news articles. The answer cites its sources with [n] markers;
        each citation has the article's title, outlet, date, url and the exact quoted sentence. An answer the
        articles do not hold is refused ("refused": true). Dates are YYYY-MM-DD; as_of ignores later articles."""
        def run() -> dict:
            options = {"as_of": as_of, "since": since, "until": until, "sources": sources or None}
            answer = service.ask(question, None, service.ticket_for(None), **options)
            data = answer.to_dict()
            return {"answer": data["answer"], "refused": data["refused"], "citations": data["citations"],
                    "notes": answer.notes}
        return _tool_call(run)

    @mcp.tool()
    def search(query: str, k: int = 8, as_of: str | None = None, since: str | None = None, until: str | None = None,
               sources: list[str] | None = None) -> dict:
        """Ranked evidence passages (hybrid BM25 + dense retrieval) for a query, with scores, without an answer."""
        return _tool_call(service.search, query, k=k, since=since, until=until, sources=sources or None, as_of=as_of)

    @mcp.tool()
    def get_article(id: str) -> dict:  # noqa: A002 - the tool's public argument name
        """One article by id (as citations and search results give it): its text and metadata."""
        return _tool_call(service.get_article, id)

    @mcp.tool()
    def list_recent(n: int = 10, source: str | None = None) -> dict:
        """The newest n articles (optionally of one outlet): id, title, outlet, url, publication date."""
        n = max(1, min(int(n), 200))
        return _tool_call(service.list_articles, limit=n, source=source)

    @mcp.tool()
    def stories(since: str | None = None, limit: int = 20, offset: int = 0) -> dict:
        """The newest stories, each a group of articles about one event across outlets and days: id, title, first
        and last date (YYYY-MM-DD), number of articles and outlets. since: only stories reported on or after."""
        limit = max(1, min(int(limit), 200))
        return _tool_call(service.list_stories, since=since, limit=limit, offset=max(0, int(offset)))

    @mcp.tool()
    def timeline(query: str) -> dict:
        """How one story developed: give a story id (from `stories`) or a few words about it. Dated entries oldest
        first, each a verbatim quote of a dated article with the outlets that reported it; "moves": facts whose
        value changed between reports (before -> after, each quoted); "disagreements": reports of the same day
        that give different values, both quoted and neither preferred."""
        return _tool_call(service.find_timeline, query)

    return mcp
