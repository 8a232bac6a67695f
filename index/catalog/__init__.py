"""The catalog: the source of truth for what is indexed (``base`` says what it is and how it stays
crash-safe). ``Catalog`` and ``FeedTable`` are its SQLite implementation, the one file ``catalog.sqlite``
under NEWSDESK_HOME; ``PostgresCatalog`` (``postgres_catalog``) keeps it in PostgreSQL. ``open_catalog`` opens
the one the settings name. Every table and every SQL statement on either lives in this package."""

from index.catalog.base import CatalogInterface, FeedTableInterface, utcnow_iso
from index.catalog.factory import catalog_exists, open_catalog, open_feed_table
from index.catalog.sqlite_catalog import CATALOG_ERRORS, Catalog
from index.catalog.sqlite_feeds import FeedTable
from index.catalog.sqlite_schema import SCHEMA_VERSION

__all__ = ["CATALOG_ERRORS", "Catalog", "CatalogInterface", "FeedTable", "FeedTableInterface", "SCHEMA_VERSION",
           "catalog_exists", "open_catalog", "open_feed_table", "utcnow_iso"]
