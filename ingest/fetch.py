"""Polite, bounded HTTP for feeds: one request at a time per host, a pause between them, a size and a
total-time limit on every response, conditional GET, Retry-After, and robots.txt for article pages.

httpx does the HTTP; this module adds what a well-behaved reader needs on top. Every failure is a
``FetchResult`` with a one-sentence ``error``, never an exception, so one bad feed never stops others.
"""

from __future__ import annotations

import email.utils
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from settings import Settings


@dataclass(frozen=True)
class FetchResult:
    """What one GET gave: the body when it worked, else ``error`` (one sentence)."""

    url: str
    status: int | None = None  # HTTP status; None when no response came
    body: bytes = b""
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    retry_after: float | None = None  # seconds the server asked us to wait (429/503)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status == 200

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After is either seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - (now if now is not None else datetime.now(timezone.utc).timestamp()))


class PoliteFetcher:
    """GETs with per-host politeness and hard limits (size, total time, redirects)."""

    def __init__(self, settings: Settings, stop: threading.Event | None = None) -> None:
        fresh = settings.ingest
        self.timeout = fresh.feed_timeout_seconds
        self.max_bytes = int(fresh.feed_max_mb * 1024 * 1024)
        self.host_delay = fresh.feed_host_delay_seconds
        self.user_agent = fresh.feed_user_agent
        self.stop = stop or threading.Event()
        # trust_env=False: no .netrc credentials are sent to feed hosts (nor environment proxies used)
        self._client = httpx.Client(follow_redirects=True, max_redirects=fresh.feed_max_redirects,
                                    timeout=httpx.Timeout(self.timeout), headers={"User-Agent": self.user_agent},
                                    trust_env=False)
        self._hosts: dict[str, tuple[threading.Lock, list[float]]] = {}
        self._hosts_lock = threading.Lock()
        self._robots: dict[str, tuple[float, RobotFileParser | bool]] = {}

    def close(self) -> None:
        self._client.close()

    def _host(self, url: str) -> tuple[threading.Lock, list[float]]:
        host = urlsplit(url).netloc.lower()
        with self._hosts_lock:
            return self._hosts.setdefault(host, (threading.Lock(), [0.0]))

    def get(self, url: str, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        """One polite GET: waits its turn for the host, then reads at most ``max_bytes`` within ``timeout``."""
        lock, last = self._host(url)
        with lock:  # one request at a time per host
            wait = last[0] + self.host_delay - time.monotonic()
            if wait > 0:
                self.stop.wait(wait)
            try:
                return self._get(url, etag, last_modified)
            finally:
                last[0] = time.monotonic()

    def _get(self, url: str, etag: str | None, last_modified: str | None) -> FetchResult:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        deadline = time.monotonic() + self.timeout
        limit_mb = f"{self.max_bytes / 1024**2:g} MB"
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                meta = dict(url=str(response.url), status=response.status_code,
                            content_type=response.headers.get("content-type", ""),
                            etag=response.headers.get("etag"), last_modified=response.headers.get("last-modified"),
                            retry_after=retry_after_seconds(response.headers.get("retry-after")))
                if response.status_code != 200:
                    return FetchResult(**meta)
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    return FetchResult(**meta, error=f"the response is larger than {limit_mb} "
                                                     f"({int(declared) / 1024**2:.1f} MB declared); it was not read")
                body = bytearray()
                # the socket timeout bounds each read; this bounds the whole body (a server that never stops)
                for block in response.iter_bytes():
                    body.extend(block)
                    if len(body) > self.max_bytes:
                        return FetchResult(**meta, error=f"the response is larger than {limit_mb}; "
                                                         "reading stopped there")
                    if time.monotonic() > deadline:
                        return FetchResult(**meta, error=f"the response did not finish within {self.timeout:g} s; "
                                                         "reading stopped there")
                return FetchResult(**meta, body=bytes(body))
        except httpx.TooManyRedirects:
            return FetchResult(url, error="too many redirects (a redirect loop?); the request was given up")
        except httpx.TimeoutException:
            return FetchResult(url, error=f"no response within {self.timeout:g} s")
        except httpx.HTTPError as error:  # connection refused, reset, bad URL, protocol errors
            return FetchResult(url, error=f"the request failed: {type(error).__name__}: {error}".rstrip(": "))

    # --- robots.txt -------------------------------------------------------------------------
    def allowed(self, url: str) -> bool:
        """Whether robots.txt lets newsdesk fetch ``url`` (kept an hour per host).

        Missing robots.txt (4xx): allowed; 401/403: nothing allowed; unreachable or 5xx: not now
        (the item then falls back to the feed's own text).
        """
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        cached = self._robots.get(origin)
        if cached is None or time.monotonic() > cached[0]:
            rules = self._read_robots(origin)
            # rules are kept an hour; a robots.txt that could not be read is asked again in 10 minutes
            cached = (time.monotonic() + (600 if rules is False else 3600), rules)
            self._robots[origin] = cached
        rules = cached[1]
        if isinstance(rules, bool):
            return rules
        return rules.can_fetch(self.user_agent, url)

    def _read_robots(self, origin: str) -> RobotFileParser | bool:
        result = self.get(origin + "/robots.txt")
        if result.status in (401, 403):
            return False
        if result.status is not None and 400 <= result.status < 500:
            return True
        if not result.ok:
            return False
        parser = RobotFileParser()
        parser.parse(result.body.decode("utf-8", errors="replace").splitlines())
        return parser
