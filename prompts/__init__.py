"""Prompt templates live here as plain text files, loaded by name."""

from pathlib import Path

_FOLDER = Path(__file__).resolve().parent


def load_prompt(name: str) -> str:
    return (_FOLDER / f"{name}.txt").read_text(encoding="utf-8")
