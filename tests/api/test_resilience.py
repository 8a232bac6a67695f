"""The API against a Chroma server: the server killed during requests (503, then recovery), and several
uvicorn workers sharing one index (a write through one is read by all)."""

from __future__ import annotations

import threading

import httpx
import pytest

from tests.helpers import FEED, ChromaServer, api_settings, write_feed

QUESTION = {"question": "Which national park was closed by flooding?"}


def index_into(settings, embedder, *paths) -> None:
    from index.sync import Indexer

    indexer = Indexer(settings, embedder=embedder)
    indexer.sync(list(paths))
    indexer.close()


@pytest.fixture
def chroma(tmp_path):
    server = ChromaServer(tmp_path / "chroma-data")
    server.start()
    yield server
    server.stop()


def test_chroma_killed_during_requests_gives_503_then_recovers(tmp_path, chroma, serve, embedder):
    settings = api_settings(tmp_path / "home", chroma_host="127.0.0.1", chroma_port=chroma.port, collection="api-kill")
    index_into(settings, embedder, write_feed(tmp_path / "articles"))
    server = serve(settings)
    assert httpx.post(server.url + "/v1/ask", json=QUESTION, timeout=120).status_code == 200
    codes: list[int] = []
    bodies: list[dict] = []
    stop = threading.Event()

    def keep_asking() -> None:
        for _ in range(200):  # bounded
            if stop.is_set():
                return
            response = httpx.post(server.url + "/v1/ask", json=QUESTION, timeout=120)
            codes.append(response.status_code)
            bodies.append(response.json())

    asker = threading.Thread(target=keep_asking)
    asker.start()
    chroma.process.kill()
    chroma.process.wait()
    down = httpx.post(server.url + "/v1/ask", json=QUESTION, timeout=120)
    stop.set()
    asker.join(120)
    assert down.status_code == 503 and down.headers["Retry-After"]
    error = down.json()["error"]
    assert error["type"] == "store_unavailable" and f"127.0.0.1:{chroma.port}" in error["message"]
    assert "Chroma" in error["message"]  # the store's own sentence: which store, what failed
    assert set(codes) <= {200, 503}  # never a 500, never a hang
    assert httpx.get(server.url + "/readyz", timeout=120).status_code == 503
    assert httpx.get(server.url + "/healthz", timeout=120).status_code == 200
    chroma.start()  # the same port and data
    answered = httpx.post(server.url + "/v1/ask", json=QUESTION, timeout=120)
    assert answered.status_code == 200 and "Yellowstone" in answered.json()["answer"]
    assert httpx.get(server.url + "/readyz", timeout=120).status_code == 200


@pytest.mark.slow
def test_workers_share_one_index_on_a_chroma_server(tmp_path, chroma, cli_server, embedder):
    settings = api_settings(tmp_path / "home", chroma_host="127.0.0.1", chroma_port=chroma.port, collection="api-workers")
    index_into(settings, embedder, write_feed(tmp_path / "articles", FEED))
    server = cli_server(tmp_path / "home", "--workers", "2", NEWSDESK_CHROMA_HOST="127.0.0.1",
                        NEWSDESK_CHROMA_PORT=str(chroma.port), NEWSDESK_COLLECTION="api-workers").wait_ready(180)
    question = {"question": "Which bridge reopened in Portvale?"}
    for _ in range(4):  # each worker opens its desk before the write
        assert httpx.post(server.url + "/v1/ask", json=question, timeout=120).json()["refused"] is True
    added = httpx.post(server.url + "/v1/articles", timeout=120, json={
        "title": "Bridge reopens", "source": "c.example",
        "text": "The harbour bridge in Portvale reopened on Monday after two years of repairs."})
    assert added.status_code == 200 and added.json()["added"] == 1
    for _ in range(6):  # new connections: the kernel spreads them over the workers
        with httpx.Client(timeout=120) as http:
            answer = http.post(server.url + "/v1/ask", json=question).json()
        assert "harbour bridge" in answer["answer"], answer
    assert "2 worker(s)" in server.log()
