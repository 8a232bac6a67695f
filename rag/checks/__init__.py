"""The checks an answer passes before anyone sees it, one component each (``rag.engine`` lists their order).

Each check has one method, ``check``, that takes what the model wrote and what it read and returns a
``Verdict``: kept (with the sentence or citations it stands on, which may differ from the model's) or
withheld, with the reason in a reader's words.

- the reader's short answers (``rag.reader``): ``Grounded``, ``AddsToQuestion``, ``AnswersKind``,
  ``CurrentEvent``, each given a ``Claim`` and the ``Sheet`` the model read (``ReaderCheck``);
- cited prose (``rag.generative``), run by ``ProseChecks`` (``rag.checks.prose``) as the sentences stream:
  ``Attribution`` (each sentence cited to the sentences that support it), ``ModelConfirms`` (the model's own
  yes/no on a claim the word checks cannot judge), ``AskedQuantity`` (the answer holds the quantity asked);
- every answer: ``Verbatim`` (each quote is the article's text at its offsets).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from rag.selection import Numbered, Sheet


@dataclass
class Claim:
    """A short answer as the reader gives it: the question, the answer, the sentence it is cited to."""

    question: str
    answer: str
    sentence: Numbered | None
    earlier: Numbered | None = None  # an earlier report of the same figure this answer replaces (latest state)


@dataclass
class Verdict:
    kept: bool
    sentence: Numbered | None = None  # the sentence the answer is cited to (it may differ from the model's)
    reason: str = ""  # why it was withheld, in a reader's words
    text: str = ""  # prose: the sentence as shown, its markers those of the sources that support it


class ReaderCheck(Protocol):
    """A check of the reader's short answer: kept (cited to ``Verdict.sentence``) or withheld, and why."""

    def check(self, claim: Claim, sheet: Sheet) -> Verdict: ...


__all__ = ["Claim", "ReaderCheck", "Verdict"]
