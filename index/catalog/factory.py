"""Which catalog the settings name: ``open_catalog`` gives the SQLite ``Catalog`` (NEWSDESK_CATALOG_URL unset: the
file under NEWSDESK_HOME) or the ``PostgresCatalog`` (a postgresql:// URL: the collection's schema there).

Everything that opens the configured index opens it here, so the two never disagree about where it is. The
PostgreSQL side is imported only when a URL names it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from errors import BadInput, CatalogUnavailable
from index.catalog.base import CatalogInterface, FeedTableInterface
from settings.store import CATALOG_WAIT_S, POSTGRES_NEEDS_CHROMA_SERVER

if TYPE_CHECKING:
    from settings import Settings


def _postgres_url(settings: Settings) -> str | None:
    """The catalog's PostgreSQL URL (None: SQLite); refused with the embedded Chroma store, which one host owns."""
    url = settings.index.catalog_dsn
    if url is not None and not settings.index.server_mode:
        raise BadInput(f"Invalid setting: NEWSDESK_CATALOG_URL: {POSTGRES_NEEDS_CHROMA_SERVER}.")
    return url


def open_catalog(settings: Settings, read_only: bool = False) -> CatalogInterface:
    """The configured catalog; ``read_only`` for the question side, which never writes."""
    url = _postgres_url(settings)
    if url is None:
        from index.catalog.sqlite_catalog import Catalog

        return Catalog(settings.index.catalog_path, read_only=read_only)
    from index.catalog.postgres_catalog import PostgresCatalog

    return PostgresCatalog(url, settings.index.catalog_schema, read_only=read_only)


def open_feed_table(settings: Settings, read_only: bool = False) -> FeedTableInterface:
    """The followed feeds beside the configured catalog, on a connection of their own."""
    url = _postgres_url(settings)
    if url is None:
        from index.catalog.sqlite_feeds import FeedTable

        return FeedTable(settings.index.catalog_path, read_only=read_only)
    from index.catalog.postgres_feeds import PostgresFeedTable

    return PostgresFeedTable(url, settings.index.catalog_schema, read_only=read_only)


def catalog_exists(settings: Settings) -> bool:
    """Whether anything was ever indexed here: the catalog file, or the collection's schema with its tables."""
    url = _postgres_url(settings)
    if url is None:
        return settings.index.catalog_path.exists()
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=CATALOG_WAIT_S) as conn:
            row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{settings.index.catalog_schema}.meta",))
            return bool(row.fetchone()[0])
    except psycopg.Error as error:
        raise CatalogUnavailable(
            f"The PostgreSQL catalog at {settings.index.catalog_location} could not be reached "
            f"({type(error).__name__}); check NEWSDESK_CATALOG_URL and that the server is up.") from None
