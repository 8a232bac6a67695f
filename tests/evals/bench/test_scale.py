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


@pytest.mark.slow  # builds 80 generated articles, copies them to PostgreSQL and queries both: ~30 s
def test_measure_one_on_postgres_beside_sqlite(tmp_path, postgres_server, chroma_server, monkeypatch):
    from index.catalog import open_catalog
    from settings import Settings

    monkeypatch.setenv("NEWSDESK_CATALOG_URL", postgres_server.url)
    monkeypatch.setenv("NEWSDESK_CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("NEWSDESK_CHROMA_PORT", str(chroma_server.port))
    figures = measure_one(80, tmp_path, questions=6)
    assert figures["articles"] == 80 and "schema newsdesk_scale_80_" in figures["postgres"]["catalog"]
    postgres = figures["postgres"]
    assert postgres["copied_chunks"] == postgres["queries_on_chunks"] == figures["chunks"]
    for side in (figures, postgres):
        for name in ("bm25", "retrieve", "retrieve_as_of", "answer"):
            assert side[f"{name}_p95_ms"] >= side[f"{name}_p50_ms"] > 0
        assert len(side["queries_loadavg"]) == 2
    collection = postgres["store"].split("(collection ")[1].rstrip(")")
    catalog = open_catalog(Settings(_env_file=None, home=tmp_path / "pg", collection=collection), read_only=True)
    assert catalog.count_articles() == 0  # not kept: emptied after the run
    catalog.close()


def test_queries_only_needs_an_index(tmp_path):
    import pytest

    with pytest.raises(SystemExit, match="no index"):
        measure_one(300, tmp_path, build=False)
