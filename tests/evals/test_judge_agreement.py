"""The judge-agreement figures (accuracy, Cohen's kappa, confusion) and the hand-label files."""

import math

import pytest

from evals.judge_agreement import ANSWER_LABELS, CITATION_LABELS, agreement, cohen_kappa, load_labels


def test_kappa_on_a_hand_case():
    # 10 items: labels 6 yes / 4 no; the judge agrees on 8 (5 yes-yes, 3 no-no), says yes to 6
    labels = [True] * 6 + [False] * 4
    verdicts = [True] * 5 + [False] + [True] + [False] * 3
    # observed 0.8; chance 0.6*0.6 + 0.4*0.4 = 0.52; kappa = 0.28 / 0.48
    assert cohen_kappa(labels, verdicts) == pytest.approx(0.28 / 0.48)
    assert cohen_kappa(labels, labels) == 1.0
    # always the opposite: observed 0; chance 0.6*0.4 + 0.4*0.6 = 0.48; kappa = -0.48 / 0.52
    assert cohen_kappa(labels, [not v for v in labels]) == pytest.approx(-0.48 / 0.52)
    assert cohen_kappa([True] * 4, [True] * 4) == 1.0 and cohen_kappa([True, True], [True, False]) == 0.0
    assert math.isnan(cohen_kappa([], []))


def test_agreement_counts_unjudged_items_as_disagreements():
    labels = [True, True, False, False, True]
    verdicts = [True, False, False, None, None]
    result = agreement(labels, verdicts)
    assert result["items"] == 5 and result["judged"] == 3 and result["unjudged"] == 2
    assert result["accuracy"] == 0.4 and result["accuracy_judged"] == round(2 / 3, 4)
    assert result["confusion"] == {"judge_yes_label_yes": 1, "judge_yes_label_no": 0, "judge_no_label_yes": 1,
                                   "judge_no_label_no": 1, "unjudged_label_yes": 1, "unjudged_label_no": 1}
    assert result["kappa"] == round(cohen_kappa([True, True, False], [True, False, False]), 4)


@pytest.mark.parametrize("path,fields", [(ANSWER_LABELS, {"question", "gold_answers", "answer"}),
                                         (CITATION_LABELS, {"sentence", "quote"})])
def test_label_files_are_big_enough_and_balanced(path, fields):
    rows = load_labels(path)
    assert len(rows) >= 40 and len({r["id"] for r in rows}) == len(rows)
    for row in rows:
        assert fields | {"id", "label", "reason", "origin"} <= set(row), row["id"]
        assert isinstance(row["label"], bool) and row["reason"].strip()
    share = sum(r["label"] for r in rows) / len(rows)
    assert 0.35 <= share <= 0.65, share  # roughly balanced: a judge that always says yes cannot score well
