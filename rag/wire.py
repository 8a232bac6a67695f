"""Wire copies folded in the evidence: one article per story, the others listed as "also reported by".

The same AP story from three outlets, or one article under two URLs, would otherwise fill the top k
with one story. ``fold_wire_copies`` is an evidence postprocessor (``Evidence`` list in, ``Evidence``
list out): it keeps, for each cluster of ``ingest.dedup.WireClusters``, the chunks of its best-ranked
article, drops the chunks of the cluster's other articles, refills k from the rest of the ranking, and
attaches every other member of the kept article's cluster (in the ranking or not) as
``Evidence.also_reported_by``. Clusters are read from the catalog; an index written before them, or
``wire_fold`` off, leaves the ranking as it was.
"""

from __future__ import annotations

from datetime import datetime

from index.catalog import CatalogInterface
from index.types import to_epoch
from ingest.dedup import WireClusters
from rag.types import AlsoReported, Evidence
from settings import IngestSettings


def wire_pool(k: int, config: IngestSettings) -> int:
    """How many chunks to retrieve so that ``k`` remain once copies are folded (retrieval's ranking is
    the same for the first k whatever the limit, so a larger pool changes nothing when nothing folds)."""
    return 2 * k if config.wire_fold else k


def fold_wire_copies(ranked: list[Evidence], catalog: CatalogInterface, config: IngestSettings, k: int,
                     until: datetime | None = None) -> list[Evidence]:
    """The first ``k`` of ``ranked`` with one article per story. ``until``: members published after it (an
    ``--as-of`` question) are not listed."""
    if not config.wire_fold or not ranked:
        return ranked[:k]
    clusters = WireClusters(catalog, config)
    if not clusters.ready:
        return ranked[:k]
    cluster_of = clusters.cluster_of(e.article_id for e in ranked)
    chosen: dict[str, str] = {}  # cluster -> the article kept for it
    kept: list[Evidence] = []
    for evidence in ranked:
        cluster = cluster_of.get(evidence.article_id, evidence.article_id)  # no row: a story of its own
        if chosen.setdefault(cluster, evidence.article_id) != evidence.article_id:
            continue  # a copy of a story already shown
        kept.append(evidence)
        if len(kept) >= k:
            break
    _attach_members(kept, cluster_of, clusters, catalog, config.wire_listed, until)
    return kept


def _attach_members(kept: list[Evidence], cluster_of: dict[str, str], clusters: WireClusters, catalog: CatalogInterface,
                    listed: int, until: datetime | None) -> None:
    wanted = {cluster_of[e.article_id] for e in kept if e.article_id in cluster_of}
    members = {c: m for c, m in clusters.members_of(wanted).items() if len(m) > 1}
    if not members or listed == 0:
        return
    rows = catalog.article_briefs([a for m in members.values() for a in m])
    limit = to_epoch(until)
    for evidence in kept:
        others = [a for a in members.get(cluster_of.get(evidence.article_id, ""), []) if a != evidence.article_id]
        # published after an --as-of date: not listed (undated ones pass an upper bound, as in retrieval)
        reported = [AlsoReported(a, rows[a].title, rows[a].source, rows[a].url, rows[a].published_at) for a in others
                    if a in rows and (limit is None or rows[a].published_ts is None or rows[a].published_ts <= limit)]
        evidence.also_reported_by = reported[:listed]

