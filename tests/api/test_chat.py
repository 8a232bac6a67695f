"""The OpenAI-compatible chat endpoint with the official ``openai`` client, unchanged, against real uvicorn."""

from __future__ import annotations

import threading

import httpx
import pytest
from openai import OpenAI, APIStatusError
from pydantic import SecretStr

from tests.helpers import api_settings
from tests.rag.llm_stub import StubLLM

QUESTION = "Which national park was closed by flooding?"


@pytest.fixture
def server(home, serve):
    return serve(api_settings(home))


def client(server, key: str = "unused") -> OpenAI:
    return OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0, timeout=120)


def test_models_lists_both_answerers(server):
    assert {m.id for m in client(server).models.list()} == {"newsdesk", "newsdesk-extractive"}


def test_create_answers_with_markers_citations_and_a_sources_list(server):
    reply = client(server).chat.completions.create(model="newsdesk", messages=[{"role": "user", "content": QUESTION}])
    message = reply.choices[0].message
    assert "Yellowstone" in message.content and "[1]" in message.content
    body, sources = message.content.split("\n\nSources:\n")
    assert sources.startswith("[1] Floods close park (a.example, 2022-06-14) https://a.example/floods")
    citation = message.model_extra["citations"][0]
    assert citation["n"] == 1 and citation["title"] == "Floods close park" and citation["quote"] in body.replace(" [1]", "")
    assert reply.model_extra["newsdesk"]["refused"] is False and reply.choices[0].finish_reason == "stop"


def test_stream_gives_the_same_answer_and_citations_in_the_final_chunk(server):
    chunks = list(client(server).chat.completions.create(
        model="newsdesk-extractive", stream=True, messages=[{"role": "user", "content": QUESTION}]))
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert "Yellowstone" in text and "\n\nSources:\n[1] Floods close park" in text
    final = chunks[-1]
    assert final.choices[0].finish_reason == "stop"
    assert final.model_extra["citations"][0]["source"] == "a.example"
    assert all("citations" not in (c.model_extra or {}) for c in chunks[:-1])


def test_earlier_turns_are_the_history_and_options_filter(server):
    openai = client(server)
    reply = openai.chat.completions.create(model="newsdesk", messages=[
        {"role": "user", "content": "How many US troops are stationed in South Korea?"},
        {"role": "assistant", "content": "About 28,500 [1]."},
        {"role": "user", "content": [{"type": "text", "text": QUESTION}]}],
        extra_body={"newsdesk": {"sources": ["b.example"]}})
    # the only flood article is from a.example: filtered out, the answer is an honest refusal
    assert reply.model_extra["newsdesk"]["refused"] is True
    assert "do not answer" in reply.choices[0].message.content
    assert reply.model_extra["citations"] == []
    reply = openai.chat.completions.create(model="newsdesk", messages=[{"role": "user", "content": QUESTION}],
                                           extra_body={"newsdesk": {"as_of": "2022-06-20", "since": "2022-06-01"}})
    assert "Yellowstone" in reply.choices[0].message.content


def test_bad_requests_are_json_errors(server):
    openai = client(server)
    with pytest.raises(APIStatusError) as caught:
        openai.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])
    assert caught.value.status_code == 404 and caught.value.body["type"] == "model_not_found"
    with pytest.raises(APIStatusError) as caught:
        openai.chat.completions.create(model="newsdesk", messages=[{"role": "system", "content": "hi"}])
    assert caught.value.status_code == 400 and "no user message" in caught.value.body["message"]
    response = httpx.post(server.url + "/v1/chat/completions", json={"model": "newsdesk", "messages": [],
                                                                     "newsdesk": {"k": 500}}, timeout=120)
    assert response.status_code == 422 and response.json()["error"]["type"] == "invalid_request"
    response = httpx.post(server.url + "/v1/chat/completions", content=b'{"model": "newsdesk", "messages": [',
                          headers={"Content-Type": "application/json"}, timeout=120)
    assert response.status_code == 400 and response.json() == {
        "error": {"type": "invalid_json", "message": "The request body is not valid JSON."}}
    response = httpx.post(server.url + "/v1/ask", json={"question": "When?", "since": "the day after never"}, timeout=120)
    assert response.status_code == 400 and set(response.json()["error"]) == {"type", "message"}
    assert "Traceback" not in response.text


def test_a_client_that_disconnects_mid_stream_does_not_stop_the_server(server):
    with httpx.Client(timeout=120) as http:
        with http.stream("POST", server.url + "/v1/chat/completions", json={
                "model": "newsdesk", "stream": True, "messages": [{"role": "user", "content": QUESTION}]}) as r:
            first = next(r.iter_lines())
            assert first.startswith("data: ")
        # the connection is closed with the stream unread; others are served
    results: list[int] = []

    def ask() -> None:
        results.append(httpx.post(server.url + "/v1/ask", json={"question": QUESTION}, timeout=120).status_code)

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results == [200, 200, 200]


def test_llm_mode_through_the_api_with_the_protocol_stub(home, serve):
    """The llm answerer behind the API (the stub server stands in for the model's protocol only)."""
    with StubLLM() as stub:
        settings = api_settings(home).updated(answer_mode="llm", llm_base_url=stub.url, llm_model="answer",
                                              llm_api_key=SecretStr("sk-stub-0123456789"), llm_timeout=10.0,
                                              llm_max_retries=0)
        server = serve(settings)
        chunks = list(client(server).chat.completions.create(
            model="newsdesk", stream=True, messages=[{"role": "user", "content": "How many US troops are stationed "
                                                                                 "in South Korea?"}]))
        text = "".join(c.choices[0].delta.content or "" for c in chunks)
        assert "28,500" in text and "green cheese" not in text and "[42]" not in text
        assert chunks[-1].model_extra["newsdesk"]["mode"] == "llm" and chunks[-1].model_extra["citations"]
        assert stub.requests and stub.requests[-1]["body"]["stream"] is True


@pytest.mark.slow  # waits out the stub's slow answer: ~7 s
def test_a_full_model_queue_answers_503_with_retry_after(home, serve):
    """One model slot, no waiting room: while a slow answer is written, the next one is refused at once."""
    with StubLLM() as stub:
        settings = api_settings(home).updated(answer_mode="llm", llm_base_url=stub.url, llm_model="slow",
                                              llm_timeout=20.0, llm_max_retries=0, llm_concurrency=1,
                                              llm_queue_size=0, model_fallback=False)
        server = serve(settings)
        question = {"question": "How many US troops are stationed in South Korea?"}
        slow: list[httpx.Response] = []
        thread = threading.Thread(target=lambda: slow.append(httpx.post(server.url + "/v1/ask", json=question,
                                                                        timeout=120)))
        thread.start()
        for _ in range(200):  # until the slow answer holds the slot (bounded)
            if stub.requests:
                break
            threading.Event().wait(0.05)
        busy = httpx.post(server.url + "/v1/ask", json=question, timeout=120)
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "10"
        assert busy.json()["error"]["type"] == "queue_full"
        extractive = httpx.post(server.url + "/v1/ask", json={**question, "mode": "extractive"}, timeout=120)
        assert extractive.status_code == 200  # extractive answers need no model slot
        thread.join(60)
        assert slow[0].status_code == 200
        assert httpx.post(server.url + "/v1/ask", json=question, timeout=120).status_code == 200  # the slot is free again
