"""BM25 over the chunks in PostgreSQL, scored exactly as SQLite's FTS5 scores them, within a date/source
window, and the window's size.

PostgreSQL's own ranking (ts_rank) has no IDF, so the score is computed in SQL from postings, with FTS5's
formula (``fts5_aux.c``, ``fts5Bm25Function``) and FTS5's terms (``fts5_terms``). For each query phrase i
(one per term, in the query's order) and a chunk:

    idf_i  = ln((N - n_i + 0.5) / (n_i + 0.5)), 1e-6 where that is <= 0
    f_i    = title_weight * (instances in the title) + 1.0 * (instances in the text)
    score  = sum_i idf_i * f_i * (k1 + 1) / (f_i + k1 * (1 - b + b * D / avgdl)),  k1 = 1.2, b = 0.75

N is the number of chunks, n_i the chunks the phrase occurs in, D the chunk's length in tokens over both
columns and avgdl all tokens of both columns over N: FTS5 weights the column *frequencies* and normalizes by
the whole row's length, it does not score the columns apart. Scores are returned positive, higher is better.

Tables (``SEARCH_DDL``, in the catalog's schema): ``bm25_postings`` holds one row per (term, chunk) with its
frequency per column and the chunk's length (a btree on (term, chunk) that includes them, so scoring a term
is an index-only scan of its postings) and the term's positions (read only for phrases of several tokens,
which FTS5 matches as adjacent tokens in one column); ``bm25_chunks`` each chunk's column lengths and terms
(what a delete must undo); ``bm25_terms`` each term's chunk count; ``bm25_stats`` one row with N and the
token totals. The writer keeps the last three up to date, so a search reads only its terms' postings.

A window is applied as the SQLite side applies it, with the same result as the plain join: unfiltered,
the best chunks are ranked and only the winners' ids looked up; in a broad window the first ranks are
checked against it (the whole ranking when too few pass); in a narrow one the window's chunks are read
first (the articles' date index) and the scored chunks matched against them.
"""

from __future__ import annotations

from collections import Counter
from contextlib import AbstractContextManager
from typing import Any

from index.catalog.fts5_terms import chunk_terms, phrase_tokens
from index.types import Bm25Query, ChunkFilter

K1, B = 1.2, 0.75  # FTS5's constants
_GRID = 2 ** 40  # a phrase's part of a score is summed in units of 1/_GRID (``ranked_sql``)

SEARCH_DDL: list[str] = [
    """CREATE TABLE IF NOT EXISTS bm25_postings (
        term text COLLATE "C" NOT NULL, chunk bigint NOT NULL,
        title_tf integer NOT NULL, text_tf integer NOT NULL, length integer NOT NULL,
        title_pos integer[] NOT NULL, text_pos integer[] NOT NULL,
        PRIMARY KEY (term, chunk) INCLUDE (title_tf, text_tf, length))""",
    """CREATE TABLE IF NOT EXISTS bm25_chunks (
        chunk bigint PRIMARY KEY, title_len integer NOT NULL, text_len integer NOT NULL, terms text[] NOT NULL)""",
    'CREATE TABLE IF NOT EXISTS bm25_terms (term text COLLATE "C" PRIMARY KEY, chunks integer NOT NULL)',
    """CREATE TABLE IF NOT EXISTS bm25_stats (
        id integer PRIMARY KEY CHECK (id = 1), chunks bigint NOT NULL, title_tokens bigint NOT NULL,
        text_tokens bigint NOT NULL)""",
    "INSERT INTO bm25_stats VALUES (1, 0, 0, 0) ON CONFLICT DO NOTHING",
]


