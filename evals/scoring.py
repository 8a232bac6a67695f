"""Scores of one answer to one case: retrieval ranks, correctness, refusal and citation checks.

What each citation check measures (the names in ``results.jsonl`` and ``summary.json``):

- ``citation_verbatim``: the quote is, character for character, the cited article's text at the
  quote's offsets (read from the catalog, not from the answer). Independent of the answerer.
- ``citation_self_support``: newsdesk's own ``CitationVerifier`` (shared words and embedding
  similarity) accepts that the quote supports its answer sentence. The answerer keeps only
  sentences that pass this very check, so it is ~1.0 by construction: a consistency check of the
  pipeline, not a grade of support.
- ``citation_judged_support``: the independent LLM judge (``evals/judge.py``) says the quote states
  what its sentence claims; share over the citations it gave a verdict on. Only with a judge.

Correctness of a free answer: ``accuracy`` (a gold answer is contained, normalized: the strict
floor), ``exact_match``, ``token_f1`` (SQuAD-style, accepts reordering, penalises padding) and
``judged_correct`` (the judge's yes/no against the gold answers; only with a judge). A refusal
scores 0 on all of them without asking the judge.
"""

from __future__ import annotations

import re

from evals.metrics import choice_match, contains_answer, contains_whole_words, exact_match, hit_at, mrr_at, ndcg_at, normalize, token_f1
from evals.suite import Case
from rag.types import first_per_article

CHOICE_TYPES = ("multiple-choice", "nota")


def pick_choice(answer_text: str, evidence_texts: list[str], choices: list[str]) -> str:
    """Multiple choice from a free answer: the choice the answer states most fully (``choice_match``);
    when it states none, the choice the evidence states in full, the best-ranked chunks weighing most
    (a chunk naming a choice's one word, "Texas", does not state it)."""
    real = [c for c in choices if not normalize(c).startswith("none of above")]
    scored = [(choice_match(answer_text, c, choices),
               sum((choice_match(text, c, choices) == 1.0) / (rank + 1) for rank, text in enumerate(evidence_texts)), c)
              for c in real]
    best = max(scored, default=(0.0, 0.0, ""))  # the answer first; the evidence breaks its ties
    if best[0] == 0.0 and best[1] == 0.0:
        nota = [c for c in choices if normalize(c).startswith("none of above")]
        return nota[0] if nota else (real[0] if real else "")
    return best[2]


def judges_correctness(case: Case) -> bool:
    """Cases whose free answer is graded against gold answers (not choices)."""
    return bool(case.gold_answers) and case.type not in CHOICE_TYPES


def check_citations(catalog, verifier, data: dict, judge=None, question: str | None = None) -> list[dict]:
    """Per citation: its answer sentence, and whether it is verbatim, self-supported and judged supported."""
    from rag.citations import MARKER
    from rag.sentences import sentence_spans

    text = data["answer"]
    sentences = [text[a:b] for a, b in sentence_spans(text)]
    checks = []
    for citation in data["citations"]:
        article = catalog.article_text(citation["article_id"]) or ""
        claim = claim_of(sentences, citation["n"], MARKER)
        check = {"n": citation["n"], "sentence": claim,
                 "verbatim": article[citation["start"]:citation["end"]] == citation["quote"],
                 "self_support": bool(claim) and verifier.supports([claim], [citation["quote"]], None,
                                                                   question or "")[0]}
        if judge is not None:
            check["judged_support"] = judge.judge_support(claim, citation["quote"], question) if claim else None
        checks.append(check)
    return checks


def claim_of(sentences: list[str], n: int, marker) -> str:
    """The answer sentence that carries marker ``[n]``, without markers. A marker that the sentence
    splitter cut off on its own (after a closing quotation mark: '...days." [1].') belongs to the
    sentence before it."""
    for i, sentence in enumerate(sentences):
        if f"[{n}]" in sentence:
            claim = marker.sub("", sentence).strip()
            if not re.search(r"\w", claim) and i > 0:
                claim = marker.sub("", sentences[i - 1]).strip()
            return claim if re.search(r"\w", claim) else ""
    return ""


