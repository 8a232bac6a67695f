import tiktoken

from index.types import Article
from index.chunker import ArticleChunker
from ingest.loaders import ArticleLoader


def test_chunks_cover_the_text_with_exact_offsets(gold_file):
    chunker = ArticleChunker(224, 32)
    articles = ArticleLoader().load(gold_file, gold_file.name).articles[:40]
    encoding = tiktoken.get_encoding("cl100k_base")
    for article in articles:
        chunks = chunker.chunk(article)
        assert chunks, article.id
        assert [c.position for c in chunks] == list(range(len(chunks)))
        for chunk in chunks:
            assert article.text[chunk.start:chunk.end] == chunk.text
            assert len(encoding.encode(chunk.text)) <= 224
        assert chunks[0].start <= 5 and chunks[-1].end >= len(article.text.rstrip()) - 5
        for a, b in zip(chunks, chunks[1:]):  # overlapping, or separated by white space only: no text lost
            assert b.start > a.start and (b.start <= a.end or not article.text[a.end:b.start].strip())


def test_chunks_end_on_sentence_boundaries():
    sentences = [f"Sentence number {i} tells a small story about the harbour." for i in range(80)]
    article = Article(id="a", text=" ".join(sentences), path="x")
    chunks = ArticleChunker(64, 8).chunk(article)
    assert len(chunks) > 3
    assert all(c.text.endswith(".") for c in chunks)


def test_ids_are_stable_and_change_only_with_content():
    text = "\n\n".join(f"Paragraph {i}. " + "The council met and voted on the budget. " * 6 for i in range(12))
    chunker = ArticleChunker(64, 8)
    first = chunker.chunk(Article(id="a", text=text, path="x", title="T"))
    again = chunker.chunk(Article(id="a", text=text, path="x", title="T"))
    assert [c.id for c in first] == [c.id for c in again]
    edited = text.replace("Paragraph 11.", "Paragraph eleven.")
    changed = chunker.chunk(Article(id="a", text=edited, path="x", title="T"))
    kept = {c.id for c in first} & {c.id for c in changed}
    assert 0 < len(kept) < len(first)  # the untouched chunks keep their ids (and their vectors)
    retitled = chunker.chunk(Article(id="a", text=text, path="x", title="New title"))
    assert not {c.id for c in first} & {c.id for c in retitled}  # the title is embedded with every chunk
