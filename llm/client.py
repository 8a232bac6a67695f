"""An OpenAI-compatible LLM (OpenAI, Ollama, vLLM, llama.cpp server) through the ``openai`` client.

Every failure becomes an ``LLMError`` with one readable sentence; the API key never appears in it.
"""

from __future__ import annotations

import time
from typing import Iterator
from urllib.parse import urlsplit, urlunsplit

from errors import LLMError
from settings import Settings


def _safe_url(url: str | None) -> str:
    if not url:
        return "api.openai.com"
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))  # no user:password, no query


class LLMClient:
    """One LLM endpoint: remote (NEWSDESK_LLM_BASE_URL/MODEL) or a local model newsdesk serves itself."""

    def __init__(self, settings: Settings) -> None:
        kind = settings.llm.kind
        if kind == "none":
            raise LLMError("No LLM is configured: set NEWSDESK_LLM=local for a packaged local model, or "
                           "NEWSDESK_LLM_MODEL and NEWSDESK_LLM_BASE_URL (or OPENAI_API_KEY) for an endpoint.")
        self.settings = settings
        self.local = None
        if kind == "local":
            from llm.server import LocalServer

            self.local = LocalServer(settings)
            self.model = self.local.alias
            self.where = f"the local {self.model} server"
            self._url: str | None = None
            self.client = None
        else:
            if not settings.llm.llm_model:
                raise LLMError("No LLM model is configured: set NEWSDESK_LLM_MODEL.")
            self.model = settings.llm.llm_model
            self.where = _safe_url(settings.llm.resolved_base_url())
            self.client = self._client(settings.llm.resolved_base_url(), settings.llm.resolved_key() or "not-needed")

    def _client(self, base_url: str | None, key: str):
        from openai import OpenAI

        return OpenAI(api_key=key, base_url=base_url, timeout=self.settings.llm.llm_timeout,
                      max_retries=self.settings.llm.llm_max_retries)

    def warm(self) -> None:
        """Starts the local model's server now (or finds the running one), so that the first answer does not
        wait for the model to load; a remote endpoint needs nothing."""
        self._ready()

    def _ready(self):
        """The client to call; a local server is checked (and restarted if it died) before every request."""
        if self.local is not None:
            url = self.local.ensure()
            if url != self._url:
                self._url, self.client = url, self._client(url, "not-needed")
        return self.client

    def stream(self, system: str, user: str, max_tokens: int | None = None,
               examples: list[tuple[str, str]] | None = None, timed: bool = True,
               schema: dict | None = None) -> Iterator[str]:
        """Text deltas of the answer, as the endpoint sends them. ``examples``: (user, assistant) turns
        shown before the question (a few-shot example), in chat mode. ``timed``: this request's moments
        become ``last_stats`` (an answer's; not a check asked after it). ``schema``: a JSON schema the
        reply is held to (llama.cpp compiles it to a grammar; chat mode)."""
        max_tokens = max_tokens or self.settings.llm.llm_max_tokens
        api = "chat" if self.local is not None else self.settings.llm.llm_api
        started = False
        # perf_counter moments of this request, its first delta and its end (for latency figures)
        stats = {"requested": time.perf_counter(), "first": None, "done": None}
        if timed:
            self.last_stats = stats
        try:
            client = self._ready()
            if api == "completions":
                prompt = f"{system}\n\n{user}" if system else user
                events = client.completions.create(model=self.model, prompt=prompt, max_tokens=max_tokens,
                                                   temperature=0, stream=True, stop=["\nQuestion:", "\n\n\n"])
                text_of = lambda event: event.choices[0].text  # noqa: E731
            else:
                messages = [{"role": "system", "content": system}] if system else []
                for asked, answered in examples or []:
                    messages += [{"role": "user", "content": asked}, {"role": "assistant", "content": answered}]
                messages.append({"role": "user", "content": user})
                # llama.cpp's server takes the schema beside json_object; OpenAI-style endpoints take json_schema
                form = {"type": "json_object", "schema": schema} if self.local is not None else \
                    {"type": "json_schema", "json_schema": {"name": "reply", "schema": schema}}
                extra = {"response_format": form} if schema else None
                events = client.chat.completions.create(model=self.model, messages=messages, max_tokens=max_tokens,
                                                        temperature=0, stream=True, extra_body=extra)
                text_of = lambda event: event.choices[0].delta.content  # noqa: E731
            try:
                for event in events:
                    text = text_of(event) if event.choices else None
                    if text:
                        if not started:
                            started, stats["first"] = True, time.perf_counter()
                        yield text
            finally:
                events.close()  # a reader that stops early (the refusal token) ends the generation too
            stats["done"] = time.perf_counter()
        except LLMError:
            raise
        except Exception as error:  # noqa: BLE001 - every failure becomes one sentence
            if self.local is not None and not self.local.running_url():
                self._url = None
                when = "while answering" if started else "before answering"
                raise LLMError(f"The local model server ({self.model}) stopped {when}; "
                               f"it is started again for the next question.") from None
            raise LLMError(self.describe(error)) from None

    def complete(self, system: str, user: str, max_tokens: int | None = None,
                 examples: list[tuple[str, str]] | None = None, timed: bool = True, schema: dict | None = None) -> str:
        return "".join(self.stream(system, user, max_tokens, examples, timed, schema))

    def describe(self, error: Exception) -> str:
        import openai

        where = self.where
        if isinstance(error, openai.AuthenticationError):
            return f"The LLM endpoint {where} rejected the API key (HTTP 401): check OPENAI_API_KEY or NEWSDESK_LLM_API_KEY."
        if isinstance(error, openai.PermissionDeniedError):
            return f"The LLM endpoint {where} refused access (HTTP 403)."
        if isinstance(error, openai.NotFoundError):
            return f"The LLM endpoint {where} does not know the model '{self.model}' (HTTP 404): check NEWSDESK_LLM_MODEL."
        if isinstance(error, openai.RateLimitError):
            return f"The LLM endpoint {where} is rate limiting requests (HTTP 429) and retries did not help; try again later."
        if isinstance(error, openai.APITimeoutError):
            return f"The LLM endpoint {where} did not answer within {self.settings.llm.llm_timeout:g} s."
        if isinstance(error, openai.APIConnectionError):
            return f"Cannot reach the LLM endpoint at {where}: is it running, and is NEWSDESK_LLM_BASE_URL right?"
        if isinstance(error, openai.APIStatusError):
            return f"The LLM endpoint {where} answered with HTTP {error.status_code}."
        return f"The LLM endpoint {where} sent a response newsdesk could not read ({type(error).__name__})."
