"""API keys, read-only keys, the open (no key) mode, rate and size limits, sync roots, and no key in any log."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from api.app import check_bind
from api.keys import KeyStore
from api.service import Service
from errors import BadInput
from tests.helpers import REPO, api_settings, clean_env, write_feed

QUESTION = {"question": "Which national park was closed by flooding?"}


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def test_keys_missing_wrong_revoked_and_read_only(home, serve):
    keys = KeyStore(home)
    writer, reader = keys.create("writer"), keys.create("reader", read_only=True)
    server = serve(api_settings(home))
    url = server.url
    missing = httpx.post(url + "/v1/ask", json=QUESTION, timeout=120)
    assert missing.status_code == 401 and missing.json()["error"]["type"] == "missing_api_key"
    wrong = httpx.post(url + "/v1/ask", json=QUESTION, headers=bearer("nd-not-a-key"), timeout=120)
    assert wrong.status_code == 401 and wrong.json()["error"]["type"] == "invalid_api_key"
    assert httpx.get(url + "/healthz", timeout=120).status_code == 200
    assert httpx.get(url + "/docs", timeout=120).status_code == 200
    assert httpx.post(url + "/v1/ask", json=QUESTION, headers=bearer(reader), timeout=120).status_code == 200
    searched = httpx.post(url + "/v1/search", json={"query": "flood"}, headers={"X-API-Key": reader}, timeout=120)
    assert searched.status_code == 200
    article = {"title": "Bridge reopens", "text": "The harbour bridge in Portvale reopened on Monday."}
    for method, path, kwargs in [("POST", "/v1/articles", {"json": article}),
                                 ("DELETE", "/v1/articles/anything", {}),
                                 ("POST", "/v1/index/sync", {"json": {"paths": [str(home)]}})]:
        refused = httpx.request(method, url + path, headers=bearer(reader), **kwargs, timeout=120)
        assert refused.status_code == 403 and refused.json()["error"]["type"] == "read_only_key"
        assert "'reader' is read-only" in refused.json()["error"]["message"]
    added = httpx.post(url + "/v1/articles", json=article, headers=bearer(writer), timeout=120)
    assert added.status_code == 200 and added.json()["added"] == 1
    keys.revoke("reader")  # takes effect on the running server
    revoked = httpx.post(url + "/v1/ask", json=QUESTION, headers=bearer(reader), timeout=120)
    assert revoked.status_code == 401
    for response in (missing, wrong, revoked, added):
        assert writer not in response.text and reader not in response.text


@pytest.mark.slow  # two `newsdesk keys` runs and a `newsdesk serve` process: ~5 s
def test_keys_are_stored_hashed_and_never_logged(home, cli_server, tmp_path):
    env = clean_env(NEWSDESK_HOME=str(home))
    created = subprocess.run([sys.executable, "-m", "cli", "keys", "create", "alice"], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=120)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("nd-") and "shown this once" in created.stderr
    assert key not in (home / "api-keys.json").read_text()
    listed = subprocess.run([sys.executable, "-m", "cli", "keys", "list", "--json"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert '"name": "alice"' in listed.stdout and key not in listed.stdout
    server = cli_server(home, "--log-level", "debug").wait_ready()
    responses = [httpx.post(server.url + "/v1/ask", json=QUESTION, headers=bearer(key), timeout=120),
                 httpx.post(server.url + "/v1/ask", json=QUESTION, headers=bearer(key + "x"), timeout=120),
                 httpx.post(server.url + "/v1/articles", content=b"{not json", headers=bearer(key), timeout=120),
                 httpx.get(server.url + "/v1/status", headers=bearer(key), timeout=120)]
    assert [r.status_code for r in responses] == [200, 401, 400, 200]
    revoked = subprocess.run([sys.executable, "-m", "cli", "keys", "revoke", "alice"], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=120)
    assert revoked.returncode == 0
    assert httpx.post(server.url + "/v1/ask", json=QUESTION, headers=bearer(key), timeout=120).status_code == 401
    server.stop()
    log = server.log()
    assert "POST /v1/ask" in log  # the access log is there, and holds no key
    assert key not in log and key[3:] not in log
    assert all(key not in r.text for r in responses)


def test_without_keys_only_this_machine_is_served(home):
    service = Service(api_settings(home))
    assert "127.0.0.1 only" in check_bind("127.0.0.1", service)
    with pytest.raises(BadInput, match="Refusing to listen on 0.0.0.0 without API keys"):
        check_bind("0.0.0.0", service)
    refused = subprocess.run([sys.executable, "-m", "cli", "serve", "--host", "0.0.0.0", "--port", "1"], cwd=REPO,
                             env=clean_env(NEWSDESK_HOME=str(home)), capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "Refusing to listen on 0.0.0.0 without API keys" in refused.stderr
    service.keys.create("ops")
    assert check_bind("0.0.0.0", service) is None


def test_rate_limit_answers_429_with_retry_after(home, serve):
    key = KeyStore(home).create("busy")
    other = KeyStore(home).create("calm")
    server = serve(api_settings(home, api_rate_per_minute=3))
    codes = [httpx.get(server.url + "/v1/models", headers=bearer(key), timeout=120).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = httpx.get(server.url + "/v1/models", headers=bearer(key), timeout=120)
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.json()["error"]["type"] == "rate_limited" and "'busy'" in limited.json()["error"]["message"]
    assert httpx.get(server.url + "/v1/models", headers=bearer(other), timeout=120).status_code == 200  # per key
    assert httpx.get(server.url + "/healthz", timeout=120).status_code == 200  # health checks are not counted


def test_oversized_bodies_are_refused_with_413(home, serve):
    server = serve(api_settings(home, api_max_body_mb=0.01))
    big = {"title": "Big", "text": "word " * 5000}
    response = httpx.post(server.url + "/v1/articles", json=big, timeout=120)
    assert response.status_code == 413 and response.json()["error"]["type"] == "body_too_large"

    def chunked():  # no Content-Length: counted as it streams in
        for _ in range(20):
            yield b"x" * 1024

    response = httpx.post(server.url + "/v1/articles", content=chunked(), timeout=120,
                          headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["error"]["type"] == "body_too_large"
    assert httpx.post(server.url + "/v1/ask", json=QUESTION, timeout=120).status_code == 200


def test_sync_only_under_the_configured_roots(home, serve, tmp_path):
    root = tmp_path / "inbox"
    write_feed(root, [{"url": "https://c.example/1", "title": "Bridge reopens", "source": "c.example",
                       "text": "The harbour bridge in Portvale reopened on Monday after repairs."}])
    outside = tmp_path / "elsewhere"
    write_feed(outside)
    (root / "escape").symlink_to(outside)
    server = serve(api_settings(home, sync_roots=str(root)))
    for path in (str(outside), str(root / ".." / "elsewhere"), str(root / "escape"), "/etc"):
        refused = httpx.post(server.url + "/v1/index/sync", json={"paths": [path]}, timeout=120)
        assert refused.status_code == 403 and refused.json()["error"]["type"] == "path_not_allowed", path
    synced = httpx.post(server.url + "/v1/index/sync", json={"paths": [str(root / "feed.jsonl")]}, timeout=120)
    assert synced.status_code == 200 and synced.json()["added"] == 1
    answer = httpx.post(server.url + "/v1/ask", json={"question": "Which bridge reopened in Portvale?"}, timeout=120)
    assert "harbour bridge" in answer.json()["answer"]
    nothing = serve(api_settings(home))  # no roots configured: nothing may be synced
    refused = httpx.post(nothing.url + "/v1/index/sync", json={"paths": [str(root)]}, timeout=120)
    assert refused.status_code == 403 and "NEWSDESK_SYNC_ROOTS" in refused.json()["error"]["message"]
