"""Retrieval and answer metrics, on hand-made rankings and answers."""

import pytest

from evals.metrics import amounts, choice_match, contains_answer, exact_match, hit_at, mrr_at, ndcg_at, normalize, percentile


def test_ranking_metrics():
    ranked = ["a", "b", "c", "d"]
    assert hit_at(ranked, {"c"}, 2) == 0.0 and hit_at(ranked, {"c"}, 3) == 1.0
    assert mrr_at(ranked, {"c"}) == 1 / 3 and mrr_at(ranked, {"z"}) == 0.0
    assert ndcg_at(ranked, {"a"}) == 1.0 and 0 < ndcg_at(ranked, {"b"}) < 1


def test_answer_matching():
    assert normalize("“Squid Game”") == "squid game"
    assert contains_answer("Netflix renewed Squid Game [1].", ["“Squid Game”"]) == 1.0
    assert contains_answer("Netflix renewed it.", ["“Squid Game”"]) == 0.0
    assert contains_answer("about $4.87 a gallon", ["$4.87"]) == 1.0
    assert exact_match("The Tony Awards", ["Tony Awards"]) == 1.0


def test_percentile():
    assert percentile([1, 2, 3, 4], 0.5) == 2.5 and percentile([5], 0.95) == 5


def test_token_f1_accepts_paraphrase_and_penalises_padding():
    from evals.metrics import token_f1

    gold = ["Finland and Sweden"]
    assert token_f1("Sweden and Finland [1].", gold) == 1.0  # the order of the words is free
    assert token_f1("Finland and Sweden.", gold) == 1.0
    padded = ("NATO leaders said on Tuesday that Finland and Sweden would be invited to join the alliance "
              "at the summit in Madrid [1].")
    assert contains_answer(padded, gold) == 1.0  # containment cannot tell padding from the answer
    assert 0.1 < token_f1(padded, gold) < 0.5 < token_f1("Finland and Sweden joined", gold)
    assert token_f1("Only Finland [2].", gold) == pytest.approx(0.4)  # P 1/2, R 1/3
    assert token_f1("Nobody.", gold) == 0.0 and token_f1("", gold) == 0.0


def test_markers_and_a_leading_yes_are_not_scored():
    from evals.metrics import token_f1

    assert token_f1("Yes. Squid Game [1] [2].", ["“Squid Game”"]) == 1.0
    assert token_f1("1 2 3", ["1"]) < 1.0 and contains_answer("Four people were hurt [1].", ["1"]) == 0.0
    assert token_f1("Yes [1].", ["Yes"]) == 1.0 and exact_match("No.", ["no"]) == 1.0  # a yes/no gold keeps it
    assert token_f1("Ohio [3].", ["Texas", "Ohio"]) == 1.0  # the best gold counts


def test_amounts_and_choice_match():
    assert amounts("$12.6 million and 1,600 titles, 9%") == [12_600_000.0, 1600.0, 9.0]
    choices = ["Tampa Bay Lightning", "Colorado Avalanche", "Boston Bruins"]
    assert choice_match("The Lightning won [1].", "Tampa Bay Lightning", choices) == 1 / 3
    assert choice_match("The Avalanche won the Stanley Cup.", "Colorado Avalanche", choices) == 0.5
    assert choice_match("Colorado Avalanche", "Colorado Avalanche", choices) == 1.0
    assert choice_match("It rose by a million.", "$1 million", ["$1 million", "$2 million"]) == 0.0
    # a choice with a number in it is no amount: "The 2012 Sandy Hook massacre" is matched by its words
    topics = ["The 2012 Sandy Hook massacre", "The 2020 election"]
    assert choice_match("The lawsuits are related to Sandy Hook [1].", topics[0], topics) == 0.5


def test_archive_qa_matches_gold_strings_as_whole_words():
    from evals.metrics import contains_whole_words

    assert contains_whole_words("No. Federer announced it later [1].", ["no"])
    assert not contains_whole_words("It is not known, said the November report.", ["no"])  # "no" inside words
    assert contains_whole_words("It weighed 2,560 pounds [1].", ["2560"])  # commas removed from both
    assert not contains_whole_words("It weighed 25,600 pounds.", ["2560"])
    assert not contains_whole_words("The magnitude was 7.04.", ["7.0"])  # a number glued to more digits
    assert contains_whole_words("The rate rose to −0.25% [2].", ["-0.25"])  # one kind of minus
    assert contains_whole_words("An annual tag costs $40.", ["$40"])
    assert not contains_whole_words("An annual tag costs $400.", ["$40"])
    assert contains_whole_words("Head of the Meadow Beach was shut.", ["head of the meadow"])
