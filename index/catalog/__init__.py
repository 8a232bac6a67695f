"""The catalog: the source of truth for what is indexed (``base`` says what it is and how it stays
crash-safe). ``Catalog`` and ``FeedTable`` are its SQLite implementation, the one file ``catalog.sqlite``
under NEWSDESK_HOME; every table and every SQL statement on it lives in this package."""

from index.catalog.base import CatalogInterface, FeedTableInterface, utcnow_iso
from index.catalog.sqlite_catalog import CATALOG_ERRORS, Catalog
from index.catalog.sqlite_feeds import FeedTable
from index.catalog.sqlite_schema import SCHEMA_VERSION

__all__ = ["CATALOG_ERRORS", "Catalog", "CatalogInterface", "FeedTable", "FeedTableInterface", "SCHEMA_VERSION",
           "utcnow_iso"]
