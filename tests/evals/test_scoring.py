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


def test_a_choice_is_read_off_an_answer_that_words_it_otherwise():
    """The choice an answer states, though not verbatim: a name by its own words, an amount by its value."""
    heads = ["North Korean leader Kim Jong Un", "UK Prime Minister Boris Johnson", "Russian President Vladimir Putin"]
    assert pick_choice("Boris Johnson announced his resignation [1].", ["Kim Jong Un fired."], heads) == heads[1]
    amounts = ["$126,000", "$408,000", "$4.8 million", "$12.6 million"]
    assert pick_choice("The card sold for $12,600,000 [1].", [], amounts) == "$12.6 million"
    fines = ["$40,000", "$100,000", "$1 million", "$400 million"]
    assert pick_choice("Instagram was fined $405 million [1].", [], fines) == "$400 million"
    # an amount more than 5% off states no choice ("million" alone is no amount); the evidence decides
    assert pick_choice("It cost $233,610 [1].", ["It costs $1 million now."], ["$300,000", "$1 million"]) == "$1 million"
    # a word that two choices share states neither; a chunk naming one word of a choice does not state it
    states = ["North Dakota", "South Dakota", "Maryland", "None of the above"]
    assert pick_choice("South Dakota approved it [1].", ["Maryland voters approved it."], states) == "South Dakota"
    assert pick_choice("", ["Dakota voters met."], states) == "None of the above"
    # two choices in the answer: the evidence breaks the tie
    assert pick_choice("Maryland and South Dakota voted [1].", ["Maryland approved it."], states) == "Maryland"


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


def test_truthfulness_outcomes_right_wrong_and_refused():
    """CRAG's outcomes: a refusal of an answerable question is neither right nor wrong; any answer to an
    unanswerable one is wrong."""
    answerable = Case("a002", "single", "Which model?", ["bz4x"], ["a1"], matching="whole-words")
    right = score_case(answerable, answer("The bZ4X [1].", citations=1) | {"evidence": ["a1"]}, [], [{"n": 1, "verbatim": True, "self_support": True}])
    assert (right["right"], right["wrong"], right["gold_in_evidence"], right["gold_cited"]) == (1.0, 0.0, 1.0, 1.0)
    wrong = score_case(answerable, answer("The Solterra [1].", citations=1) | {"evidence": ["b2"]}, [], [{"n": 1, "verbatim": True, "self_support": True}])
    assert (wrong["right"], wrong["wrong"], wrong["gold_in_evidence"]) == (0.0, 1.0, 0.0)
    refused = score_case(answerable, answer("not in the articles", refused=True), [], [])
    assert (refused["right"], refused["wrong"]) == (0.0, 0.0)
    null = Case("a076", "null", "Who won the runoff?", expect_refusal=True)
    assert score_case(null, answer("x", refused=True), [], [])["right"] == 1.0
    assert score_case(null, answer("Warnock won [1].", citations=1), [], [{"n": 1, "verbatim": True, "self_support": True}])["wrong"] == 1.0


def test_a_latest_value_is_right_and_citing_the_newest_only_with_a_report_of_that_day_or_later():
    case = Case("s01a", "temporal", "What is the latest toll?", ["125"], ["a1"], matching="whole-words",
                newest_date="2022-10-05")
    checks = [{"n": 1, "verbatim": True, "self_support": True}]

    def dated(text: str, day: str) -> dict:
        record = answer(text, citations=1)
        record["citations"][0]["published_at"] = f"{day}T00:00:00+00:00"
        return record

    assert score_case(case, dated("125 [1].", "2022-10-05"), [], checks)["right_citing_newest"] == 1.0
    assert score_case(case, dated("125 [1].", "2022-11-01"), [], checks)["right_citing_newest"] == 1.0
    assert score_case(case, dated("125 [1].", "2022-10-04"), [], checks)["right_citing_newest"] == 0.0
    assert score_case(case, dated("109 [1].", "2022-10-05"), [], checks)["right_citing_newest"] == 0.0
    assert "right_citing_newest" not in score_case(Case("a1", "single", "q?", ["x"], ["a1"]), dated("x [1].", "2022-10-05"),
                                                   [], checks)
