"""Wire copies and versions: articles that tell the same story in (nearly) the same words, grouped.

The same AP or Reuters copy re-published by several outlets with small edits, the same article under
several URLs (``/index.html``, ``?cid=...``) and the updated versions of one story are near-duplicates.
``WireClusters`` keeps them in clusters, so retrieval can show one of them and list the others as
"also reported by" (``rag.wire``), instead of filling the top k with one story.

- **Signatures**: a MinHash (datasketch) over the word shingles of the normalized text (NFKC, lower
  case, ``\\w+`` words). Two articles are *copies* when their estimated Jaccard similarity reaches
  ``wire_threshold``; a text shorter than ``wire_title_check_words`` must also carry a similar headline,
  because short site boilerplate ("We will use the details you have shared...", "How relevant is this
  ad to you?") is identical under unrelated stories.
- **Candidates** come from LSH bands (the band and row counts datasketch's ``MinHashLSH`` chooses for the
  threshold), kept as rows of the catalog file with the signatures, so a new article is matched against
  the index by a few indexed look-ups, never by loading every signature.
- **Clusters** are the connected components of "shares a band and is a copy". Each cluster's id is its
  representative's article id: the member matched first. Removing members recomputes what is left of
  their clusters, so a cluster whose representative left hands over to its next member, and one whose
  bridging member left splits.

The catalog keeps the signatures, band keys and clusters (its ``wire_*`` methods); ``settle()`` brings them
in line with the catalog's articles (new, changed, removed).
``index.sync`` calls two hooks of ``ingest.dedup_hooks``: before a batch is written and after every sync
and removal.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from index.catalog import CatalogInterface
from index.types import Article, StoredSignature, title_from_url
from settings import IngestSettings

SCHEME = "affine32"  # datasketch 2's default: uint32 hash values, collision-free permutations
_WORD = re.compile(r"\w+")
# words that say nothing about which story a headline tells (and outlet names that sites append)
_TITLE_STOP = frozenset("""a an the and or but of to in on at for from by with as is are was were be been it its
this that these those after before over under into about than what who why how when where which will would can
could has have had not no new says said say cnn com usatoday today week uk politics business news""".split())


def normalized_words(text: str) -> list[str]:
    """The words a signature is made of: NFKC, lower case, letters and digits only."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower())


def shingles(words: Sequence[str], size: int) -> set[str]:
    """Every run of ``size`` consecutive words (the whole text when it is shorter)."""
    if len(words) <= size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + size]) for i in range(len(words) - size + 1)}


def title_terms(title: str | None) -> frozenset[str]:
    """A headline's content words (site suffixes such as "| CNN Business" drop out with the stop words)."""
    return frozenset(w for w in normalized_words(title or "") if len(w) > 2 and w not in _TITLE_STOP)


def titles_agree(a: frozenset[str], b: frozenset[str], overlap: float) -> bool:
    """Whether two headlines tell the same story: at least two shared content words, and ``overlap`` of the
    shorter headline's ("Next Labour leader: who would replace Keir Starmer?" and "Next Tory leader odds
    and polls: who will replace Boris Johnson?" share three of six: not enough at 0.6)."""
    shared = len(a & b)
    return shared >= 2 and shared / min(len(a), len(b)) >= overlap


def headline(title: str | None, url: str | None) -> str | None:
    """The headline to compare: the title, else the URL's slug; never the text's first line, which for
    boilerplate pages is the boilerplate itself."""
    return title or (title_from_url(url) if url else None)


@dataclass(frozen=True)
class WireSignature:
    """What an article is matched by: its MinHash, its exact-text hash, length and headline words."""

    article_id: str
    content_hash: str
    text_hash: str
    words: int
    title_terms: frozenset[str]
    hashvalues: np.ndarray  # uint32, wire_num_perm of them


