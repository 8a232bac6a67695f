"""A deterministic OpenAI-compatible HTTP server for protocol tests (the model name picks a behaviour).

It is a stand-in for the protocol only; the real-server test runs llama.cpp's server with Gemma.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StubLLM:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> "StubLLM":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                stub.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
                behaviour = body.get("model", "answer")
                if behaviour == "unauthorized":
                    return self._error(401, "Incorrect API key provided")
                if behaviour == "ratelimit":
                    return self._error(429, "Rate limit reached")
                if behaviour == "servererror":
                    return self._error(500, "boom")
                if behaviour == "slow":
                    time.sleep(3)
                text = stub.reply(behaviour, body)
                if behaviour == "malformed":
                    self._start_stream()
                    self.wfile.write(b"data: {this is not json\n\n")
                    self.wfile.flush()
                    return
                if body.get("stream"):
                    self._start_stream()
                    for piece in re.findall(r"\S+\s*", text):
                        self._event(body, piece)
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                else:
                    payload = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": behaviour,
                                          "choices": [{"index": 0, "finish_reason": "stop",
                                                       "message": {"role": "assistant", "content": text}}]}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)

            def _error(self, code: int, message: str):
                payload = json.dumps({"error": {"message": message, "type": "error", "code": code}}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _start_stream(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()

            def _event(self, body: dict, piece: str):
                if self.path.endswith("/chat/completions"):
                    chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                             "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                else:
                    chunk = {"id": "x", "object": "text_completion", "created": 0, "model": body["model"],
                             "choices": [{"index": 0, "text": piece, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()

        return Handler

    @staticmethod
    def json_reply(behaviour: str, body: dict) -> str:
        """``read:WORD``: the first numbered sentence of the question's articles holding WORD, and WORD as the
        answer (``read:A|B``: A if a sentence holds it, else B; ``read:`` alone: no sentence, a refusal);
        ``misread:WORD``: the same answer with the number of the sentence after it, as a small model gives."""
        last = body["messages"][-1]["content"]
        kind, _, words = behaviour.partition(":")
        sentences = re.findall(r"^\[(\d+)\] (.*)$", last, re.M)
        for word in [w for w in words.split("|") if w]:
            for number, sentence in sentences:
                if word.lower() in sentence.lower():
                    return json.dumps({"sentence": int(number) + (kind == "misread"), "answer": word})
        return json.dumps({"sentence": 0, "answer": ""})

    @staticmethod
    def prompt_text(body: dict) -> str:
        if "messages" in body:
            return "\n".join(m["content"] for m in body["messages"])
        return body.get("prompt", "")

    def reply(self, behaviour: str, body: dict) -> str:
        prompt = self.prompt_text(body)
        if body.get("response_format"):  # rag/reader.py or rag/steps.py asking for JSON
            return self.json_reply(behaviour, body)
        if "Standalone question:" in prompt:
            question = prompt.rsplit("Last question:", 1)[1].split("\n", 1)[0].strip()
            context = re.findall(r"User: (.*)", prompt)[-1]
            return f"{question.rstrip('?')} ({context.rstrip('?')})?"
        if "Could a reader of the source tell" in prompt:  # rag/claim_check.py asking about one claim
            return "No." if behaviour.endswith("-no") else "Yes"
        if behaviour == "refuse":
            return "NOT_IN_ARTICLES"
        if behaviour in ("verdict-yes", "verdict-no"):  # a judge's one-word verdict
            return "Yes" if behaviour == "verdict-yes" else "No."
        # the sources of the question itself: the last user turn (earlier turns may be worked examples)
        last = body["messages"][-1]["content"] if "messages" in body else prompt
        sources = re.findall(r'<source id="(\d+)"[^>]*>\n(.*?)\n</source>', last, re.S)
        first = re.split(r"(?<=[.!?])\s+", sources[0][1].strip())[0] if sources else "Nothing."
        if behaviour == "misattribute":  # the 1.5B on the seed suite: another speaker's words given to the one asked
            return f"China's foreign ministry said that {first[0].lower()}{first[1:].rstrip('.')} [1]."
        if behaviour == "east-sea":  # the 1.5B on the seed suite: a name from one sentence, said of the article
            return "South Korea calls the Sea of Japan the East Sea [1]."
        if behaviour.startswith("premise"):  # the 1.5B on the seed suite: the question's premise, given as news
            return "North Korea cancelled flights because of the missile test [1]. It fired two missiles [1]."
        if behaviour == "wrong-number" and len(sources) > 1:  # the 1.5B on realtimeqa-llm: source 2's sentence as [1]
            last_source = re.split(r"(?<=[.!?])\s+", sources[-1][1].strip())[0]
            return f"{last_source.rstrip('.')} [1]. The moon is made of green cheese [1]."
        if behaviour == "uncited":
            return "The bridge was painted pink by aliens. It cost nothing."
        # a supported claim, an unsupported claim with a real marker, and a marker that points nowhere
        return f"{first.rstrip('.')} [1]. The moon is made of green cheese [2]. Officials in Lisbon confirmed it [42]."
