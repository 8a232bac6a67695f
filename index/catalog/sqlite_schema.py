"""The catalog's tables in SQLite: every CREATE statement of the catalog file, and how a connection opens.

One file holds the index (meta, roots, articles, chunks with their vectors' copies, the FTS5 terms, the
journal), the wire-copy clusters (signatures, LSH bands, cluster ids) and the followed feeds. The index and
wire tables are made when a writer opens the catalog; the feeds table when a writer opens the feed table
(``sqlite_feeds``), which keeps a connection of its own.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterator

SCHEMA_VERSION = "1"

_INDEX = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS roots (path TEXT PRIMARY KEY, indexed_at TEXT);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, root TEXT NOT NULL, path TEXT NOT NULL, line INTEGER,
    url TEXT, title TEXT, source TEXT, published_at TEXT, published_ts INTEGER, authors TEXT,
    content_hash TEXT NOT NULL, text TEXT NOT NULL, n_chunks INTEGER NOT NULL, indexed_at TEXT NOT NULL,
    embedded_at TEXT, summary_only INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS articles_path ON articles(path);
DROP INDEX IF EXISTS articles_published;
CREATE INDEX IF NOT EXISTS articles_window ON articles(published_ts, source, n_chunks, id);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, article_id TEXT NOT NULL,
    position INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL, text TEXT NOT NULL,
    embedding BLOB
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    title, text, tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS journal (id INTEGER PRIMARY KEY, chroma_ids TEXT NOT NULL);
"""

# wire copies (``ingest.dedup``): a signature per article, its LSH band keys, and its cluster
_WIRE = """
CREATE TABLE IF NOT EXISTS wire_signatures (
    article_id TEXT PRIMARY KEY, content_hash TEXT NOT NULL, text_hash TEXT NOT NULL, words INTEGER NOT NULL,
    title_terms TEXT NOT NULL, signature BLOB NOT NULL, seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS wire_signatures_text ON wire_signatures(text_hash);
CREATE TABLE IF NOT EXISTS wire_bands (
    band INTEGER NOT NULL, key INTEGER NOT NULL, article_id TEXT NOT NULL, PRIMARY KEY (band, key, article_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS wire_bands_article ON wire_bands(article_id);
CREATE TABLE IF NOT EXISTS wire_clusters (article_id TEXT PRIMARY KEY, cluster_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS wire_clusters_cluster ON wire_clusters(cluster_id);
"""
WIRE_TABLES = ("wire_signatures", "wire_bands", "wire_clusters")

# stories (``stories``): each article's features, the links between articles of one story, the stories
_STORIES = """
CREATE TABLE IF NOT EXISTS story_features (
    article_id TEXT PRIMARY KEY, content_hash TEXT NOT NULL, day INTEGER, source TEXT, names TEXT NOT NULL,
    vector BLOB
);
CREATE INDEX IF NOT EXISTS story_features_day ON story_features(day);
CREATE TABLE IF NOT EXISTS story_edges (a TEXT NOT NULL, b TEXT NOT NULL, score REAL NOT NULL, PRIMARY KEY (a, b))
    WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS story_edges_b ON story_edges(b);
CREATE TABLE IF NOT EXISTS story_members (article_id TEXT PRIMARY KEY, story_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS story_members_story ON story_members(story_id);
CREATE TABLE IF NOT EXISTS stories (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, first_day INTEGER, last_day INTEGER, articles INTEGER NOT NULL,
    outlets TEXT NOT NULL, lead_article TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS stories_last ON stories(last_day);
"""
STORY_TABLES = ("story_features", "story_edges", "story_members", "stories")

# the feeds newsdesk follows (``ingest.feed_state``): not part of the index, ``Catalog.clear`` keeps them
_FEEDS = """
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, slug TEXT NOT NULL UNIQUE, added TEXT NOT NULL,
    last_poll TEXT, status TEXT NOT NULL DEFAULT 'new', last_error TEXT,
    new_items INTEGER NOT NULL DEFAULT 0, items INTEGER NOT NULL DEFAULT 0,
    etag TEXT, last_modified TEXT, next_poll REAL NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0
);
"""


def connect(path: Path, read_only: bool) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), usable from the thread it is handed to."""
    if read_only:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30, isolation_level=None,
                               check_same_thread=False)
    return sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)


def create_index_tables(db: sqlite3.Connection) -> None:
    """The index and wire tables, and the columns and indexes that older catalogs lack."""
    db.execute("PRAGMA journal_mode=WAL")  # readers open the file while a writer works
    db.executescript(_INDEX)
    db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
    columns = {r[1] for r in db.execute("PRAGMA table_info(chunks)")}
    if "embedding" not in columns:  # catalogs from before vectors were kept here too: filled once from Chroma
        db.execute("ALTER TABLE chunks ADD COLUMN embedding BLOB")
        db.execute("INSERT OR REPLACE INTO meta VALUES ('vectors_backfill', 'pending')")
    article_columns = {r[1] for r in db.execute("PRAGMA table_info(articles)")}
    if "summary_only" not in article_columns:  # catalogs from before feeds marked summaries
        db.execute("ALTER TABLE articles ADD COLUMN summary_only INTEGER NOT NULL DEFAULT 0")
    if "embedded_at" not in article_columns:
        # catalogs from before the embedding queue: every article there was embedded when indexed
        db.execute("ALTER TABLE articles ADD COLUMN embedded_at TEXT")
        db.execute("UPDATE articles SET embedded_at = indexed_at")
    db.execute("CREATE INDEX IF NOT EXISTS articles_arrival ON articles(indexed_at)")
    # readers score the vectors committed after their vector index was loaded (index.vectors)
    db.execute("CREATE INDEX IF NOT EXISTS articles_embedded ON articles(embedded_at)")
    # the embedding queue: chunks without a vector yet (a partial index: counting it costs its size)
    db.execute("CREATE INDEX IF NOT EXISTS chunks_pending ON chunks(article_id) WHERE embedding IS NULL")
    db.executescript(_WIRE)
    db.executescript(_STORIES)


def create_feed_table(db: sqlite3.Connection) -> None:
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(_FEEDS)


def has_table(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone() is not None


BATCH = 500  # ids per IN (...) list: under SQLite's variable limit


def rows_in(db: sqlite3.Connection, sql: str, ids: list, before: tuple = (), after: tuple = ()) -> Iterator[tuple]:
    """Rows of ``sql`` (its ``{}`` an IN list) for ``ids``, ``BATCH`` at a time; ``before`` and ``after`` are the
    parameters around the list's."""
    for start in range(0, len(ids), BATCH):
        part = ids[start:start + BATCH]
        yield from db.execute(sql.format(",".join("?" * len(part))), [*before, *part, *after])
