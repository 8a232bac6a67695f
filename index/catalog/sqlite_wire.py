"""Wire-copy clusters in SQLite (``ingest.dedup`` decides what is a copy; this keeps what it decided): each
article's signature with the order it was matched in (``seq``), its LSH band keys, and its cluster.

A new article finds its candidates by one indexed look-up per band, never by reading every signature.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Iterable

from index.catalog.sqlite_schema import WIRE_TABLES, has_table, rows_in
from index.types import StoredSignature


class WireRows:
    """Signatures, bands and clusters (mixed into ``Catalog``, which gives ``db``)."""

    db: sqlite3.Connection

    def wire_ready(self) -> bool:
        """Whether the catalog has the wire tables (a catalog only ever read by this version may lack them)."""
        return has_table(self.db, "wire_clusters")

    def wire_clear(self) -> None:
        """Forget every signature, band and cluster (inside a transaction)."""
        for table in WIRE_TABLES:
            self.db.execute(f"DELETE FROM {table}")

    # --- writing ----------------------------------------------------------------------------
    def wire_next_seq(self) -> int:
        """The match order the next new signature gets."""
        return (self.db.execute("SELECT max(seq) FROM wire_signatures").fetchone()[0] or 0) + 1

    def wire_candidates(self, band_keys: list[int]) -> set[str]:
        """The articles that share a band key with ``band_keys`` (key i of band i)."""
        found: set[str] = set()
        for band, key in enumerate(band_keys):
            found.update(r[0] for r in self.db.execute(
                "SELECT article_id FROM wire_bands WHERE band = ? AND key = ?", (band, key)))
        return found

    def wire_put(self, signature: StoredSignature, seq: int, band_keys: list[int]) -> None:
        """Store (or replace) an article's signature and add its band keys."""
        self.db.execute("INSERT OR REPLACE INTO wire_signatures VALUES (?,?,?,?,?,?,?)",
                        (signature.article_id, signature.content_hash, signature.text_hash, signature.words,
                         json.dumps(sorted(signature.title_terms)), signature.signature, seq))
        self.db.executemany("INSERT OR IGNORE INTO wire_bands VALUES (?,?,?)",
                            [(band, key, signature.article_id) for band, key in enumerate(band_keys)])

    def wire_set_clusters(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Put each (article id, cluster id) in its cluster."""
        self.db.executemany("INSERT OR REPLACE INTO wire_clusters VALUES (?, ?)", list(pairs))

    def wire_delete(self, ids: list[str]) -> int:
        """Remove articles' signatures, bands and cluster rows (inside a transaction); returns how many had a
        signature."""
        known = 0
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            marks = ",".join("?" * len(part))
            known += self.db.execute(f"DELETE FROM wire_signatures WHERE article_id IN ({marks})", part).rowcount
            self.db.execute(f"DELETE FROM wire_bands WHERE article_id IN ({marks})", part)
            self.db.execute(f"DELETE FROM wire_clusters WHERE article_id IN ({marks})", part)
        return known

    # --- against the articles ---------------------------------------------------------------------
    def wire_gone(self) -> list[str]:
        """Articles with a signature that the catalog no longer holds."""
        return [r[0] for r in self.db.execute(
            "SELECT s.article_id FROM wire_signatures s LEFT JOIN articles a ON a.id = s.article_id "
            "WHERE a.id IS NULL")]

    def wire_unsigned(self) -> list[str]:
        """Articles without a signature, or with one made from other content."""
        return [r[0] for r in self.db.execute(
            "SELECT a.id FROM articles a LEFT JOIN wire_signatures s ON s.article_id = a.id "
            "WHERE s.article_id IS NULL OR s.content_hash != a.content_hash")]

    def texts_to_sign(self, ids: list[str]) -> list[tuple[str, str, str | None, str | None, str]]:
        """(id, text, title, url, content_hash) of the given articles."""
        return list(rows_in(self.db, "SELECT id, text, title, url, content_hash FROM articles WHERE id IN ({})", ids))

    def chunked_among(self, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` that the catalog holds with chunks (searchable)."""
        return {r[0] for r in rows_in(self.db, "SELECT id FROM articles WHERE n_chunks > 0 AND id IN ({})", list(ids))}

    def wire_unchunked(self) -> list[str]:
        """Articles with a signature that the catalog holds without chunks."""
        return [r[0] for r in self.db.execute(
            "SELECT a.id FROM articles a JOIN wire_signatures s ON s.article_id = a.id WHERE a.n_chunks = 0")]

    # --- reading ----------------------------------------------------------------------------
    def wire_cluster_of(self, ids: list[str]) -> dict[str, str]:
        """article_id -> cluster_id for the ids that have one."""
        return dict(rows_in(self.db, "SELECT article_id, cluster_id FROM wire_clusters WHERE article_id IN ({})", ids))

    def wire_members(self, cluster_id: str) -> list[str]:
        """The cluster's articles in the order they were matched (then by id)."""
        return [r[0] for r in self.db.execute(
            "SELECT c.article_id FROM wire_clusters c JOIN wire_signatures s ON s.article_id = c.article_id "
            "WHERE c.cluster_id = ? ORDER BY s.seq, c.article_id", (cluster_id,))]

    def wire_members_of(self, cluster_ids: list[str]) -> dict[str, list[str]]:
        """``wire_members`` of several clusters in one read (every cluster asked for is a key)."""
        found: dict[str, list[str]] = {c: [] for c in cluster_ids}
        for cluster_id, article_id in rows_in(
                self.db, "SELECT c.cluster_id, c.article_id FROM wire_clusters c JOIN wire_signatures s "
                "ON s.article_id = c.article_id WHERE c.cluster_id IN ({}) ORDER BY s.seq, c.article_id", cluster_ids):
            found[cluster_id].append(article_id)
        return found

    def wire_same_text(self, text_hash: str, article_id: str) -> list[str]:
        """The other articles whose signature has ``text_hash``, in match order."""
        return [r[0] for r in self.db.execute("SELECT article_id FROM wire_signatures WHERE text_hash = ? "
                                              "AND article_id != ? ORDER BY seq", (text_hash, article_id))]

    def wire_cluster_sizes(self) -> list[int]:
        """The sizes of the clusters of two or more articles."""
        return [r[0] for r in self.db.execute(
            "SELECT count(*) FROM wire_clusters GROUP BY cluster_id HAVING count(*) > 1")]

    def wire_signatures(self, ids: list[str]) -> dict[str, StoredSignature]:
        return {r[0]: StoredSignature(r[0], r[1], r[2], r[3], frozenset(json.loads(r[4])), r[5]) for r in rows_in(
            self.db, "SELECT article_id, content_hash, text_hash, words, title_terms, signature FROM wire_signatures "
            "WHERE article_id IN ({})", ids)}

    def wire_content_hashes(self, ids: list[str]) -> dict[str, str]:
        return dict(rows_in(self.db, "SELECT article_id, content_hash FROM wire_signatures WHERE article_id IN ({})",
                            ids))

    def wire_seqs(self, ids: list[str]) -> dict[str, int]:
        """article_id -> its match order."""
        return dict(rows_in(self.db, "SELECT article_id, seq FROM wire_signatures WHERE article_id IN ({})", ids))
