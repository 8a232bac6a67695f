"""The indexer's hooks (``index.types.WriteHooks``): wire copies folded around its writes
(``ingest.dedup_hooks``), and its stories kept once a write is settled (``keep_stories``)."""

from __future__ import annotations

from index.catalog import CatalogInterface
from index.types import WriteHooks
from ingest.dedup_hooks import fold_exact_copies, settle_wire_clusters
from settings import Settings
from stories.keeper import DIRTY_META, StoryKeeper, StoryUpdate

_STAMP = "stories_writer"  # meta: the "writer" stamp (``Indexer._mark_written``) the stories were last kept at


def keep_stories(catalog: CatalogInterface, settings: Settings) -> StoryUpdate | None:
    """Bring the stories in line with the catalog, unless nothing was written since they last were."""
    if not settings.stories.stories_enabled or not catalog.stories_ready():
        return None
    stamp = catalog.get_meta("writer")
    if stamp is not None and stamp == catalog.get_meta(_STAMP) and catalog.get_meta(DIRTY_META) in (None, "[]"):
        return None
    report = StoryKeeper(catalog, settings.stories).update()
    if report.waiting == 0 and stamp is not None:  # articles still waiting for vectors are linked after the drain
        with catalog.transaction():
            catalog.set_meta(_STAMP, stamp)
    return report


INDEX_HOOKS = WriteHooks(fold_exact_copies, settle_wire_clusters, keep_stories)
