"""The suite files: each one validates, each case set is what it says, a bad file is one clear error."""

import pytest

import evals.suite
from errors import BadInput
from evals.datasets import indexed_gold_texts
from evals.suite import cases_for, list_suites, load_suite
from index.types import article_id_for


def test_suites_are_declared():
    assert {"seed", "realtimeqa", "realtimeqa-gold", "rgb-counterfactual", "reindex"} <= set(list_suites())
    realtimeqa = cases_for(load_suite("realtimeqa"))
    types = {c.type for c in realtimeqa}
    assert types == {"open", "multiple-choice", "nota", "unanswerable"}
    assert sum(c.type == "open" for c in realtimeqa) == 206
    assert all(c.as_of and c.gold_article_ids for c in realtimeqa if c.type == "open")
    rgb = cases_for(load_suite("rgb-counterfactual"))
    assert len(rgb) == 100 and all(c.fake_answers for c in rgb)
    # 28 rows give a list of spellings instead of a string (a crash of the scoring before)
    assert all(c.gold_answers and all(isinstance(g, str) for g in c.gold_answers) for c in rgb)
    assert "Jul 21, 2017" in next(c for c in rgb if c.id == "rgb-15").gold_answers
    with pytest.raises(BadInput, match="no suite"):
        load_suite("nope")


def test_llm_slice_is_fixed_and_large_enough():
    suite = load_suite("realtimeqa-llm")
    cases = cases_for(suite)
    opens = [c for c in cases if c.type == "open"]
    assert len(opens) >= 100 and sum(c.type == "unanswerable" for c in cases) == 30
    assert [c.id for c in opens] == sorted(suite.question_ids) and len(set(suite.question_ids)) == len(opens)
    assert all(c.gold_answers and c.gold_article_ids for c in opens)
    # every question is answerable from the indexed corpus: a gold article there holds a text, not the
    # ad survey 10 video pages keep (8 questions drawn first were replaced for it)
    holds = {article_id_for(url, ""): has for url, has in indexed_gold_texts().items()}
    assert all(any(holds.get(a) for a in c.gold_article_ids) for c in opens)
    lacking = [c.id for c in cases_for(load_suite("realtimeqa")) if c.type == "open"
               and not any(holds.get(a) for a in c.gold_article_ids)]
    assert len(lacking) == 10 and "20221014_2" in lacking  # "A volcano erupted on which European island?"
    assert suite.corpus == load_suite("realtimeqa-gold").corpus  # the gold corpus: indexing stays short
    suite.question_ids = suite.question_ids + ["20990101_0"]
    with pytest.raises(BadInput, match="unknown question ids 20990101_0"):
        cases_for(suite)


def _write(folder, name: str, text: str) -> None:
    (folder / f"{name}.toml").write_text(text, encoding="utf-8")


def test_every_suite_file_validates_and_is_named_after_its_file():
    assert all(load_suite(name).name == name for name in list_suites())


def test_a_bad_suite_file_is_one_sentence_naming_the_field(tmp_path, monkeypatch):
    monkeypatch.setattr(evals.suite, "SUITES", tmp_path)
    head = 'description = "d"\ncorpus = ["seed/000_0854de60a5b65581.txt"]\n'
    _write(tmp_path, "typo", 'name = "typo"\n' + head + 'questions = "seed"\nvariant = ["open"]\n')
    _write(tmp_path, "questions", 'name = "questions"\n' + head + 'questions = "seeds"\n')
    _write(tmp_path, "corpus", 'name = "corpus"\ndescription = "d"\ncorpus = "somewhere"\nquestions = "seed"\n')
    _write(tmp_path, "threshold", 'name = "threshold"\n' + head + 'questions = "seed"\n[thresholds]\n'
                                  '"answers.accuracy" = "high"\n')
    _write(tmp_path, "renamed", 'name = "other"\n' + head + 'questions = "seed"\n')
    _write(tmp_path, "broken", 'name = "broken\n')
    expected = {"typo": r"typo\.toml is invalid: variant: Extra inputs are not permitted\.$",
                "questions": r"is invalid: questions: Input should be 'seed', 'realtimeqa', 'rgb', 'reindex', 'archive-qa', 'archive-dev' or 'stories-latest'\.$",
                "corpus": r"is invalid: corpus: give a list of files under the datasets folder, or 'reindex' or 'rgb'\.$",
                "threshold": r"is invalid: thresholds\.answers\.accuracy: Input should be a valid number",
                "renamed": r"names itself 'other': its name must be its file name, 'renamed'\.$",
                "broken": r"broken\.toml is not valid TOML"}
    for name, message in expected.items():
        with pytest.raises(BadInput, match=message):
            load_suite(name)
    _write(tmp_path, "good", 'name = "good"\n' + head + 'questions = "seed"\n')
    suite = load_suite("good")
    assert suite.variants == ["open"] and suite.mode is None and suite.thresholds == {} and suite.question_ids is None


