"""The scale benchmark's generator and measurement run (on a small size; the real sizes print figures)."""

import gzip
import json

import numpy as np
import pytest

from evals.bench.scale import HashingEmbedder, generate_corpus, measure_one


@pytest.mark.slow  # reads the sentences of the gold corpus: ~2.5 s
def test_generated_articles_are_new_but_made_of_real_sentences(tmp_path, gold_file):
    path = generate_corpus(tmp_path / "c.jsonl.gz", 50)
    rows = [json.loads(line) for line in gzip.open(path, "rt")]
    assert len(rows) == 50 and len({r["url"] for r in rows}) == 50
    assert len({r["source"] for r in rows}) > 3 and all(r["published_at"] and len(r["text"]) > 500 for r in rows)


def test_hashing_standin_embedder_is_deterministic_and_lexical():
    embedder = HashingEmbedder()
    a, b, c = embedder.embed(["harbour bridge toll", "the harbour bridge toll rises", "election results in Ohio"])
    assert np.isclose(np.linalg.norm(a), 1.0) and a @ b > a @ c
    assert np.allclose(embedder.embed(["harbour bridge toll"])[0], a)


@pytest.mark.slow  # builds and queries an index of 300 generated articles: ~35 s on 2 busy cores
def test_measure_one_small(tmp_path):
    figures = measure_one(300, tmp_path)
    assert figures["articles"] == 300 and figures["chunks"] > 300 and figures["embedder"] == "hashing-standin-384"
    assert figures["retrieve_p95_ms"] >= figures["retrieve_p50_ms"] > 0 and figures["peak_rss_mb"] > 0
    assert figures["retrieve_as_of_p95_ms"] >= figures["retrieve_as_of_p50_ms"] > 0
    again = measure_one(300, tmp_path, build=False)  # the kept index, queries only
    assert "index_seconds" not in again and again["queries_on_chunks"] == figures["chunks"]


def test_queries_only_needs_an_index(tmp_path):
    import pytest

    with pytest.raises(SystemExit, match="no index"):
        measure_one(300, tmp_path, build=False)
