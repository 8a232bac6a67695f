"""/v1/search runs at most ``api_search_threads`` searches at once per worker; the others wait their turn and
are all answered (a real uvicorn server on 127.0.0.1, real searches of a real index)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from api.app import create_app
from api.service import Service
from tests.helpers import ThreadServer, api_settings


class CountingService(Service):
    """The real service, counting the searches inside it at the same time."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.inside = self.most = 0
        self.lock = threading.Lock()

    def search(self, *args, **kwargs) -> dict:
        with self.lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
        try:
            return super().search(*args, **kwargs)
        finally:
            with self.lock:
                self.inside -= 1


@pytest.mark.parametrize("limit", [1, 2])
def test_searches_at_once_stay_within_the_limit_and_all_are_answered(home, embedder, limit):
    settings = api_settings(home, api_search_threads=limit, api_rate_per_minute=1000)
    service = CountingService(settings, embedder=embedder)
    server = ThreadServer(create_app(settings, service=service)).start()
    queries = ["hiking trail", "Eliud Kipchoge marathon", "goats cleaning up", "water price", "city council",
               "election results", "storm damage", "new museum"]
    try:
        with ThreadPoolExecutor(len(queries)) as pool:
            replies = list(pool.map(lambda q: httpx.post(f"{server.url}/v1/search", json={"query": q}, timeout=120),
                                    queries))
    finally:
        server.stop()
    assert [r.status_code for r in replies] == [200] * len(queries)
    assert all(r.json()["query"] == q for r, q in zip(replies, queries))
    assert 1 <= service.most <= limit
