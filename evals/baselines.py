"""The peers newsdesk is measured against, on the same corpus and questions.

- ``LlamaIndexStarter``: the llama-index starter pipeline, ``VectorStoreIndex`` over Chroma with the
  default splitter (1024-token chunks) and the same packaged MiniLM embedder.
- ``BM25Alone``: newsdesk's own BM25 (SQLite FTS5) over the same chunks, no dense half, no dates.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from index.catalog import Catalog
from ingest.dates import parse_date
from index.embedders import MiniLMEmbedder
from ingest.loaders import ArticleLoader
from index.search import Bm25Search
from rag.text import query_terms
from rag.types import Evidence, first_per_article
from settings import RetrievalSettings


def _llama_embedding(embedder: MiniLMEmbedder):
    from llama_index.core.embeddings import BaseEmbedding

    class PackagedMiniLM(BaseEmbedding):
        """llama-index adapter for the packaged ONNX MiniLM (same model as newsdesk)."""

        def _get_query_embedding(self, query: str) -> list[float]:
            return embedder.embed([query])[0].tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return embedder.embed([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed(texts).tolist()

    return PackagedMiniLM(model_name="minilm-l6-v2-int8", embed_batch_size=64)  # sets speed only (a choice)


class LlamaIndexStarter:
    """The llama-index starter pipeline over its own Chroma collection in ``folder``."""

    def __init__(self, folder: Path, embedder: MiniLMEmbedder) -> None:
        import chromadb
        from llama_index.core import StorageContext, VectorStoreIndex
        from llama_index.vector_stores.chroma import ChromaVectorStore

        self.folder = folder
        self.embed_model = _llama_embedding(embedder)
        client = chromadb.PersistentClient(path=str(folder / "chroma"), settings=chromadb.Settings(anonymized_telemetry=False))
        self.collection = client.get_or_create_collection("starter", embedding_function=None)
        self.vector_store = ChromaVectorStore(chroma_collection=self.collection)
        self.storage = StorageContext.from_defaults(vector_store=self.vector_store)
        self.index = VectorStoreIndex.from_vector_store(self.vector_store, embed_model=self.embed_model)
        self._VectorStoreIndex = VectorStoreIndex

    def build(self, corpus: list[Path]) -> dict:
        """Index the corpus files once (kept in ``folder``); a second call with the same files does nothing."""
        from llama_index.core import Document

        stamp = self.folder / "built.json"
        key = {"corpus": [str(p.resolve()) for p in corpus], "size": [p.stat().st_size for p in corpus]}
        if stamp.exists() and json.loads(stamp.read_text()).get("key") == key:
            return json.loads(stamp.read_text())["stats"]
        stale = self.collection.get(include=[])["ids"]  # a build that did not finish: start again from empty
        for start in range(0, len(stale), 4000):
            self.collection.delete(ids=stale[start:start + 4000])
        articles = [a for path in corpus for a in ArticleLoader().load(path, path.name).articles]
        seen: set[str] = set()
        documents = []
        for a in articles:
            if a.id in seen:
                continue
            seen.add(a.id)
            documents.append(Document(text=a.text, metadata={"article_id": a.id, "title": a.display_title},
                                      excluded_embed_metadata_keys=["article_id"], excluded_llm_metadata_keys=["article_id"]))
        started = time.perf_counter()
        self.index = self._VectorStoreIndex.from_documents(documents, storage_context=self.storage,
                                                           embed_model=self.embed_model, show_progress=True)
        stats = {"articles": len(documents), "chunks": self.collection.count(),
                 "index_seconds": round(time.perf_counter() - started, 1)}
        stamp.write_text(json.dumps({"key": key, "stats": stats}))
        return stats

    def retrieve(self, question: str, k: int = 10) -> list[str]:
        # 3 chunks an article on average is enough for k distinct articles (a choice, commit f4e2871)
        return [e.article_id for e in first_per_article(self.evidence(question, k * 3), k)]

    def evidence(self, question: str, k: int = 30) -> list[Evidence]:
        nodes = self.index.as_retriever(similarity_top_k=k).retrieve(question)
        out = []
        for n in nodes:
            start = n.node.start_char_idx or 0
            out.append(Evidence(chunk_id=n.node.node_id, article_id=n.node.metadata["article_id"],
                                title=n.node.metadata.get("title", ""), source=None, url=None, published_at=None,
                                text=n.node.get_content(), start=start, end=start + len(n.node.get_content()),
                                score=float(n.score or 0.0)))
        return out


class BM25Alone:
    """newsdesk's BM25 over the catalog's chunks, alone."""

    def __init__(self, catalog: Catalog, config: RetrievalSettings) -> None:
        self.catalog = catalog
        self.bm25 = Bm25Search(catalog, config)

    def retrieve(self, question: str, k: int = 10) -> list[str]:
        # BM25 ranks many chunks of one article together (its title is in each): 5 an article (a choice,
        # commit f4e2871)
        return [e.article_id for e in first_per_article(self.evidence(question, k * 5), k)]

    def evidence(self, question: str, k: int = 30) -> list[Evidence]:
        hits = self.bm25.search(query_terms(question), k)
        records = self.catalog.chunk_records([cid for cid, _ in hits])
        out = []
        for cid, score in hits:
            r = records.get(cid)
            if r:
                out.append(Evidence(chunk_id=cid, article_id=r.article_id, title=r.title or "", source=r.source,
                                    url=r.url, published_at=parse_date(r.published_at), text=r.text,
                                    start=r.start, end=r.end, score=score))
        return out