def score_case(case: Case, answer: dict, evidence_texts: list[str], citation_checks: list[dict],
               judged_correct: bool | None = None, judged: bool = False) -> dict:
    """``judged``: a judge graded this run; ``judged_correct`` is its verdict on the answer (``None``:
    no verdict). Not-judged answers and citations are counted in ``judge_unjudged``."""
    ranked = [r["article_id"] for r in first_per_article(answer["retrieved"])]
    gold = set(case.gold_article_ids)
    scores: dict = {"refused": float(answer["refused"])}
    if gold:
        scores.update({"hit@1": hit_at(ranked, gold, 1), "hit@5": hit_at(ranked, gold, 5),
                       "hit@10": hit_at(ranked, gold, 10), "mrr@10": mrr_at(ranked, gold, 10),
                       "ndcg@10": ndcg_at(ranked, gold, 10)})
    if case.type in CHOICE_TYPES:
        choice = pick_choice(answer["answer"] if not answer["refused"] else "", evidence_texts, case.choices)
        scores["choice"] = choice
        refused_choice = normalize(choice).startswith("none of above")
        scores["refused"] = float(refused_choice)
        if case.gold_answers:
            scores["accuracy"] = float(normalize(choice) == normalize(case.gold_answers[0]))
    elif case.gold_answers:
        refused = answer["refused"]
        matches = contains_whole_words if case.matching == "whole-words" else contains_answer
        scores["accuracy"] = matches(answer["answer"], case.gold_answers) if not refused else 0.0
        scores["exact_match"] = exact_match(answer["answer"], case.gold_answers)
        scores["token_f1"] = round(token_f1(answer["answer"], case.gold_answers), 4) if not refused else 0.0
        if judged and (refused or judged_correct is not None):
            scores["judged_correct"] = 0.0 if refused else float(judged_correct)
        if case.choices:
            # multiple choice read off this same free answer (the question text is the same): the
            # realtimeqa-llm slice asks each question once and grades both ways
            choice = pick_choice(answer["answer"] if not refused else "", evidence_texts, case.choices)
            scores["choice_accuracy"] = float(normalize(choice) == normalize(case.gold_answers[0]))
    if case.type not in CHOICE_TYPES and case.type != "counterfactual":
        # CRAG's three outcomes: right (a gold answer given, or an unanswerable question refused), wrong (any
        # other answer), or a refusal of an answerable question, which counts neither
        if case.gold_answers:
            scores["right"] = scores["accuracy"]
            scores["wrong"] = float(not answer["refused"] and not scores["accuracy"])
        elif case.expect_refusal:
            scores["right"] = float(answer["refused"])
            scores["wrong"] = float(not answer["refused"])
    if gold and answer.get("evidence") is not None:
        scores["gold_in_evidence"] = float(bool(gold & set(answer["evidence"])))
    if gold:
        scores["gold_cited"] = float(any(c["article_id"] in gold for c in answer["citations"]))
    if case.newest_date and "right" in scores:
        # right, and citing a report as new as the newest of the value (any outlet's report of that day or later)
        scores["right_citing_newest"] = float(bool(scores["right"]) and any(
            (c.get("published_at") or "")[:10] >= case.newest_date for c in answer["citations"]))
    if case.fake_answers:
        text = answer["answer"]
        scores["repeats_fake"] = float(contains_answer(text, case.fake_answers) and not answer["refused"])
        scores["flags_conflict"] = float("disagree" in text.lower() or len({c["article_id"] for c in answer["citations"]}) > 1)
    if answer["citations"]:
        n = len(citation_checks)
        scores["citation_verbatim"] = sum(c["verbatim"] for c in citation_checks) / n
        scores["citation_self_support"] = sum(c["self_support"] for c in citation_checks) / n
        verdicts = [c["judged_support"] for c in citation_checks if c.get("judged_support") is not None]
        if verdicts:
            scores["citation_judged_support"] = sum(verdicts) / len(verdicts)
        if gold:
            scores["citation_precision"] = sum(c["article_id"] in gold for c in answer["citations"]) / len(answer["citations"])
    unjudged = sum(1 for c in citation_checks if "judged_support" in c and c["judged_support"] is None)
    unjudged += int(judged and judges_correctness(case) and not answer["refused"] and judged_correct is None)
    if unjudged:
        scores["judge_unjudged"] = unjudged
    return scores
