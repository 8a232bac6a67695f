"""The newest reports of a story, for a question about its latest state: the story the best evidence belongs to
(``stories``) holds every report of it, also those that rank low for the question's words (a toll updated a
week later under another headline); each newer one is read at its chunk that names most of what the question
names."""

from __future__ import annotations

from datetime import datetime

from index.catalog import CatalogInterface
from index.types import to_epoch
from rag.retriever import NEWER, fallback_title
from rag.text import content_stems
from rag.types import Evidence


def story_reports(catalog: CatalogInterface, question: str, evidence: list[Evidence], bound: datetime | None,
                  limit: int) -> list[Evidence]:
    """Up to ``limit`` reports of the top evidence's story published after it (and not after ``bound``), newest
    first, each as its best chunk for the question; none when the top evidence is in no story of two or more."""
    if not evidence or evidence[0].published_at is None or not catalog.stories_ready():
        return []
    top = evidence[0]
    story = catalog.story_of([top.article_id]).get(top.article_id)
    if story is None:
        return []
    seen = {e.article_id for e in evidence} | {r.article_id for e in evidence for r in e.also_reported_by}
    after, until = to_epoch(top.published_at), to_epoch(bound)
    briefs = catalog.article_briefs(catalog.story_articles(story))
    newer = sorted((b for b in briefs.values() if b.id not in seen and b.published_ts is not None
                    and b.published_ts > after and (until is None or b.published_ts <= until)),
                   key=lambda b: (-b.published_ts, b.id))[:limit]
    wanted = content_stems(question)
    out = []
    for brief in newer:
        records = catalog.chunk_records(catalog.chunk_ids_of(brief.id))
        if not records:
            continue
        best = max(records.values(), key=lambda r: (len(content_stems(r.text) & wanted), -r.start))
        published = datetime.fromisoformat(best.published_at) if best.published_at else None
        out.append(Evidence(best.chunk_id, best.article_id, best.title or fallback_title(best), best.source, best.url,
                            published, best.text, best.start, best.end, query=NEWER))
    return out