def index_chunk_terms(conn, chunks: list[tuple[int, str, str]]) -> None:
    """Index (rowid, title, text) chunks: their postings, lengths, term counts and the corpus totals (inside
    the writer's transaction, after the chunks are inserted)."""
    if not chunks:
        return
    tokens = chunk_terms(chunks)
    counts: Counter[str] = Counter()
    with conn.cursor() as cur:
        with cur.copy("COPY bm25_postings (term, chunk, title_tf, text_tf, length, title_pos, text_pos) "
                      "FROM STDIN") as copy:
            for rowid, terms in tokens.items():
                length = terms.title_len + terms.text_len
                for term, (title, text) in terms.positions.items():
                    copy.write_row((term, rowid, len(title), len(text), length, title, text))
                counts.update(terms.positions.keys())
        with cur.copy("COPY bm25_chunks (chunk, title_len, text_len, terms) FROM STDIN") as copy:
            for rowid, terms in tokens.items():
                copy.write_row((rowid, terms.title_len, terms.text_len, list(terms.positions)))
        _add_term_counts(cur, counts)
        # one statistics row: writers take turns on it until they commit (the index has one writer at a time)
        cur.execute("UPDATE bm25_stats SET chunks = chunks + %s, title_tokens = title_tokens + %s, "
                    "text_tokens = text_tokens + %s",
                    (len(tokens), sum(t.title_len for t in tokens.values()),
                     sum(t.text_len for t in tokens.values())))


def delete_chunk_terms(conn, rowids: list[int]) -> None:
    """Remove chunks' postings and take them out of the term counts and totals (before the chunks go)."""
    if not rowids:
        return
    with conn.cursor() as cur:
        gone = cur.execute("DELETE FROM bm25_chunks WHERE chunk = ANY(%s) RETURNING chunk, title_len, text_len, terms",
                           (list(rowids),)).fetchall()
        if not gone:
            return
        pairs = [(term, chunk) for chunk, _, _, terms in gone for term in terms]
        cur.execute("DELETE FROM bm25_postings p USING unnest(%s::text[], %s::bigint[]) AS d(term, chunk) "
                    "WHERE p.term = d.term AND p.chunk = d.chunk", ([t for t, _ in pairs], [c for _, c in pairs]))
        lost = Counter(t for t, _ in pairs)
        _add_term_counts(cur, Counter({t: -n for t, n in lost.items()}))
        cur.execute("DELETE FROM bm25_terms WHERE term = ANY(%s) AND chunks <= 0", (sorted(lost),))
        cur.execute("UPDATE bm25_stats SET chunks = chunks - %s, title_tokens = title_tokens - %s, "
                    "text_tokens = text_tokens - %s",
                    (len(gone), sum(r[1] for r in gone), sum(r[2] for r in gone)))


def _add_term_counts(cur, counts: Counter[str]) -> None:
    # terms in sorted order: two writers lock the rows they share in the same order and never deadlock
    terms = sorted(counts)
    cur.execute("INSERT INTO bm25_terms AS t (term, chunks) SELECT * FROM unnest(%s::text[], %s::integer[]) "
                "ON CONFLICT (term) DO UPDATE SET chunks = t.chunks + excluded.chunks",
                (terms, [counts[t] for t in terms]))


def window_condition(where: ChunkFilter) -> tuple[str, list]:
    """A condition on the articles table (as ``a``) and its parameters: ``ChunkFilter.admits`` in SQL."""
    clauses, params = ["TRUE"], []
    if where.since_ts is not None:
        clauses.append("a.published_ts >= %s")
        params.append(where.since_ts)
    if where.until_ts is not None:
        clauses.append("(a.published_ts IS NULL OR a.published_ts <= %s)")
        params.append(where.until_ts)
    if where.sources:
        clauses.append("a.source = ANY(%s)")
        params.append(list(where.sources))
    return " AND ".join(clauses), params


