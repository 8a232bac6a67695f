from evals.metrics import contains_answer, exact_match, hit_at, mrr_at, ndcg_at, normalize, percentile


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
