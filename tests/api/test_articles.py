"""Articles, search, status and health through HTTP: add (JSON and files), list, get, remove, and answers follow."""

from __future__ import annotations

import gzip
import json

import httpx

from tests.helpers import api_settings

BRIDGE = {"url": "https://c.example/bridge", "title": "Bridge reopens", "source": "c.example",
          "published_at": "2022-07-01", "text": "The harbour bridge in Portvale reopened on Monday after two years "
                                                "of repairs. Officials said tolls would stay at two dollars."}
ASK_BRIDGE = {"question": "Which bridge reopened in Portvale?"}


def test_health_status_docs_and_search(home, serve):
    server = serve(api_settings(home))
    url = server.url
    assert httpx.get(url + "/healthz", timeout=120).json() == {"status": "ok"}
    ready = httpx.get(url + "/readyz", timeout=120).json()
    assert ready["status"] == "ready" and ready["articles"] == 3
    status = httpx.get(url + "/v1/status", timeout=120).json()
    assert status["articles"] == 3 and status["embedder"] and {"store", "catalog", "roots", "sources"} <= set(status)
    docs = httpx.get(url + "/docs", timeout=120)
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert "/v1/chat/completions" in httpx.get(url + "/openapi.json", timeout=120).json()["paths"]
    found = httpx.post(url + "/v1/search", json={"query": "airline merger", "k": 2}, timeout=120).json()
    assert found["results"][0]["title"] == "Airlines merge" and len(found["results"]) <= 2
    assert {"score", "text", "start", "end", "bm25_rank", "dense_rank"} <= set(found["results"][0])
    dated = httpx.post(url + "/v1/search", json={"query": "airline merger", "until": "2022-01-31"}, timeout=120).json()
    assert all(r["title"] != "Airlines merge" for r in dated["results"])
    outlet = httpx.post(url + "/v1/search", json={"query": "closed", "sources": ["b.example"]}, timeout=120).json()
    assert {r["source"] for r in outlet["results"]} == {"b.example"}


def test_ask_returns_the_ask_json_object(home, serve):
    server = serve(api_settings(home))
    data = httpx.post(server.url + "/v1/ask", json={"question": "How many US troops are stationed in South Korea?"},
                      timeout=120).json()
    assert set(data) == {"question", "answer", "refused", "mode", "citations", "retrieved", "timings_ms"}
    assert "28,500" in data["answer"] and data["citations"][0]["n"] == 1 and data["mode"] == "extractive"


def test_add_list_get_and_remove_articles(home, serve):
    server = serve(api_settings(home))
    url = server.url
    assert httpx.post(url + "/v1/ask", json=ASK_BRIDGE, timeout=120).json()["refused"] is True
    added = httpx.post(url + "/v1/articles", json={"articles": [BRIDGE]}, timeout=120).json()
    assert added["added"] == 1 and len(added["ids"]) == 1
    article_id = added["ids"][0]
    again = httpx.post(url + "/v1/articles", json=BRIDGE, timeout=120).json()  # same article: nothing new
    assert again["added"] == 0 and again["ids"] == [article_id]
    answer = httpx.post(url + "/v1/ask", json=ASK_BRIDGE, timeout=120).json()
    assert "harbour bridge" in answer["answer"] and answer["citations"][0]["article_id"] == article_id
    listed = httpx.get(url + "/v1/articles", params={"limit": 1}, timeout=120).json()
    assert listed["total"] == 4 and listed["articles"][0]["title"] == "Bridge reopens"  # newest first
    assert httpx.get(url + "/v1/articles", params={"q": "airlines"}, timeout=120).json()["total"] == 1
    assert httpx.get(url + "/v1/articles", params={"q": "AIRLINES"}, timeout=120).json()["total"] == 1
    second = httpx.get(url + "/v1/articles", params={"limit": 2, "offset": 1}, timeout=120).json()
    everything = httpx.get(url + "/v1/articles", timeout=120).json()
    assert second["total"] == 4 and second["offset"] == 1 and len(second["articles"]) == 2
    assert second["articles"] == everything["articles"][1:3]  # a page is the same slice of the newest-first list
    by_outlet = httpx.get(url + "/v1/articles", params={"source": "c.example"}, timeout=120).json()
    assert by_outlet["articles"][0]["article_id"] == article_id
    one = httpx.get(url + f"/v1/articles/{article_id}", timeout=120).json()
    assert one["text"] == BRIDGE["text"] and one["url"] == BRIDGE["url"] and one["source"] == "c.example"
    removed = httpx.delete(url + f"/v1/articles/{article_id}", timeout=120)
    assert removed.json() == {"removed": [article_id], "unknown": []}
    assert httpx.post(url + "/v1/ask", json=ASK_BRIDGE, timeout=120).json()["refused"] is True
    assert not list((home / "uploads").glob("api-*.json"))  # the uploaded file went with its last article
    missing = httpx.get(url + f"/v1/articles/{article_id}", timeout=120)
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "article_not_found"
    assert httpx.delete(url + f"/v1/articles/{article_id}", timeout=120).status_code == 404
    bulk = httpx.delete(url + "/v1/articles", params={"id": ["nope-1", "nope-2"]}, timeout=120).json()
    assert bulk == {"removed": [], "unknown": ["nope-1", "nope-2"]}


