"""Scores of one answer: the judged fields, which sentence a citation marker belongs to, the choice read
off a free answer."""

from evals.scoring import claim_of, pick_choice, score_case
from evals.suite import Case
from rag.citations import MARKER
from rag.sentences import sentence_spans


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


def test_a_marker_cut_off_after_a_quotation_belongs_to_the_sentence_before():
    """Pins a bug: '...days." [1].' was split so that the claim checked for [1] was "." (always "supported")."""
    text = 'Kirby said China had "chosen to overreact." [1]. Pelosi met Tsai in Taipei on Aug. 3 [2].'
    assert claim_of(sentences(text), 1, MARKER) == 'Kirby said China had "chosen to overreact."'
    assert claim_of(sentences(text), 2, MARKER) == "Pelosi met Tsai in Taipei on Aug. 3."
    assert claim_of(sentences(text), 3, MARKER) == "" and claim_of(["[1]."], 1, MARKER) == ""


def answer(text: str, refused: bool = False, citations: int = 0) -> dict:
    cited = [{"n": i + 1, "article_id": "a1", "quote": "q", "start": 0, "end": 1} for i in range(citations)]
    return {"answer": text, "refused": refused, "citations": cited, "retrieved": [{"article_id": "a1"}]}


def test_judged_scores():
    case = Case("q1", "open", "Which two countries?", ["Finland and Sweden"], ["a1"])
    checks = [{"n": 1, "verbatim": True, "self_support": True, "judged_support": True},
              {"n": 2, "verbatim": True, "self_support": True, "judged_support": False},
              {"n": 3, "verbatim": False, "self_support": True, "judged_support": None}]
    scores = score_case(case, answer("Sweden and Finland [1] [2] [3].", citations=3), [], checks, True, judged=True)
    assert scores["judged_correct"] == 1.0 and scores["accuracy"] == 0.0 and scores["token_f1"] == 1.0
    assert scores["citation_judged_support"] == 0.5 and scores["judge_unjudged"] == 1  # share over judged ones
    assert scores["citation_verbatim"] == 2 / 3 and scores["citation_self_support"] == 1.0
    # no verdict on the answer: left out, counted; a refusal scores 0 without a verdict; no judge: no field
    assert "judged_correct" not in score_case(case, answer("Both."), [], [], None, judged=True)
    assert score_case(case, answer("Both."), [], [], None, judged=True)["judge_unjudged"] == 1
    refused = score_case(case, answer("No answer.", refused=True), [], [], None, judged=True)
    assert refused["judged_correct"] == 0.0 and refused["token_f1"] == 0.0 and "judge_unjudged" not in refused
    assert "judged_correct" not in score_case(case, answer("Sweden and Finland."), [], [])


def test_pick_choice():
    choices = ["Europe", "North America", "None of the above"]
    assert pick_choice("European regulators: Europe will require USB-C [1].", [], choices) == "Europe"
    assert pick_choice("", ["Lawmakers in North America debated."], choices) == "North America"
    assert pick_choice("", ["Nothing relevant."], choices) == "None of the above"


def test_an_open_question_with_choices_is_also_graded_as_multiple_choice():
    """The realtimeqa-llm slice asks each question once; the multiple-choice grade is read off the same answer."""
    choices = ["Sweden and Finland", "Norway and Denmark", "Austria and Ireland", "None of the above"]
    case = Case("q1", "open", "Which two countries applied?", ["Sweden and Finland"], ["a1"], choices=choices)
    assert score_case(case, answer("Sweden and Finland applied [1]."), [], [])["choice_accuracy"] == 1.0
    assert score_case(case, answer("Norway and Denmark applied [1]."), [], [])["choice_accuracy"] == 0.0
    # a refusal picks from the evidence alone, as the multiple-choice variant does
    refused = answer("No answer.", refused=True)
    assert score_case(case, refused, ["Sweden and Finland applied to join NATO."], [])["choice_accuracy"] == 1.0
    assert score_case(case, refused, ["Nothing relevant."], [])["choice_accuracy"] == 0.0
    assert "choice_accuracy" not in score_case(Case("q2", "open", "Who?", ["Kim"], ["a1"]), answer("Kim [1]."), [], [])
