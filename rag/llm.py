"""An OpenAI-compatible LLM (OpenAI, Ollama, vLLM, llama.cpp server) through the ``openai`` client.

Every failure becomes an ``LLMError`` with one readable sentence; the API key never appears in it.
"""

from __future__ import annotations

from typing import Iterator
from urllib.parse import urlsplit, urlunsplit

from index.settings import Settings


class LLMError(RuntimeError):
    """The LLM endpoint could not give an answer; the message is one sentence for the user."""


def _safe_url(url: str | None) -> str:
    if not url:
        return "api.openai.com"
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))  # no user:password, no query


class LLMClient:
    def __init__(self, settings: Settings) -> None:
        from openai import OpenAI

        if not settings.llm_model:
            raise LLMError("No LLM is configured: set NEWSDESK_LLM_MODEL and NEWSDESK_LLM_BASE_URL (or OPENAI_API_KEY).")
        self.settings = settings
        self.model = settings.llm_model
        self.where = _safe_url(settings.resolved_llm_base_url())
        self.client = OpenAI(
            api_key=settings.resolved_llm_key() or "not-needed",
            base_url=settings.resolved_llm_base_url(),
            timeout=settings.llm_timeout,
            max_retries=settings.llm_max_retries,
        )

    def stream(self, system: str, user: str, max_tokens: int | None = None) -> Iterator[str]:
        """Text deltas of the answer, as the endpoint sends them."""
        max_tokens = max_tokens or self.settings.llm_max_tokens
        try:
            if self.settings.llm_api == "completions":
                prompt = f"{system}\n\n{user}" if system else user
                events = self.client.completions.create(model=self.model, prompt=prompt, max_tokens=max_tokens,
                                                        temperature=0, stream=True, stop=["\nQuestion:", "\n\n\n"])
                for event in events:
                    text = event.choices[0].text if event.choices else None
                    if text:
                        yield text
            else:
                messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": user}]
                events = self.client.chat.completions.create(model=self.model, messages=messages, max_tokens=max_tokens,
                                                             temperature=0, stream=True)
                for event in events:
                    delta = event.choices[0].delta.content if event.choices else None
                    if delta:
                        yield delta
        except LLMError:
            raise
        except Exception as error:  # noqa: BLE001 - every failure becomes one sentence
            raise LLMError(self.describe(error)) from None

    def complete(self, system: str, user: str, max_tokens: int | None = None) -> str:
        return "".join(self.stream(system, user, max_tokens))

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
            return f"The LLM endpoint {where} did not answer within {self.settings.llm_timeout:g} s."
        if isinstance(error, openai.APIConnectionError):
            return f"Cannot reach the LLM endpoint at {where}: is it running, and is NEWSDESK_LLM_BASE_URL right?"
        if isinstance(error, openai.APIStatusError):
            return f"The LLM endpoint {where} answered with HTTP {error.status_code}."
        return f"The LLM endpoint {where} sent a response newsdesk could not read ({type(error).__name__})."
