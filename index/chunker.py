"""Sentence-aware chunks counted in tiktoken tokens, each with its exact span in the article text."""

from __future__ import annotations

import hashlib

from index.article import Article, Chunk


class ArticleChunker:
    """Splits an article's text with llama-index's ``SentenceSplitter`` and locates every chunk.

    Chunk ids are derived from the article id, the chunk's position and a hash of the chunk text and
    the article metadata stored with it: re-indexing unchanged content gives the same ids, and a
    changed article keeps the ids (and embeddings) of its unchanged chunks.
    """

    def __init__(self, chunk_size: int = 256, chunk_overlap: int = 32) -> None:
        from llama_index.core.node_parser import SentenceSplitter

        self.splitter = SentenceSplitter(
            chunk_size=chunk_size,
            chunk_overlap=min(chunk_overlap, chunk_size // 2),
            paragraph_separator="\n\n",
        )

    def chunk(self, article: Article) -> list[Chunk]:
        text = article.text
        meta_key = "\x1f".join(
            [article.title or "", article.source or "", article.url or "",
             article.published_at.isoformat() if article.published_at else ""]
        )
        chunks: list[Chunk] = []
        cursor = 0
        for piece in self.splitter.split_text(text):
            piece = piece.strip()
            if not piece:
                continue
            start = text.find(piece, cursor)
            if start < 0:  # the splitter normalised something: fall back to a search from the top
                start = text.find(piece)
            if start < 0:
                start, end = _locate_by_words(text, piece, cursor)
            else:
                end = start + len(piece)
            span = text[start:end]
            position = len(chunks)
            digest = hashlib.sha256(f"{position}\x1f{span}\x1f{meta_key}".encode("utf-8")).hexdigest()[:16]
            chunks.append(Chunk(f"{article.id}-{digest}", article.id, position, start, end, span))
            cursor = start + 1
        return chunks


def _locate_by_words(text: str, piece: str, cursor: int) -> tuple[int, int]:
    """Span from the first to the last word of ``piece`` when the exact string is not in ``text``."""
    words = piece.split()
    start = text.find(words[0], cursor)
    if start < 0:
        start = max(0, cursor)
    end = text.find(words[-1], start)
    end = len(text) if end < 0 else end + len(words[-1])
    return start, end