def phrase_hits(tokens: tuple[str, ...]) -> tuple[str, list]:
    """SQL for (chunk, ttf, xtf, length, n) of every chunk holding the phrase of several ``tokens`` (n: how
    many chunks do), and its parameters.

    FTS5 matches a phrase where its tokens stand adjacent in one column. The chunks holding every token in
    a common column come from the index alone, and only for those are the positions read, one lookup per
    token (OFFSET 0 keeps the lookups per candidate: reading a whole common term's positions costs more)."""
    rest = range(1, len(tokens))
    joins = " ".join(f"JOIN bm25_postings p{j} ON p{j}.term = %s AND p{j}.chunk = p0.chunk" for j in rest)
    same_column = " OR ".join("(" + " AND ".join(f"p{j}.{tf} > 0" for j in range(len(tokens))) + ")"
                              for tf in ("title_tf", "text_tf"))
    lookups = " ".join(f"CROSS JOIN LATERAL (SELECT title_pos, text_pos FROM bm25_postings q WHERE q.term = %s "
                       f"AND q.chunk = c.chunk OFFSET 0) q{j}" for j in range(len(tokens)))

    def adjacent(column: str) -> str:
        follows = " AND ".join(f"x + {j} = ANY(q{j}.{column})" for j in rest)
        return f"(SELECT count(*) FROM unnest(q0.{column}) x WHERE {follows})::integer"

    sql = (f"SELECT chunk, ttf, xtf, length, (count(*) OVER ())::float8 AS n FROM ("
           f"SELECT c.chunk, c.length, {adjacent('title_pos')} AS ttf, {adjacent('text_pos')} AS xtf FROM ("
           f"SELECT p0.chunk, p0.length FROM bm25_postings p0 {joins} WHERE p0.term = %s AND ({same_column})"
           f") c {lookups}) m WHERE ttf + xtf > 0")
    return sql, [*tokens[1:], tokens[0], *tokens]


def _idf(n: str) -> str:
    """FTS5's IDF of a phrase in ``n`` chunks (SQL on ``s``, the statistics row), 1e-6 where it is <= 0."""
    v = f"ln((s.chunks::float8 - {n} + 0.5::float8) / ({n} + 0.5::float8))"
    return f"CASE WHEN {v} <= 0 THEN 1e-6::float8 ELSE {v} END"


def phrase_scored(tokens: tuple[str, ...]) -> tuple[str, list]:
    """SQL for (chunk, ttf, xtf, length, idf) of every chunk holding the phrase ``tokens``, and its
    parameters. A single token's IDF is an uncorrelated subquery, which PostgreSQL evaluates once, not per
    posting."""
    if len(tokens) == 1:
        idf = f"(SELECT {_idf('t.chunks')} FROM bm25_stats s, bm25_terms t WHERE t.term = %s)"
        return (f"SELECT chunk, title_tf AS ttf, text_tf AS xtf, length, {idf} AS idf FROM bm25_postings "
                "WHERE term = %s", [tokens[0], tokens[0]])
    sql, params = phrase_hits(tokens)
    return f"SELECT h.chunk, h.ttf, h.xtf, h.length, {_idf('h.n')} AS idf FROM ({sql}) h, bm25_stats s", params


def ranked_sql(terms: tuple[str, ...], title_weight: float) -> tuple[str, list] | None:
    """``SELECT chunk, score``: every chunk matching any term with its BM25 score (higher is better), and
    the parameters; None when no term has a token.

    The postings stream into the sum, nothing is materialized. Floating-point addition depends on its
    order, and PostgreSQL may group a chunk's postings in any order: two chunks of the same text (wire
    copies) would then differ in the last bit and rank apart, where FTS5 (which adds in phrase order)
    ties them and ranks by rowid. So each phrase's part is rounded to a multiple of 2^-40 (``_GRID``) and
    the sum is of whole numbers of that unit, exact in any order (a score stays far below 2^13); a score
    then differs from FTS5's by under 1e-11."""
    parts, params = [], []
    for term in terms:
        tokens = phrase_tokens(term)
        if tokens:
            sql, part_params = phrase_scored(tokens)
            parts.append(sql)
            params.extend(part_params)
    if not parts:
        return None
    sql = (
        f"SELECT h.chunk, sum(round({_GRID}::float8 * h.idf * ((f * (%s::float8 + 1.0::float8)) "
        f"/ (f + %s::float8 * (1.0::float8 - %s::float8 + %s::float8 * h.length / st.avgdl))))) / {_GRID}::float8 "
        "AS score "
        f"FROM ({' UNION ALL '.join(parts)}) h CROSS JOIN (SELECT "
        "(title_tokens + text_tokens)::float8 / greatest(chunks, 1) AS avgdl FROM bm25_stats) st, "
        "LATERAL (SELECT %s::float8 * h.ttf + h.xtf AS f) ff GROUP BY h.chunk"
    )
    return sql, [K1, K1, B, B, *params, title_weight]


