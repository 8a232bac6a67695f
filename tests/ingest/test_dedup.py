"""Wire copies and versions (ingest/dedup.py): clusters of near-duplicate articles in the catalog, in SQLite and
in PostgreSQL (``any_catalog``, ``store_settings``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.dedup import WireClusters, normalized_words, shingles, titles_agree, title_terms
from ingest.loaders import ArticleLoader
from index.types import Article
from settings import Settings
from tests.index.wire_set import AP_STORY, write_wire_set

BOILERPLATE = ("We will use the details you have shared to manage your registration. You agree to the processing, "
               "storage, sharing and use of this information for the purpose of managing your registration as "
               "described in our Privacy Policy. Would you like to receive The WeekDay newsletter?")


def load(files: dict[str, Path]) -> dict[str, Article]:
    loader = ArticleLoader()
    articles = {}
    for name, file in files.items():
        result = loader.load(file, file.name)
        assert not result.skipped, result.skipped
        articles[name] = result.articles[0]
    return articles


@pytest.fixture
def wire(tmp_path, any_catalog):
    articles = load(write_wire_set(tmp_path / "articles"))
    clusters = WireClusters(any_catalog, Settings(_env_file=None).ingest)
    return clusters, articles


def test_copies_of_one_story_share_a_cluster_and_a_story_on_the_same_topic_stays_apart(wire):
    clusters, articles = wire
    assert clusters.assign(articles.values()) == 6
    by_id = clusters.cluster_of(a.id for a in articles.values())
    copies = {by_id[articles[n].id] for n in ("ap", "azcentral", "kjzz", "usatoday", "ap_copy")}
    assert copies == {articles["ap"].id}  # one cluster, named after the article matched first
    assert by_id[articles["followup"].id] == articles["followup"].id
    assert clusters.members(articles["ap"].id) == [articles[n].id for n in ("ap", "azcentral", "kjzz", "usatoday",
                                                                             "ap_copy")]
    assert clusters.members(articles["followup"].id) == [articles["followup"].id]
    assert clusters.exact_copies(articles["ap"].id) == [articles["ap_copy"].id]
    assert clusters.counts() == {"clusters": 1, "articles_in_clusters": 5, "duplicates": 4}
    assert clusters.assign(articles.values()) == 0  # unchanged articles are not matched again


def test_a_removed_representative_hands_over_and_a_changed_article_leaves(wire):
    clusters, articles = wire
    clusters.assign(articles.values())
    assert clusters.forget([articles["ap"].id]) == 1
    rest = [articles[n].id for n in ("azcentral", "kjzz", "usatoday", "ap_copy")]
    assert set(clusters.cluster_of(rest).values()) == {articles["azcentral"].id}
    assert clusters.members(articles["azcentral"].id) == rest
    assert clusters.cluster_of([articles["ap"].id]) == {}

    rewritten = Article(articles["kjzz"].id, text=AP_STORY[:200] + " " + " ".join(f"word{i}" for i in range(400)),
                        path=articles["kjzz"].path, title="Something else", url=articles["kjzz"].url)
    clusters.assign([rewritten])
    assert clusters.cluster_of([rewritten.id]) == {rewritten.id: rewritten.id}
    assert clusters.members(articles["azcentral"].id) == [articles[n].id for n in ("azcentral", "usatoday", "ap_copy")]


def test_forgetting_the_member_that_bridged_two_groups_splits_them(any_catalog):
    config = Settings(_env_file=None, wire_threshold=0.4).ingest
    clusters = WireClusters(any_catalog, config)
    words = [f"w{i}" for i in range(900)]
    # a and b, b and c share 2/3 of their words (Jaccard about 0.5), a and c 1/3 (0.2): only b links them
    a, b, c = words[:450], words[150:600], words[300:750]
    docs = [Article(name, " ".join(text), "", title=name) for name, text in (("a", a), ("b", b), ("c", c))]
    clusters.assign(docs)
    assert set(clusters.cluster_of(["a", "b", "c"]).values()) == {"a"}
    clusters.forget(["b"])
    assert clusters.cluster_of(["a", "c"]) == {"a": "a", "c": "c"}


def test_short_identical_boilerplate_folds_only_under_agreeing_headlines(any_catalog):
    clusters = WireClusters(any_catalog, Settings(_env_file=None).ingest)
    docs = [Article("kenya", BOILERPLATE, "", title="What President Ruto's win means for Kenya | The Week UK"),
            Article("ukraine", BOILERPLATE, "", title="Will Ukraine join the EU? | The Week UK"),
            Article("rents-1", BOILERPLATE, "", title="US rents hit a record high for the 17th month in a row - CNN"),
            Article("rents-2", BOILERPLATE, "", url="https://www.cnn.com/2022/08/24/homes/us-rents-hit-record-high")]
    clusters.assign(docs)
    found = clusters.cluster_of(d.id for d in docs)
    assert found["kenya"] == "kenya" and found["ukraine"] == "ukraine"
    assert found["rents-2"] == found["rents-1"] == "rents-1"  # the URL's slug stands in for a missing title


def test_settle_follows_the_catalog_and_changed_parameters_start_over(tmp_path, any_catalog):
    articles = load(write_wire_set(tmp_path / "articles"))
    catalog = any_catalog
    with catalog.transaction():
        for article in articles.values():
            catalog.put_article(article, str(tmp_path), [], {})
    settings = Settings(_env_file=None)
    assert WireClusters(catalog, settings.ingest).settle() == 6
    assert WireClusters(catalog, settings.ingest).settle() == 0
    with catalog.transaction():
        catalog.delete_article(articles["ap"].id)
    clusters = WireClusters(catalog, settings.ingest)
    assert clusters.settle() == 1
    assert clusters.cluster_of([articles["kjzz"].id]) == {articles["kjzz"].id: articles["azcentral"].id}

    stricter = WireClusters(catalog, settings.updated(wire_threshold=0.9).ingest)
    assert stricter.cluster_of([articles["kjzz"].id]) == {}  # other parameters: signatures made again
    assert stricter.settle() == 5
    assert stricter.cluster_of([articles["followup"].id]) == {articles["followup"].id: articles["followup"].id}
    assert stricter.cluster_of([articles["ap_copy"].id]) == {articles["ap_copy"].id: articles["azcentral"].id}


def test_normalization_ignores_case_punctuation_and_quote_styles():
    assert normalized_words("“The pandemic is over,” Biden said — it’s") == \
        normalized_words('"THE PANDEMIC is over," Biden said -- it\'s')
    assert shingles(["a", "b"], 5) == {"a b"} and len(shingles(list("abcdefg"), 5)) == 3
    assert titles_agree(title_terms("Medal of Freedom: Biden honors 17 people - CNNPolitics"),
                        title_terms("Medal of Freedom: Biden to honor 17 people | CNN Politics"), 0.6)
    assert not titles_agree(title_terms("Next Labour leader: who would replace Keir Starmer?"),
                            title_terms("Next Tory leader odds and polls: who will replace Boris Johnson?"), 0.6)


@pytest.mark.slow
@pytest.mark.parametrize("store_settings", ["embedded", "postgres"], indirect=True)  # the catalog is what matters
def test_an_exact_copy_under_another_url_is_indexed_once_and_takes_over_when_its_twin_goes(tmp_path, embedder,
                                                                                          store_settings):
    """index.sync's hooks (ingest/dedup_hooks.py): the copy is kept without chunks (not embedded again),
    and gets them once the article whose text it shares is removed."""
    from index.sync import Indexer

    files = write_wire_set(tmp_path / "articles")
    articles = load(files)
    ap, copy = articles["ap"].id, articles["ap_copy"].id
    settings = store_settings
    indexer = Indexer(settings, embedder=embedder)
    try:
        report = indexer.sync([tmp_path / "articles"])
        assert report.added == 6 and not report.skipped
        assert indexer.catalog.get_article(ap).n_chunks > 0 and indexer.catalog.get_article(copy).n_chunks == 0
        assert indexer.catalog.chunk_ids_of(copy) == []
        assert not indexer.verify()["missing_in_store"] and not indexer.verify()["stale_in_store"]
        clusters = WireClusters(indexer.catalog, settings.ingest)
        assert clusters.cluster_of([copy]) == {copy: ap} and clusters.exact_copies(ap) == [copy]
        again = indexer.sync([tmp_path / "articles"])
        assert (again.added, again.updated, again.unchanged, again.chunks_embedded) == (0, 0, 6, 0)

        files["ap"].unlink()
        indexer.sync([tmp_path / "articles"])
        assert indexer.catalog.get_article(ap) is None
        assert indexer.catalog.get_article(copy).n_chunks > 0  # the copy is now the indexed one
        assert clusters.cluster_of([copy])[copy] == clusters.cluster_of([articles["kjzz"].id])[articles["kjzz"].id]
        assert indexer.sync([tmp_path / "articles"]).unchanged == 5
        assert not indexer.verify()["stale_in_store"]
    finally:
        indexer.close()
