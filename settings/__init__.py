"""The one settings tree: every setting and threshold newsdesk has, in eight groups.

``Settings()`` reads ``NEWSDESK_*`` environment variables and ``.env`` once; pass it down. Each value
is read from the environment variable named after its field (``NEWSDESK_TOP_K`` -> ``retrieval.top_k``),
so the names in docs/reference/settings.md are the names here. Each value says where it came from: a measurement
(with the command or docs/benchmarks page that reproduces it), a limit of a model or library, or a choice.

- ``index``: where the index lives, how articles become chunks and vectors;
- ``retrieval``: how a question finds evidence (hybrid BM25 + dense, dates, sources);
- ``answer``: how evidence becomes a checked answer (extractive scoring, citation support);
- ``llm``: which model writes answers, and how it is reached;
- ``ui``: what the Streamlit app shows;
- ``ingest``: watched folders, feeds, the embedding queue, wire copies, what the status view reports;
- ``service``: the HTTP API, the MCP server, API keys, rate and size limits, the LLM queue;
- ``stories``: which articles tell one story, and what its timeline shows.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_settings import BaseSettings

from errors import BadInput
from settings.answer import AnswerSettings, LLMSettings
from settings.faces import ServiceSettings, UISettings
from settings.ingest import IngestSettings
from settings.store import IndexSettings, RetrievalSettings
from settings.stories import StorySettings

_GROUPS: dict[str, type[BaseSettings]] = {"index": IndexSettings, "retrieval": RetrievalSettings,
                                          "answer": AnswerSettings, "llm": LLMSettings, "ui": UISettings,
                                          "ingest": IngestSettings, "service": ServiceSettings,
                                          "stories": StorySettings}


def _flat_name(group: type[BaseSettings], field: str) -> str:
    """A setting's one flat name: its environment variable without ``NEWSDESK_``, lower case."""
    alias = group.model_fields[field].validation_alias
    return alias.lower().removeprefix("newsdesk_") if isinstance(alias, str) else field


_ROUTES: dict[str, tuple[str, str]] = {_flat_name(cls, f): (group, f) for group, cls in _GROUPS.items()
                                       for f in cls.model_fields}


def _invalid(error: ValidationError) -> BadInput:
    """A settings validation error as one sentence naming the environment variables."""
    problems = "; ".join(f"{env_name(str(e['loc'][0]).lower().removeprefix('newsdesk_'))}: {e['msg']}"
                         for e in error.errors())
    return BadInput(f"Invalid setting: {problems}.")


def _routed(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Flat names -> {group: {field: value}}."""
    by_group: dict[str, dict[str, Any]] = {}
    for key, value in values.items():
        if key not in _ROUTES:
            raise BadInput(f"There is no setting named '{key}'.")
        group, field = _ROUTES[key]
        by_group.setdefault(group, {})[field] = value
    return by_group


class Settings(BaseModel):
    """Every setting newsdesk has, grouped. ``Settings()`` reads the environment; keyword arguments
    set single values by their flat name (``Settings(home=..., top_k=3)``), or whole groups."""

    index: IndexSettings
    retrieval: RetrievalSettings
    answer: AnswerSettings
    llm: LLMSettings
    ui: UISettings
    ingest: IngestSettings
    service: ServiceSettings
    stories: StorySettings

    def __init__(self, _env_file: str | None = ".env", **values: Any) -> None:
        given = {name: values.pop(name) for name, cls in _GROUPS.items() if isinstance(values.get(name), cls)}
        by_group = _routed(values)
        try:
            groups = {name: given[name] if name in given else cls(_env_file=_env_file, **by_group.get(name, {}))
                      for name, cls in _GROUPS.items()}
        except ValidationError as error:
            raise _invalid(error) from None
        super().__init__(**groups)

    def updated(self, **changes: Any) -> Settings:
        """A copy with some values changed (by flat name), validated like the originals."""
        groups = {name: getattr(self, name) for name in _GROUPS}
        for name, fields in _routed(changes).items():
            current = groups[name]
            try:
                groups[name] = type(current).model_validate({**dict(current), **fields})
            except ValidationError as error:
                raise _invalid(error) from None
        return Settings(**groups)

    def answer_mode_for(self, requested: str | None = None) -> str:
        """The one mode rule: ``llm`` or ``extractive`` for a request (None or ``auto``: the setting's
        choice; auto means llm when an LLM is configured)."""
        mode = requested or self.answer.answer_mode
        if mode == "auto":
            return "llm" if self.llm.configured else "extractive"
        return mode


def env_name(flat: str) -> str:
    """The environment variable of a flat setting name (for messages)."""
    return f"NEWSDESK_{flat.upper()}"


__all__ = ["Settings", "StorySettings", "IndexSettings", "RetrievalSettings", "AnswerSettings", "LLMSettings", "UISettings",
           "IngestSettings", "ServiceSettings", "env_name"]
