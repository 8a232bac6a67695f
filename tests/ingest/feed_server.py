"""A real HTTP server on 127.0.0.1 for the feed tests: feeds, article pages, robots.txt, and the faults.

Every route is bounded: the never-ending body stops after ``SLOW_SECONDS`` or when the client goes
away, the huge body is streamed (never held whole), and the server stops with the fixture.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

SLOW_SECONDS = 30
ARTICLE_PARAGRAPH = ("The harbour authority said on Tuesday that the new container terminal would open in the "
                     "spring, after two years of dredging and a dispute over wages that delayed the work. ")


@dataclass
class Item:
    title: str
    link: str | None = None
    guid: str | None = None
    summary: str = ""
    content: str | None = None  # content:encoded (RSS) / content (Atom): the full text
    published: datetime = field(default_factory=lambda: datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc))


def rss(items: list[Item], title: str = "Example News") -> bytes:
    parts = []
    for item in items:
        parts.append("<item>" + f"<title>{escape(item.title)}</title>"
                     + (f"<link>{escape(item.link)}</link>" if item.link else "")
                     + (f"<guid isPermaLink=\"false\">{escape(item.guid)}</guid>" if item.guid else "")
                     + f"<description>{escape(item.summary)}</description>"
                     + (f"<content:encoded><![CDATA[{item.content}]]></content:encoded>" if item.content else "")
                     + f"<pubDate>{format_datetime(item.published)}</pubDate></item>")
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
            f"<title>{escape(title)}</title><link>http://example.com/</link><description>news</description>"
            + "".join(parts) + "</channel></rss>").encode()


def atom(items: list[Item], title: str = "Example Atom") -> bytes:
    parts = []
    for item in items:
        parts.append("<entry>" + f"<title>{escape(item.title)}</title>"
                     + (f'<link rel="alternate" href="{escape(item.link)}"/>' if item.link else "")
                     + f"<id>{escape(item.guid or item.link or '')}</id>"
                     + f"<updated>{item.published.isoformat()}</updated>"
                     + f"<summary>{escape(item.summary)}</summary>"
                     + (f'<content type="html">{escape(item.content)}</content>' if item.content else "")
                     + "</entry>")
    return ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{escape(title)}</title><id>urn:example</id><updated>2026-11-30T09:00:00Z</updated>"
            + "".join(parts) + "</feed>").encode()


def article_page(title: str, paragraphs: int = 6) -> bytes:
    body = "".join(f"<p>{ARTICLE_PARAGRAPH}Paragraph {n} of the report on {escape(title)}.</p>" for n in range(paragraphs))
    return (f"<!DOCTYPE html><html><head><title>{escape(title)}</title></head><body>"
            f"<nav><a href='/'>Home</a></nav><article><h1>{escape(title)}</h1>{body}</article>"
            "<footer>Copyright Example News</footer></body></html>").encode()


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "application/rss+xml"
    status: int = 200
    headers: dict = field(default_factory=dict)
    etag: str | None = None  # answer 304 when the client sends it back
    kind: str = "plain"  # plain | slow | huge | huge_chunked | redirect_loop | dynamic
    make: object = None  # kind == dynamic: a function returning the body, called per request


@dataclass
class Hit:
    path: str
    started: float
    ended: float = 0.0
    user_agent: str = ""
    if_none_match: str | None = None


class FeedServer:
    """``routes[path] = Route(...)``; ``hits`` records every request (path, times, headers)."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                hit = Hit(self.path, time.monotonic(), user_agent=self.headers.get("User-Agent", ""),
                          if_none_match=self.headers.get("If-None-Match"))
                with server._lock:
                    server.hits.append(hit)
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    server._answer(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    hit.ended = time.monotonic()
                    with server._lock:
                        server.in_flight -= 1

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> "FeedServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def hits_for(self, path: str) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if h.path == path]

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        route = self.routes.get(handler.path)
        if route is None:
            return self._send(handler, 404, b"not found", "text/plain")
        if route.kind == "redirect_loop":
            handler.send_response(302)
            handler.send_header("Location", route.headers["Location"])
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        if route.etag and handler.headers.get("If-None-Match") == route.etag:
            handler.send_response(304)
            handler.send_header("ETag", route.etag)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        if route.kind == "slow":
            return self._stream(handler, route, total=None, chunk=b"<item>" * 10, pause=0.1)
        if route.kind in ("huge", "huge_chunked"):
            size = 20 * 1024 * 1024
            return self._stream(handler, route, total=size if route.kind == "huge" else None,
                                chunk=b"<!-- padding -->" * 4096, pause=0, limit=size)
        body = route.make() if route.kind == "dynamic" else route.body
        extra = dict(route.headers)
        if route.etag:
            extra["ETag"] = route.etag
        self._send(handler, route.status, body, route.content_type, extra)

    def _send(self, handler, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(body)

    def _stream(self, handler, route: Route, total: int | None, chunk: bytes, pause: float, limit: int | None = None):
        """A body sent piece by piece (chunked when ``total`` is None), bounded in time and size."""
        handler.send_response(200)
        handler.send_header("Content-Type", route.content_type)
        if total is not None:
            handler.send_header("Content-Length", str(total))
        else:
            handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        if total is None:
            prefix = b'<?xml version="1.0"?><rss version="2.0"><channel>'
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(prefix), prefix))
        sent, deadline = 0, time.monotonic() + SLOW_SECONDS
        while time.monotonic() < deadline and (limit is None or sent < limit):
            piece = chunk if total is None or sent + len(chunk) <= total else chunk[: total - sent]
            if not piece:
                break
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if total is None else piece)
            handler.wfile.flush()
            sent += len(piece)
            if pause:
                time.sleep(pause)
        if total is None:
            handler.wfile.write(b"0\r\n\r\n")
        handler.close_connection = True


def dated(days_ago: int) -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=days_ago)