def test_the_rgb_corpus_does_not_say_which_passages_are_falsified(tmp_path):
    """An answerer reads outlets and titles: neither may tell the true passages from the falsified ones."""
    import gzip
    import json

    from evals.suite import _rgb_rows, write_rgb_corpus

    records = [json.loads(line) for line in gzip.open(write_rgb_corpus(tmp_path), "rt", encoding="utf-8")]
    assert not any(word in (r["url"] + r["source"] + r["title"]).lower() for r in records for word in ("true", "fals"))
    rows = {str(row["id"]): row for row in _rgb_rows()}
    outlets: dict[str, dict[str, set[str]]] = {}
    for r in records:
        row = rows[r["url"].split("/")[-2]]
        true, falsified = r["text"] in row["positive"], r["text"] in row["positive_wrong"]
        kind = "both" if true and falsified else "true" if true else "falsified" if falsified else "other"
        outlets.setdefault(str(row["id"]), {}).setdefault(kind, set()).add(r["source"])
    assert all(len(o["true"]) == 1 and o["true"] != o["falsified"] for o in outlets.values())
    true_a = sum(o["true"] == {"outlet-a.example"} for o in outlets.values())
    assert 30 < true_a < 70  # a coin per question, not one outlet for the truth


def test_archive_qa_cases_and_halves():
    """archive-qa is asked with no as-of date; its odd ids are the tuning half, its even ids the held-out one."""
    from evals.suite import split_of

    cases = cases_for(load_suite("archive-qa"))
    counts = {t: sum(c.type == t for c in cases) for t in ("single", "multi", "temporal", "null")}
    assert counts == {"single": 45, "multi": 15, "temporal": 15, "null": 25}
    assert all(c.as_of is None and c.matching == "whole-words" for c in cases)
    assert all(c.expect_refusal and not c.gold_article_ids for c in cases if c.type == "null")
    assert all(len(c.gold_article_ids) == 1 for c in cases if c.type == "temporal")  # the newest report only
    assert [split_of(c.id) for c in cases[:3]] == ["odd", "even", "odd"]
    assert sum(split_of(c.id) == "even" for c in cases) == 50


def test_archive_dev_is_a_tuning_set_in_archive_qa_s_style_from_other_articles():
    """archive-dev: archive-qa's format and grading, its own questions, and none of archive-qa's articles."""
    dev = cases_for(load_suite("archive-dev"))
    held = cases_for(load_suite("archive-qa"))
    counts = {t: sum(c.type == t for c in dev) for t in ("single", "multi", "temporal", "null")}
    assert counts == {"single": 36, "multi": 8, "temporal": 8, "null": 8}
    assert all(c.as_of is None and c.matching == "whole-words" for c in dev)
    assert all(c.expect_refusal and not c.gold_article_ids for c in dev if c.type == "null")
    assert not {a for c in dev for a in c.gold_article_ids} & {a for c in held for a in c.gold_article_ids}
    assert not {c.question for c in dev} & {c.question for c in held}


def test_stories_latest_cases_ask_each_story_s_newest_value_with_its_half():
    """stories-latest: latest-value questions over the labelled stories, asked with no date; the newest report
    and the story's reports of its day or later are gold; a case's half is its story's."""
    from evals.story_report import load_labels
    from evals.suite import split_of

    cases = cases_for(load_suite("stories-latest"))
    odd_stories = {s["id"] for s in load_labels("odd")[0]}
    assert len(cases) >= 15 and all(c.type == "temporal" and c.as_of is None and c.gold_answers for c in cases)
    assert all(c.newest_date and c.gold_article_ids and c.matching == "whole-words" for c in cases)
    assert all((split_of(c.id) == "odd") == (c.id[:3] in odd_stories) for c in cases)
