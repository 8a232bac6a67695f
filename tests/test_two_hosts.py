"""Two hosts on one shared index: two homes (as two machines have) share one PostgreSQL catalog and one Chroma
server. An article indexed on the writer's host is answered, cited, on the other; a change and a deletion
follow there. (The writer's lock across hosts: tests/index/test_postgres_catalog.py.)"""

from __future__ import annotations

import shutil

import pytest

from index.sync import Indexer
from rag.engine import NewsDesk
from settings import Settings

pytestmark = pytest.mark.server

QUESTION = "How many US troops are stationed in South Korea?"


@pytest.fixture
def hosts(tmp_path, postgres_server, chroma_server):
    """(writer's settings, reader's settings): separate homes, one catalog URL, one Chroma server, one collection."""
    shared = dict(catalog_url=postgres_server.url, chroma_host="127.0.0.1", chroma_port=chroma_server.port,
                  collection=f"two-hosts-{tmp_path.name}"[:60])
    return (Settings(_env_file=None, home=tmp_path / "writer-host", **shared),
            Settings(_env_file=None, home=tmp_path / "reader-host", **shared))


def test_an_article_indexed_on_one_host_is_answered_on_another(hosts, tmp_path, seed_file, embedder):
    writer_settings, reader_settings = hosts
    folder = tmp_path / "articles"
    folder.mkdir()
    article = folder / seed_file.name
    shutil.copy(seed_file, article)
    writer = Indexer(writer_settings, embedder=embedder)
    try:
        assert writer.sync([folder]).added == 1
        desk = NewsDesk(reader_settings, embedder=embedder)  # the other host: nothing of the writer's home
        try:
            answer = desk.ask(QUESTION, mode="extractive")
            assert "28,500" in answer.answer and not answer.refused
            assert answer.citations and all("28,500" in c.quote for c in answer.citations)

            article.write_text(article.read_text().replace("28,500", "31,400"))
            assert writer.sync([folder]).updated == 1
            desk.refresh(wait=True)
            changed = desk.ask(QUESTION, mode="extractive")
            assert "31,400" in changed.answer and "28,500" not in changed.answer

            article.unlink()
            assert writer.sync([folder]).removed == 1
            desk.refresh(wait=True)
            assert desk.ask(QUESTION, mode="extractive").refused
        finally:
            desk.close()
    finally:
        writer.close()