def test_files_upload_as_multipart(home, serve):
    server = serve(api_settings(home))
    feed = gzip.compress((json.dumps(BRIDGE) + "\n").encode())
    files = [("files", ("news.jsonl.gz", feed, "application/gzip")),
             ("files", ("note.txt", b"Frost in Calderra\nA late frost destroyed the apple orchards of Calderra.",
                        "text/plain")),
             ("files", ("evil.exe", b"MZ", "application/octet-stream"))]
    data = httpx.post(server.url + "/v1/articles", files=files, timeout=120).json()
    assert data["added"] == 2 and len(data["ids"]) == 2
    assert len(data["rejected"]) == 1 and "evil.exe" in data["rejected"][0]
    answer = httpx.post(server.url + "/v1/ask", json={"question": "What destroyed the apple orchards of Calderra?"},
                        timeout=120).json()
    assert "frost" in answer["answer"].lower()
    bad = httpx.post(server.url + "/v1/articles", files=[("files", ("evil.exe", b"MZ", "x/y"))], timeout=120)
    assert bad.status_code == 400 and "not a supported file" in bad.json()["error"]["message"]
    empty = httpx.post(server.url + "/v1/articles", json=[], timeout=120)
    assert empty.status_code == 400 and empty.json()["error"]["type"] == "bad_input"
    notext = httpx.post(server.url + "/v1/articles", json={"title": "No body"}, timeout=120).json()
    assert notext["added"] == 0 and notext["skipped"]  # skipped with its reason, nothing corrupted


def test_an_empty_home_is_a_clear_error_until_something_is_indexed(tmp_path, serve):
    server = serve(api_settings(tmp_path / "empty"))
    ask = httpx.post(server.url + "/v1/ask", json=ASK_BRIDGE, timeout=120)
    assert ask.status_code == 409 and ask.json()["error"]["type"] == "index_empty"
    assert httpx.get(server.url + "/readyz", timeout=120).status_code == 503
    assert httpx.get(server.url + "/v1/status", timeout=120).json()["articles"] == 0
    assert httpx.get(server.url + "/v1/articles", timeout=120).json() == {"total": 0, "offset": 0, "articles": []}
    assert httpx.post(server.url + "/v1/articles", json=BRIDGE, timeout=120).json()["added"] == 1
    assert "harbour bridge" in httpx.post(server.url + "/v1/ask", json=ASK_BRIDGE, timeout=120).json()["answer"]
    assert httpx.get(server.url + "/readyz", timeout=120).status_code == 200
