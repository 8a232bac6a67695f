"""Wire copies folded in the evidence (rag/wire.py): one article per story, the others "also reported by"."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from index.catalog import Catalog
from ingest.dedup import WireClusters
from ingest.loaders import ArticleLoader
from rag.types import Evidence
from rag.wire import fold_wire_copies, wire_pool
from settings import Settings
from tests.index.wire_set import write_wire_set


@pytest.fixture
def wire_catalog(tmp_path):
    """A catalog holding the crafted wire set (no chunks needed to fold), clusters settled."""
    files = write_wire_set(tmp_path / "articles")
    catalog = Catalog(tmp_path / "home" / "catalog.sqlite")
    articles = {}
    with catalog.transaction():
        for name, file in files.items():
            article = ArticleLoader().load(file, file.name).articles[0]
            catalog.put_article(article, str(tmp_path / "articles"), [], {})
            articles[name] = article
    settings = Settings(_env_file=None, home=tmp_path / "home")
    WireClusters(catalog, settings.ingest).settle()
    return catalog, articles, settings


def evidence(article, n: int = 0) -> Evidence:
    return Evidence(chunk_id=f"{article.id}-{n}", article_id=article.id, title=article.title, source=article.source,
                    url=article.url, published_at=article.published_at, text="", start=0, end=0, score=1.0)


def test_one_article_per_story_the_others_listed_and_k_refilled(wire_catalog):
    catalog, a, settings = wire_catalog
    ranked = [evidence(a["kjzz"]), evidence(a["ap"]), evidence(a["kjzz"], 1), evidence(a["usatoday"]),
              evidence(a["followup"]), evidence(a["ap_copy"]), evidence(a["followup"], 1)]
    folded = fold_wire_copies(ranked, catalog, settings.ingest, k=3)
    assert [(e.article_id, e.chunk_id) for e in folded] == [
        (a["kjzz"].id, f"{a['kjzz'].id}-0"), (a["kjzz"].id, f"{a['kjzz'].id}-1"), (a["followup"].id, f"{a['followup'].id}-0")]
    listed = folded[0].also_reported_by
    assert {r.article_id for r in listed} == {a[n].id for n in ("ap", "azcentral", "usatoday", "ap_copy")}
    assert {r.source for r in listed} == {"apnews.com", "azcentral.com", "usatoday.com"}
    assert {r.url for r in listed} >= {a["ap"].url, a["ap_copy"].url}  # the exact copy's second URL is kept
    assert folded[0].also_reported_by == folded[1].also_reported_by
    assert folded[2].also_reported_by == []  # the story on the same topic is its own


def test_members_published_after_the_as_of_date_are_not_listed(wire_catalog):
    catalog, a, settings = wire_catalog
    folded = fold_wire_copies([evidence(a["ap"])], catalog, settings.ingest, k=8,
                              until=datetime(2022, 6, 14, 23, 59, tzinfo=timezone.utc))
    assert a["usatoday"].id not in {r.article_id for r in folded[0].also_reported_by}  # published June 15
    assert a["kjzz"].id in {r.article_id for r in folded[0].also_reported_by}


def test_folding_off_or_an_index_without_clusters_leaves_the_ranking(wire_catalog, tmp_path):
    catalog, a, settings = wire_catalog
    ranked = [evidence(a["ap"]), evidence(a["kjzz"]), evidence(a["followup"])]
    off = settings.updated(wire_fold=False).ingest
    assert fold_wire_copies(ranked, catalog, off, k=2) == ranked[:2] and wire_pool(4, off) == 4
    old = Catalog(tmp_path / "old" / "catalog.sqlite")  # written before the wire tables existed
    reader = Catalog(old.path, read_only=True)
    assert fold_wire_copies(ranked, reader, settings.ingest, k=8) == ranked
    assert wire_pool(4, settings.ingest) == 8


@pytest.mark.slow
def test_indexed_copies_fold_in_the_answers_evidence(tmp_path, embedder):
    """End to end: ``newsdesk index`` clusters the set (index.sync's hook), the engine folds it."""
    from index.sync import Indexer
    from rag.engine import NewsDesk

    files = write_wire_set(tmp_path / "articles")
    settings = Settings(_env_file=None, home=tmp_path / "home", answer_mode="extractive")
    indexer = Indexer(settings, embedder=embedder)
    indexer.sync([tmp_path / "articles"])
    indexer.close()
    desk = NewsDesk(settings, embedder=embedder)
    try:
        answer = desk.ask("How many homes were evacuated near Flagstaff because of the wildfire?")
        stories = {e.article_id for e in answer.retrieved}
        copies = {ArticleLoader().load(files[n], files[n].name).articles[0].id
                  for n in ("ap", "azcentral", "kjzz", "usatoday", "ap_copy")}
        assert len(stories & copies) == 1  # one of the five copies, not five
        kept = next(e for e in answer.retrieved if e.article_id in copies)
        assert {r.article_id for r in kept.also_reported_by} == copies - {kept.article_id}
        cited = [c for c in answer.citations if c.article_id in copies]
        assert cited and len(cited[0].to_dict()["also_reported_by"]) == 4
    finally:
        desk.close()

    indexer = Indexer(settings, embedder=embedder)
    files["ap"].unlink()
    files["azcentral"].unlink()
    indexer.sync([tmp_path / "articles"])  # the representative goes: the cluster hands over
    clusters = WireClusters(indexer.catalog, settings.ingest)
    kjzz = ArticleLoader().load(files["kjzz"], files["kjzz"].name).articles[0].id
    assert len(clusters.members(clusters.cluster_of([kjzz])[kjzz])) == 3
    indexer.close()


def test_faces_list_other_outlets_once_and_the_same_outlets_other_urls():
    from cli.ask import also_reported_text
    from rag.types import AlsoReported, Citation
    from ui.render import also_reported_md

    also = [AlsoReported("1", "t", "kjzz.org", "https://kjzz.org/a", None),
            AlsoReported("2", "t", "kjzz.org", "https://kjzz.org/b", None),
            AlsoReported("3", "t", "apnews.com", "https://apnews.com/a?utm_source=feed", None),
            AlsoReported("4", "t", "[evil](javascript:alert(1))", "javascript:alert(1)", None)]
    citation = Citation(1, "0", "t", "apnews.com", "https://apnews.com/a", None, "q", also_reported_by=also)
    assert also_reported_text(citation) == ("also reported by: kjzz.org, [evil](javascript:alert(1)); "
                                            "also at: https://apnews.com/a?utm_source=feed")
    shown = also_reported_md(also, "apnews.com")
    assert shown.startswith("Also reported by [kjzz\\.org](https://kjzz.org/a), \\[evil\\]\\(javascript\\:alert\\(1\\)\\)")
    assert "](javascript" not in shown and shown.endswith("also at [apnews\\.com/a](https://apnews.com/a?utm_source=feed)")
    assert also_reported_md([], "apnews.com") is None
    assert Citation(1, "0", "t", None, None, None, "q").to_dict().keys() == {"n", "article_id", "title", "source", "url",
                                                                            "published_at", "quote"}
