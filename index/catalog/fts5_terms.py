"""The catalog's keyword terms exactly as SQLite's FTS5 makes them, for a store without FTS5 (PostgreSQL).

FTS5's tokenizer (porter stemming over unicode61, diacritics removed) is the definition of a term: any
re-implementation differs on some word, and a differing term changes BM25 scores. So the terms come from
FTS5 itself: texts go into an in-memory FTS5 table with the catalog's tokenizer, and its ``fts5vocab``
table in ``instance`` mode gives back every token with its row, column and position.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from functools import lru_cache

# the tokenizer of the SQLite catalog's chunks_fts (``sqlite_schema``): both stores must tokenize alike
FTS5_TOKENIZE = "porter unicode61 remove_diacritics 2"


@dataclass
class ChunkTerms:
    """One chunk's tokens: per column its length in tokens, per term its positions in each column."""

    title_len: int = 0
    text_len: int = 0
    positions: dict[str, tuple[list[int], list[int]]] = field(default_factory=dict)  # term: (title, text)


def _fts5() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE VIRTUAL TABLE t USING fts5(title, text, tokenize = '{FTS5_TOKENIZE}')")
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    return db


def chunk_terms(chunks: list[tuple[int, str, str]]) -> dict[int, ChunkTerms]:
    """Every token of each (rowid, title, text), as FTS5 indexes it. A column's length is its token count
    (FTS5's own column size: every token the tokenizer emits has a position)."""
    out = {rowid: ChunkTerms() for rowid, _, _ in chunks}
    db = _fts5()
    try:
        db.executemany("INSERT INTO t (rowid, title, text) VALUES (?, ?, ?)",
                       [(rowid, title or "", text or "") for rowid, title, text in chunks])
        for term, rowid, column, offset in db.execute("SELECT term, doc, col, offset FROM v"):
            terms = out[rowid]
            title, text = terms.positions.setdefault(term, ([], []))
            if column == "title":
                title.append(offset)
                terms.title_len += 1
            else:
                text.append(offset)
                terms.text_len += 1
    finally:
        db.close()
    for terms in out.values():
        for title, text in terms.positions.values():
            title.sort()
            text.sort()
    return out


@lru_cache(maxsize=8192)
def phrase_tokens(term: str) -> tuple[str, ...]:
    """A query term's tokens in order: FTS5 reads a quoted term as a phrase of these, adjacent in one column
    ("covid-19" is "covid" then "19"; an empty tuple matches nothing)."""
    db = _fts5()
    try:
        db.execute("INSERT INTO t (rowid, title, text) VALUES (1, '', ?)", (term,))
        return tuple(r[0] for r in db.execute("SELECT term FROM v ORDER BY offset"))
    finally:
        db.close()