class WireClusters:
    """``article_id -> cluster_id`` for every indexed article, kept in the catalog file.

    ``assign(articles)`` matches new or changed articles, ``forget(ids)`` removes articles,
    ``settle()`` does both from the catalog's own articles; ``cluster_of(ids)`` and ``members(cluster)``
    read. Read-only (the question side) it only reads, and sees no clusters in a catalog that never had them.
    """

    def __init__(self, catalog: CatalogInterface, config: IngestSettings) -> None:
        self.catalog = catalog
        self.config = config
        self._seed = None
        self._bands: tuple[int, int] | None = None
        if not catalog.read_only:
            self._check_params()

    @property
    def bands(self) -> int:
        return self._lsh_params()[0]

    @property
    def rows(self) -> int:
        return self._lsh_params()[1]

    def _lsh_params(self) -> tuple[int, int]:
        """(bands, rows per band): datasketch's choice for the threshold (false positives and negatives
        weighed equally). Made on first use, so the question side, which only reads clusters, never pays."""
        if self._bands is None:
            from datasketch import MinHashLSH

            lsh = MinHashLSH(threshold=self.config.wire_threshold, num_perm=self.config.wire_num_perm)
            self._bands = (lsh.b, lsh.r)
        return self._bands

    @property
    def ready(self) -> bool:
        """Whether the catalog has the wire tables (an index written before them has none)."""
        return self.catalog.wire_ready()

    def _check_params(self) -> None:
        """Signatures made with other parameters cannot be compared: they are dropped and made again."""
        params = json.dumps({"scheme": SCHEME, "num_perm": self.config.wire_num_perm,
                             "shingle": self.config.wire_shingle_words,
                             "threshold": self.config.wire_threshold, "title_words": self.config.wire_title_check_words,
                             "title_overlap": self.config.wire_title_overlap})
        if self.catalog.get_meta("wire_params") != params:
            with self.catalog.transaction():
                self.catalog.wire_clear()
                self.catalog.set_meta("wire_params", params)

    # --- signatures -----------------------------------------------------------------------
    def signature(self, article_id: str, text: str, title: str | None, content_hash: str = "") -> WireSignature | None:
        """The article's signature, or None when its text has no words (nothing to match)."""
        words = normalized_words(text)
        if not words:
            return None
        if self._seed is None:
            from datasketch import MinHash

            # permutations made once, copied per article; the scheme is named because stored values carry no trace of it
            self._seed = MinHash(num_perm=self.config.wire_num_perm, seed=1, scheme=SCHEME)
        minhash = self._seed.copy()
        minhash.update_batch([s.encode("utf-8") for s in shingles(words, self.config.wire_shingle_words)])
        text_hash = hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()[:32]
        return WireSignature(article_id, content_hash, text_hash, len(words), title_terms(title),
                             minhash.hashvalues.astype(np.uint32))

    def band_keys(self, signature: WireSignature) -> list[int]:
        r = self.rows
        return [int.from_bytes(hashlib.blake2b(signature.hashvalues[i * r:(i + 1) * r].tobytes(), digest_size=8)
                               .digest(), "big", signed=True) for i in range(self.bands)]

    def similarity(self, a: WireSignature, b: WireSignature) -> float:
        """Estimated Jaccard similarity of the two texts' shingle sets."""
        return 1.0 if a.text_hash == b.text_hash else float(np.mean(a.hashvalues == b.hashvalues))

    def copies(self, a: WireSignature, b: WireSignature) -> bool:
        """Whether two articles are copies of one story (see the module docstring)."""
        if self.similarity(a, b) < self.config.wire_threshold:
            return False
        if min(a.words, b.words) >= self.config.wire_title_check_words:
            return True
        return titles_agree(a.title_terms, b.title_terms, self.config.wire_title_overlap)

    # --- writing ----------------------------------------------------------------------------
    def assign(self, articles: Iterable[Article]) -> int:
        """Match new or changed articles into clusters (unchanged ones are left as they are). Returns how many
        were matched (an article without words is not)."""
        docs = [(a.id, a.text, headline(a.title, a.url), a.content_hash) for a in articles]
        return self._assign(docs)

    def _assign(self, docs: list[tuple[str, str, str | None, str]]) -> int:
        known = self.catalog.wire_content_hashes([d[0] for d in docs])
        todo = [d for d in docs if known.get(d[0]) != d[3]]
        if not todo:
            return 0
        changed = [d[0] for d in todo if d[0] in known]
        kept_seq = self.catalog.wire_seqs(changed)
        self.forget(changed)
        next_seq = self.catalog.wire_next_seq()
        matched = 0
        with self.catalog.transaction():
            for article_id, text, title, content_hash in todo:
                signature = self.signature(article_id, text, title, content_hash)
                if signature is None:  # no words: nothing to match (it is looked at again, cheaply, next time)
                    continue
                seq = kept_seq.get(article_id)
                if seq is None:
                    seq, next_seq = next_seq, next_seq + 1
                self._insert(signature, seq)
                matched += 1
        return matched

    def _insert(self, signature: WireSignature, seq: int) -> None:
        keys = self.band_keys(signature)
        candidates = self.catalog.wire_candidates(keys)
        candidates.discard(signature.article_id)
        self.catalog.wire_put(StoredSignature(signature.article_id, signature.content_hash, signature.text_hash,
                                              signature.words, signature.title_terms, signature.hashvalues.tobytes()),
                              seq, keys)
        linked = [s for s in self.signatures(sorted(candidates)).values() if self.copies(signature, s)]
        clusters = set(self.cluster_of([s.article_id for s in linked]).values())
        members = [signature.article_id] + [m for c in sorted(clusters) for m in self.members(c)]
        representative = min(self.catalog.wire_seqs(members).items(), key=lambda item: (item[1], item[0]))[0] \
            if len(members) > 1 else signature.article_id
        self.catalog.wire_set_clusters((m, representative) for m in members)

    def forget(self, ids: Iterable[str]) -> int:
        """Remove articles; what remains of their clusters is clustered again. Returns how many were known."""
        ids = list(dict.fromkeys(ids))
        if not ids:
            return 0
        affected = set(self.cluster_of(ids).values())
        gone = set(ids)
        with self.catalog.transaction():
            known = self.catalog.wire_delete(ids)
            for cluster in sorted(affected):
                self._recluster([m for m in self.members(cluster) if m not in gone])
        return known

    def _recluster(self, remaining: list[str]) -> None:
        """Components of what is left of a cluster, each named after its first-matched member."""
        signatures = self.signatures(remaining)
        seqs = self.catalog.wire_seqs(remaining)
        order = sorted(signatures, key=lambda i: (seqs[i], i))
        keys = {i: set(enumerate(self.band_keys(signatures[i]))) for i in order}
        parent = {i: i for i in order}

        def root(i: str) -> str:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for x, a in enumerate(order):
            for b in order[x + 1:]:
                # an edge of the cluster graph: a pair LSH finds (a shared band) that are copies
                if root(a) != root(b) and keys[a] & keys[b] and self.copies(signatures[a], signatures[b]):
                    ra, rb = root(a), root(b)
                    first, second = sorted((ra, rb), key=lambda i: (seqs[i], i))
                    parent[second] = first
        self.catalog.wire_set_clusters((i, root(i)) for i in order)

    def settle(self) -> int:
        """Bring the clusters in line with the catalog: forget removed articles, match new and changed ones.
        Returns how many articles changed. Also fills the tables for an index written before them."""
        gone = self.catalog.wire_gone()
        self.forget(gone)
        stale = self.catalog.wire_unsigned()
        done = 0
        for start in range(0, len(stale), 200):
            part = stale[start:start + 200]
            rows = self.catalog.texts_to_sign(part)
            done += self._assign([(i, text, headline(title, url), content_hash)
                                  for i, text, title, url, content_hash in rows])
        return len(gone) + done

    # --- reading ----------------------------------------------------------------------------
    def cluster_of(self, ids: Iterable[str]) -> dict[str, str]:
        """article_id -> cluster_id for the ids that have one (an article without words has none)."""
        return self.catalog.wire_cluster_of(list(dict.fromkeys(ids)))

    def members(self, cluster_id: str) -> list[str]:
        """The cluster's articles, its representative first, then in the order they were matched."""
        return self.catalog.wire_members(cluster_id)

    def members_of(self, cluster_ids: Iterable[str]) -> dict[str, list[str]]:
        """``members`` of several clusters in one read (clusters of one article included)."""
        return self.catalog.wire_members_of(list(dict.fromkeys(cluster_ids)))

    def exact_copies(self, article_id: str) -> list[str]:
        """Other articles with exactly the same (normalized) text and a similar headline or long text."""
        row = self.signatures([article_id]).get(article_id)
        if row is None:
            return []
        others = self.catalog.wire_same_text(row.text_hash, article_id)
        signatures = self.signatures(others)
        return [i for i in others if self.copies(row, signatures[i])]

    def chunked(self, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` that the catalog holds with chunks (searchable)."""
        return self.catalog.chunked_among(ids)

    def unchunked(self) -> list[str]:
        """Articles kept without chunks as exact copies (an article with words always has chunks otherwise)."""
        return self.catalog.wire_unchunked()

    def counts(self) -> dict[str, int]:
        """Clusters of two or more articles, the articles in them, and the duplicates they fold away."""
        sizes = self.catalog.wire_cluster_sizes()
        return {"clusters": len(sizes), "articles_in_clusters": sum(sizes), "duplicates": sum(sizes) - len(sizes)}

    def signatures(self, ids: list[str]) -> dict[str, WireSignature]:
        return {i: WireSignature(i, row.content_hash, row.text_hash, row.words, row.title_terms,
                                 np.frombuffer(row.signature, dtype=np.uint32))
                for i, row in self.catalog.wire_signatures(ids).items()}
