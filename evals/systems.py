"""The systems an evaluation run asks, by name: newsdesk answerers and the settings they run with.

An answerer spec names how newsdesk answers; each becomes one system of the run, asked through its
own ``NewsDesk`` over the same corpus index:

- ``extractive``: the extractive answerer (system ``newsdesk-extractive``);
- ``local:<model>``: llm mode with a packaged local model, e.g. ``local:qwen2.5-coder-1.5b``
  (system ``newsdesk-qwen2.5-coder-1.5b``);
- ``remote:<model>``: llm mode with that model at the configured endpoint (``llm_base_url``).

The same ``local:``/``remote:`` specs name the LLM that judges (``llm_settings``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from errors import BadInput
from settings import LLMSettings, Settings

LOCAL_MODELS: tuple[str, ...] = get_args(LLMSettings.model_fields["local_model"].annotation)


@dataclass(frozen=True)
class Answerer:
    """One newsdesk system of a run: its name, its answer mode and the settings it changes."""

    spec: str
    system: str
    mode: str  # "extractive" or "llm"
    update: dict


def llm_update(spec: str) -> dict:
    """The settings that make ``local:<model>`` or ``remote:<model>`` the LLM."""
    kind, _, model = spec.partition(":")
    if kind == "local":
        if model not in LOCAL_MODELS:  # checked here for a message that names the spec and the choices
            raise BadInput(f"unknown local model '{model}': choose from {', '.join(LOCAL_MODELS)}")
        return {"llm": "local", "local_model": model}
    if kind == "remote" and model:
        return {"llm": "remote", "llm_model": model}
    raise BadInput(f"not an LLM spec: '{spec}' (use local:<model> or remote:<model>)")


def parse_answerer(spec: str) -> Answerer:
    spec = spec.strip()
    if spec == "extractive":
        return Answerer(spec, "newsdesk-extractive", "extractive", {"answer_mode": "extractive"})
    update = llm_update(spec)
    model = update.get("local_model") or update["llm_model"]
    return Answerer(spec, f"newsdesk-{model}", "llm", {"answer_mode": "llm", **update})


def parse_answerers(specs: list[str]) -> list[Answerer]:
    answerers = [parse_answerer(s) for s in specs if s.strip()]
    names = [a.system for a in answerers]
    if len(set(names)) != len(names):
        raise BadInput(f"answerers named twice: {', '.join(specs)}")
    return answerers


def llm_settings(settings: Settings, spec: str) -> Settings:
    """A copy of ``settings`` whose LLM is ``spec`` (e.g. the judge: ``local:qwen2.5-coder-1.5b``)."""
    return settings.updated(**llm_update(spec))