class PostgresSearchRows:
    """Keyword search and window sizes (mixed into the PostgreSQL catalog, whose ``connection()`` yields a
    psycopg connection on the catalog's schema)."""

    def connection(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def window_chunk_count(self, where: ChunkFilter) -> int:
        """How many chunks ``where`` admits, from the articles table alone (its ``n_chunks``: cheap)."""
        condition, params = window_condition(where)
        with self.connection() as conn:
            return int(conn.execute(f"SELECT coalesce(sum(n_chunks), 0) FROM articles a WHERE {condition}",
                                    params).fetchone()[0])

    def term_document_counts(self, terms: list[str]) -> dict[str, int]:
        """How many chunks contain each term (a phrase of several tokens: where they stand adjacent)."""
        phrases = {term: phrase_tokens(term) for term in terms}
        singles = sorted({tokens[0] for tokens in phrases.values() if len(tokens) == 1})
        out: dict[str, int] = {}
        with self.connection() as conn:
            chunks = dict(conn.execute("SELECT term, chunks FROM bm25_terms WHERE term = ANY(%s)",
                                       (singles,)).fetchall()) if singles else {}
            for term, tokens in phrases.items():
                if len(tokens) > 1:
                    sql, params = phrase_hits(tokens)
                    out[term] = int(conn.execute(f"SELECT count(*) FROM ({sql}) h", params).fetchone()[0])
                else:
                    out[term] = int(chunks.get(tokens[0], 0)) if tokens else 0
        return out

    def bm25(self, query: Bm25Query) -> list[tuple[str, float]]:
        """(chunk id, BM25 score, higher is better) of the ``query.limit`` best chunks matching any term;
        equal scores in rowid order, as FTS5 ranks them."""
        ranked = ranked_sql(query.terms, query.title_weight) if query.terms else None
        if ranked is None:
            return []
        sql, params = ranked
        with self.connection() as conn:
            if query.where is None or not query.where.narrows:
                # rank first, then look up the few winners' ids
                rows = conn.execute(f"SELECT c.id, r.score FROM ({sql} ORDER BY score DESC, chunk LIMIT %s) r "
                                    "JOIN chunks c ON c.rowid = r.chunk ORDER BY r.score DESC, r.chunk",
                                    [*params, query.limit]).fetchall()
                return [(r[0], float(r[1])) for r in rows]
            condition, window = window_condition(query.where)
            if query.window_share >= query.broad_window_share:
                # a broad window: most of the first ranks pass it, so check the window for those alone
                wanted = min(int(query.limit / query.window_share * 1.5) + query.limit, query.broad_window_ranks)
                rows = conn.execute(
                    f"SELECT c.id, r.score, coalesce({condition}, FALSE) FROM ({sql} ORDER BY score DESC, chunk "
                    "LIMIT %s) r LEFT JOIN chunks c ON c.rowid = r.chunk LEFT JOIN articles a ON a.id = c.article_id "
                    "ORDER BY r.score DESC, r.chunk", [*window, *params, wanted]).fetchall()
                found = [(r[0], float(r[1])) for r in rows if r[2] and r[0] is not None][:query.limit]
                if len(found) >= query.limit or len(rows) < wanted:
                    return found
            # a narrow window (or too few of it in the first ranks): the window's chunks first (from the
            # articles' date index), then every match's score is looked up in them
            rows = conn.execute(
                "WITH win AS MATERIALIZED (SELECT c.rowid, c.id FROM articles a JOIN chunks c ON c.article_id = a.id "
                f"WHERE {condition}) SELECT win.id, r.score FROM ({sql}) r JOIN win ON win.rowid = r.chunk "
                "ORDER BY r.score DESC, r.chunk LIMIT %s", [*window, *params, query.limit]).fetchall()
            return [(r[0], float(r[1])) for r in rows]
