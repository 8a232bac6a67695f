"""The words newsdesk sends to models: prompt templates as plain files loaded by name, the refusal
token the answer prompts ask a model to write, and the refusal sentence people are shown."""

from pathlib import Path

_FOLDER = Path(__file__).resolve().parent

# what the answer prompts tell a model to write when the sources do not answer
REFUSAL_TOKEN = "NOT_IN_ARTICLES"

# what every face shows when the indexed articles do not answer (either answerer, or the model's token)
REFUSAL = "The indexed articles do not answer this question."

# the refusal of a question about a time after the newest article ({newest}: its date)
BEYOND_REFUSAL = ("The indexed articles do not answer this question: the newest of them is from {newest}, "
                  "before the time it asks about.")


def is_refusal(text: str) -> bool:
    """Whether ``text`` is one of the refusal sentences above."""
    return text == REFUSAL or (text.startswith(BEYOND_REFUSAL.split(":")[0] + ":")
                               and text.endswith(BEYOND_REFUSAL.rsplit(",", 1)[1]))


def load_prompt(name: str, suffix: str = ".txt") -> str:
    return (_FOLDER / f"{name}{suffix}").read_text(encoding="utf-8")
