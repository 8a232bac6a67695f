"""Prompt templates live here as plain files, loaded by name, with the refusal token they ask for."""

from pathlib import Path

_FOLDER = Path(__file__).resolve().parent

# what the answer prompts tell a model to write when the sources do not answer
REFUSAL_TOKEN = "NOT_IN_ARTICLES"


def load_prompt(name: str, suffix: str = ".txt") -> str:
    return (_FOLDER / f"{name}{suffix}").read_text(encoding="utf-8")
