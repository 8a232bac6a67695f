"""Limits that keep one server fair to many users: a per-key rate limit and the bounded answer queue.

Both are in-process: with ``--workers N`` each worker keeps its own (docs/guides/api-and-mcp.md says so).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from api.errors import ApiError


class RateLimiter:
    """At most ``per_minute`` requests per identity in any sliding minute."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, identity: str, now: float | None = None) -> int | None:
        """Counts a request; None when it may pass, else the seconds until it would."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._seen.setdefault(identity, deque())
            while times and now - times[0] >= 60.0:
                times.popleft()
            if len(times) >= self.per_minute:
                return max(1, math.ceil(60.0 - (now - times[0])))
            times.append(now)
            return None


class Ticket:
    """A place in the answer queue: entering it waits for a model slot; leaving frees both."""

    def __init__(self, queue: "AnswerQueue") -> None:
        self._queue = queue
        self._entered = False
        self._done = False

    def __enter__(self) -> "Ticket":
        self._queue._slots.acquire()
        self._entered = True
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def release(self) -> None:
        """Frees the place (and the slot when it was entered); safe to call twice."""
        if self._done:
            return
        self._done = True
        if self._entered:
            self._queue._slots.release()
        self._queue._leave()


class AnswerQueue:
    """Model answers: ``concurrency`` at a time, ``waiting`` more queued, anything beyond refused at once
    with 503 and Retry-After (a full queue never makes a client hang)."""

    def __init__(self, concurrency: int, waiting: int, retry_after_s: int) -> None:
        self.concurrency, self.waiting, self.retry_after_s = concurrency, waiting, retry_after_s
        self._slots = threading.Semaphore(concurrency)
        self._lock = threading.Lock()
        self._held = 0

    @property
    def held(self) -> int:
        """Answers running or waiting now."""
        return self._held

    def reserve(self) -> Ticket:
        with self._lock:
            if self._held >= self.concurrency + self.waiting:
                raise ApiError(503, "queue_full", f"The model is busy: {self.concurrency} answer(s) are being written "
                               f"and {self.waiting} are waiting; try again in {self.retry_after_s} s.",
                               {"Retry-After": str(self.retry_after_s)})
            self._held += 1
        return Ticket(self)

    def _leave(self) -> None:
        with self._lock:
            self._held -= 1
