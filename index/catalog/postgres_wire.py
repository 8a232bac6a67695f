"""Wire-copy clusters in PostgreSQL (``sqlite_wire`` on SQLite; ``ingest.dedup`` decides what is a copy): each
article's signature with the order it was matched in (``seq``), its LSH band keys, and its cluster.

A new article finds its candidates by one indexed look-up per band, never by reading every signature.
"""

from __future__ import annotations

import json
from typing import Iterable

from index.catalog.postgres_schema import WIRE_TABLES, has_table
from index.types import StoredSignature


class PostgresWireRows:
    """Signatures, bands and clusters (mixed into ``PostgresCatalog``, which gives ``connection``, ``transaction``
    and the ``_all``/``_one``/``_run``/``_many`` helpers)."""

    def wire_ready(self) -> bool:
        """Whether the schema has the wire tables (a reader may open a schema no writer has made yet)."""
        with self.connection() as conn:
            return has_table(conn, "wire_clusters")

    def wire_clear(self) -> None:
        """Forget every signature, band and cluster (in one transaction)."""
        with self.transaction():
            for table in WIRE_TABLES:
                self._run(f"DELETE FROM {table}")

    # --- writing ----------------------------------------------------------------------------
    def wire_next_seq(self) -> int:
        """The match order the next new signature gets."""
        return int(self._one("SELECT max(seq) FROM wire_signatures")[0] or 0) + 1

    def wire_candidates(self, band_keys: list[int]) -> set[str]:
        """The articles that share a band key with ``band_keys`` (key i of band i)."""
        if not band_keys:
            return set()
        return {r[0] for r in self._all(
            "SELECT DISTINCT b.article_id FROM unnest(%s::int[], %s::bigint[]) AS k(band, key) "
            "JOIN wire_bands b ON b.band = k.band AND b.key = k.key",
            (list(range(len(band_keys))), [int(k) for k in band_keys]))}

    def wire_put(self, signature: StoredSignature, seq: int, band_keys: list[int]) -> None:
        """Store (or replace) an article's signature and add its band keys."""
        with self.transaction():
            self._run(
                "INSERT INTO wire_signatures VALUES (%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (article_id) DO UPDATE SET "
                "content_hash = EXCLUDED.content_hash, text_hash = EXCLUDED.text_hash, words = EXCLUDED.words, "
                "title_terms = EXCLUDED.title_terms, signature = EXCLUDED.signature, seq = EXCLUDED.seq",
                (signature.article_id, signature.content_hash, signature.text_hash, signature.words,
                 json.dumps(sorted(signature.title_terms)), signature.signature, seq))
            self._many("INSERT INTO wire_bands VALUES (%s,%s,%s) ON CONFLICT DO NOTHING",
                       [(band, key, signature.article_id) for band, key in enumerate(band_keys)])

    def wire_set_clusters(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Put each (article id, cluster id) in its cluster."""
        self._many("INSERT INTO wire_clusters VALUES (%s, %s) "
                   "ON CONFLICT (article_id) DO UPDATE SET cluster_id = EXCLUDED.cluster_id", list(pairs))

    def wire_delete(self, ids: list[str]) -> int:
        """Remove articles' signatures, bands and cluster rows (in one transaction); returns how many had a
        signature."""
        ids = list(ids)
        with self.transaction():
            known = self._run("DELETE FROM wire_signatures WHERE article_id = ANY(%s)", (ids,))
            self._run("DELETE FROM wire_bands WHERE article_id = ANY(%s)", (ids,))
            self._run("DELETE FROM wire_clusters WHERE article_id = ANY(%s)", (ids,))
        return known

    # --- against the articles ---------------------------------------------------------------------
    def wire_gone(self) -> list[str]:
        """Articles with a signature that the catalog no longer holds."""
        return [r[0] for r in self._all(
            "SELECT s.article_id FROM wire_signatures s LEFT JOIN articles a ON a.id = s.article_id "
            'WHERE a.id IS NULL ORDER BY s.article_id COLLATE "C"')]

    def wire_unsigned(self) -> list[str]:
        """Articles without a signature, or with one made from other content."""
        return [r[0] for r in self._all(
            "SELECT a.id FROM articles a LEFT JOIN wire_signatures s ON s.article_id = a.id "
            'WHERE s.article_id IS NULL OR s.content_hash != a.content_hash ORDER BY a.id COLLATE "C"')]

    def texts_to_sign(self, ids: list[str]) -> list[tuple[str, str, str | None, str | None, str]]:
        """(id, text, title, url, content_hash) of the given articles."""
        return self._all("SELECT id, text, title, url, content_hash FROM articles WHERE id = ANY(%s)", (list(ids),))

    def chunked_among(self, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` that the catalog holds with chunks (searchable)."""
        return {r[0] for r in self._all("SELECT id FROM articles WHERE n_chunks > 0 AND id = ANY(%s)", (list(ids),))}

    def wire_unchunked(self) -> list[str]:
        """Articles with a signature that the catalog holds without chunks."""
        return [r[0] for r in self._all(
            "SELECT a.id FROM articles a JOIN wire_signatures s ON s.article_id = a.id WHERE a.n_chunks = 0")]

    # --- reading ----------------------------------------------------------------------------
    def wire_cluster_of(self, ids: list[str]) -> dict[str, str]:
        """article_id -> cluster_id for the ids that have one."""
        return dict(self._all("SELECT article_id, cluster_id FROM wire_clusters WHERE article_id = ANY(%s)",
                              (list(ids),)))

    def wire_members(self, cluster_id: str) -> list[str]:
        """The cluster's articles in the order they were matched (then by id)."""
        return [r[0] for r in self._all(
            "SELECT c.article_id FROM wire_clusters c JOIN wire_signatures s ON s.article_id = c.article_id "
            'WHERE c.cluster_id = %s ORDER BY s.seq, c.article_id COLLATE "C"', (cluster_id,))]

    def wire_members_of(self, cluster_ids: list[str]) -> dict[str, list[str]]:
        """``wire_members`` of several clusters in one read (every cluster asked for is a key)."""
        found: dict[str, list[str]] = {c: [] for c in cluster_ids}
        for cluster_id, article_id in self._all(
                "SELECT c.cluster_id, c.article_id FROM wire_clusters c JOIN wire_signatures s "
                'ON s.article_id = c.article_id WHERE c.cluster_id = ANY(%s) ORDER BY s.seq, c.article_id COLLATE "C"',
                (list(cluster_ids),)):
            found[cluster_id].append(article_id)
        return found

    def wire_same_text(self, text_hash: str, article_id: str) -> list[str]:
        """The other articles whose signature has ``text_hash``, in match order."""
        return [r[0] for r in self._all("SELECT article_id FROM wire_signatures WHERE text_hash = %s "
                                        "AND article_id != %s ORDER BY seq", (text_hash, article_id))]

    def wire_cluster_sizes(self) -> list[int]:
        """The sizes of the clusters of two or more articles."""
        return [int(r[0]) for r in self._all(
            "SELECT count(*) FROM wire_clusters GROUP BY cluster_id HAVING count(*) > 1")]

    def wire_signatures(self, ids: list[str]) -> dict[str, StoredSignature]:
        return {r[0]: StoredSignature(r[0], r[1], r[2], r[3], frozenset(json.loads(r[4])), bytes(r[5])) for r in self._all(
            "SELECT article_id, content_hash, text_hash, words, title_terms, signature FROM wire_signatures "
            "WHERE article_id = ANY(%s)", (list(ids),))}

    def wire_content_hashes(self, ids: list[str]) -> dict[str, str]:
        return dict(self._all("SELECT article_id, content_hash FROM wire_signatures WHERE article_id = ANY(%s)",
                              (list(ids),)))

    def wire_seqs(self, ids: list[str]) -> dict[str, int]:
        """article_id -> its match order."""
        return {r[0]: int(r[1]) for r in self._all(
            "SELECT article_id, seq FROM wire_signatures WHERE article_id = ANY(%s)", (list(ids),))}
