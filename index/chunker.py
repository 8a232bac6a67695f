"""Sentence-aware chunks counted in tiktoken tokens, each with its exact span in the article text."""

from __future__ import annotations

import hashlib
from collections import Counter

from index.types import Article, Chunk


class ArticleChunker:
    """Splits an article's text with llama-index's ``SentenceSplitter``, which also gives each chunk's span.

    A chunk's id is the article id and a hash of what its vector is made from (``embedding_text``) and
    of how many identical chunks came before it in the article; not of its position. Re-indexing
    unchanged content gives the same ids, and a changed article keeps the ids (and vectors) of every
    chunk whose text did not change, wherever the change was.
    """

    def __init__(self, chunk_size: int = 256, chunk_overlap: int = 32) -> None:
        from llama_index.core.node_parser import SentenceSplitter

        self.splitter = SentenceSplitter(
            chunk_size=chunk_size,
            chunk_overlap=min(chunk_overlap, chunk_size // 2),
            paragraph_separator="\n\n",
            include_metadata=False,
            include_prev_next_rel=False,
        )

    def chunk(self, article: Article) -> list[Chunk]:
        from llama_index.core.schema import Document

        text, title = article.text, article.display_title
        chunks: list[Chunk] = []
        seen: Counter[str] = Counter()
        for node in self.splitter.get_nodes_from_documents([Document(text=text)]):
            if node.start_char_idx is not None:  # the splitter found its (stripped) chunk verbatim in the text
                start, end = node.start_char_idx, node.end_char_idx
            else:
                previous = chunks[-1].start + 1 if chunks else 0
                start, end = _locate_by_words(text, node.get_content(), previous)
            span = text[start:end]
            occurrence = seen[span]
            seen[span] += 1
            key = f"{occurrence}\x1f{embedding_text(title, span)}"
            digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
            chunks.append(Chunk(f"{article.id}-{digest}", article.id, len(chunks), start, end, span))
        return chunks


def embedding_text(title: str, chunk_text: str) -> str:
    """What a chunk's vector is made from: its article's display title, then the chunk."""
    return f"{title}\n{chunk_text}"


def _locate_by_words(text: str, piece: str, cursor: int) -> tuple[int, int]:
    """Span from the first to the last word of ``piece`` when the splitter did not find it verbatim
    (it normalised something): the span is then the article's own text, not the splitter's."""
    words = piece.split()
    start = text.find(words[0], cursor)
    if start < 0:
        start = max(0, cursor)
    end = text.find(words[-1], start)
    end = len(text) if end < 0 else end + len(words[-1])
    return start, end
