"""The catalog's tables in PostgreSQL: every CREATE statement, run in the collection's own schema.

The tables mirror the SQLite file's (``sqlite_schema``) column for column, so the rows that come back are the
same plain values: ISO text for moments, epoch seconds as integers, float32 vectors as ``bytea``, authors and
title terms as JSON text. ``chunks.rowid`` is an identity column like SQLite's rowid: the keyword index keys
its terms on it. The search tables come from ``postgres_search.SEARCH_DDL``; the feeds table is made when a
writer opens the feed table, as on SQLite.

The schema's version is the meta key ``schema_version``. A writer that opens a schema of an older version runs
the migration steps after it (``MIGRATIONS``), in the same transaction and under the same advisory lock that
makes the tables, so writers on several hosts that open it at once migrate it once; a schema of a newer version
(a newer newsdesk wrote it) is refused, by readers too, rather than read or written wrongly.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from errors import NewsdeskError

# the steps from each version to the next: MIGRATIONS[0] takes a version 1 schema to 2, and so on; the version of a
# schema made now is one more than the number of steps. Version 1 is the first PostgreSQL schema: no step yet.
MIGRATIONS: list[list[str]] = []


def schema_version() -> int:
    """The version of the schema this newsdesk makes and reads."""
    return 1 + len(MIGRATIONS)

INDEX_DDL = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
    "CREATE TABLE IF NOT EXISTS roots (path TEXT PRIMARY KEY, indexed_at TEXT)",
    """CREATE TABLE IF NOT EXISTS articles (
        id TEXT PRIMARY KEY, root TEXT NOT NULL, path TEXT NOT NULL, line INTEGER,
        url TEXT, title TEXT, source TEXT, published_at TEXT, published_ts BIGINT, authors TEXT,
        content_hash TEXT NOT NULL, text TEXT NOT NULL, n_chunks INTEGER NOT NULL, indexed_at TEXT NOT NULL,
        embedded_at TEXT, summary_only INTEGER NOT NULL DEFAULT 0)""",
    "CREATE INDEX IF NOT EXISTS articles_path ON articles(path)",
    "CREATE INDEX IF NOT EXISTS articles_window ON articles(published_ts, source, n_chunks, id)",
    "CREATE INDEX IF NOT EXISTS articles_arrival ON articles(indexed_at)",
    "CREATE INDEX IF NOT EXISTS articles_embedded ON articles(embedded_at)",
    "CREATE INDEX IF NOT EXISTS articles_url ON articles(url)",
    # ``title``: the article's display title, which the embedding queue embeds with each chunk
    """CREATE TABLE IF NOT EXISTS chunks (
        rowid BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id TEXT NOT NULL UNIQUE, article_id TEXT NOT NULL,
        position INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL,
        title TEXT NOT NULL, embedding BYTEA)""",
    "CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id)",
    # the embedding queue: chunks without a vector yet, oldest first
    "CREATE INDEX IF NOT EXISTS chunks_pending ON chunks(rowid) WHERE embedding IS NULL",
    "CREATE TABLE IF NOT EXISTS journal (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, chroma_ids TEXT NOT NULL)",
]

# wire copies (``ingest.dedup``): a signature per article, its LSH band keys, and its cluster
WIRE_DDL = [
    """CREATE TABLE IF NOT EXISTS wire_signatures (
        article_id TEXT PRIMARY KEY, content_hash TEXT NOT NULL, text_hash TEXT NOT NULL, words INTEGER NOT NULL,
        title_terms TEXT NOT NULL, signature BYTEA NOT NULL, seq BIGINT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS wire_signatures_text ON wire_signatures(text_hash)",
    """CREATE TABLE IF NOT EXISTS wire_bands (
        band INTEGER NOT NULL, key BIGINT NOT NULL, article_id TEXT NOT NULL, PRIMARY KEY (band, key, article_id))""",
    "CREATE INDEX IF NOT EXISTS wire_bands_article ON wire_bands(article_id)",
    "CREATE TABLE IF NOT EXISTS wire_clusters (article_id TEXT PRIMARY KEY, cluster_id TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS wire_clusters_cluster ON wire_clusters(cluster_id)",
]
WIRE_TABLES = ("wire_signatures", "wire_bands", "wire_clusters")

# stories (``stories``): each article's features, the links between articles of one story, the stories
STORY_DDL = [
    """CREATE TABLE IF NOT EXISTS story_features (
        article_id TEXT PRIMARY KEY, content_hash TEXT NOT NULL, day INTEGER, source TEXT, names TEXT NOT NULL,
        vector BYTEA)""",
    "CREATE INDEX IF NOT EXISTS story_features_day ON story_features(day)",
    """CREATE TABLE IF NOT EXISTS story_edges (
        a TEXT NOT NULL, b TEXT NOT NULL, score DOUBLE PRECISION NOT NULL, PRIMARY KEY (a, b))""",
    "CREATE INDEX IF NOT EXISTS story_edges_b ON story_edges(b)",
    "CREATE TABLE IF NOT EXISTS story_members (article_id TEXT PRIMARY KEY, story_id TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS story_members_story ON story_members(story_id)",
    """CREATE TABLE IF NOT EXISTS stories (
        id TEXT PRIMARY KEY, title TEXT NOT NULL, first_day INTEGER, last_day INTEGER, articles INTEGER NOT NULL,
        outlets TEXT NOT NULL, lead_article TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS stories_last ON stories(last_day)",
]
STORY_TABLES = ("story_features", "story_edges", "story_members", "stories")

# the feeds newsdesk follows (``ingest.feed_state``): not part of the index, ``clear`` keeps them
FEEDS_DDL = [
    """CREATE TABLE IF NOT EXISTS feeds (
        url TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, slug TEXT NOT NULL UNIQUE, added TEXT NOT NULL,
        last_poll TEXT, status TEXT NOT NULL DEFAULT 'new', last_error TEXT,
        new_items INTEGER NOT NULL DEFAULT 0, items INTEGER NOT NULL DEFAULT 0,
        etag TEXT, last_modified TEXT, next_poll DOUBLE PRECISION NOT NULL DEFAULT 0,
        failures INTEGER NOT NULL DEFAULT 0)""",
]


def set_search_path(conn: psycopg.Connection, schema: str) -> None:
    """Every statement on ``conn`` names its tables bare: they resolve in the collection's schema."""
    conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))


def create_tables(conn: psycopg.Connection, schema: str, statements: list[str], where: str | None = None) -> None:
    """The schema (when missing) and ``statements`` in it, in one transaction. Writers on several hosts may open
    the same collection at once: an advisory lock on the schema's name lets one of them create it at a time.
    ``where`` (the catalog, for people): also check the schema's version and migrate it first (the module says how)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (schema,))
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        set_search_path(conn, schema)
        if where is not None:
            found = check_version(conn, where)
            for step in MIGRATIONS[found - 1 if found else len(MIGRATIONS):]:
                for statement in step:
                    conn.execute(statement)
        for statement in statements:
            conn.execute(statement)
        if where is not None:
            conn.execute("INSERT INTO meta VALUES ('schema_version', %s) ON CONFLICT (key) DO UPDATE "
                         "SET value = EXCLUDED.value", (str(schema_version()),))


def create_index_tables(conn: psycopg.Connection, schema: str, search_ddl: list[str], where: str) -> None:
    """The index, search, wire and story tables, migrated to this version first when older (``where``: the
    catalog). Tables new in a version without changes to older ones (the story tables) need no step: they
    are created when missing."""
    create_tables(conn, schema, [*INDEX_DDL, *search_ddl, *WIRE_DDL, *STORY_DDL], where)


def check_version(conn: psycopg.Connection, where: str) -> int | None:
    """The version of the schema on the connection's search path (None: no catalog there yet); a newer one than
    this newsdesk's is refused with ``NewsdeskError`` naming the catalog ``where``."""
    if not has_table(conn, "meta"):
        return None
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        return None
    found = int(row[0])
    if found > schema_version():
        raise NewsdeskError(f"The catalog at {where} has schema version {found}, newer than this newsdesk's "
                            f"({schema_version()}): a newer newsdesk wrote it. Upgrade newsdesk on this host.")
    return found


def has_table(conn: psycopg.Connection, name: str) -> bool:
    """Whether ``name`` is a table of the schema on the connection's search path."""
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]
