import numpy as np

from index.embedders import MiniLMEmbedder


def test_packaged_minilm_embeds_meaningfully(embedder):
    vectors = embedder.embed([
        "North Korea fired two ballistic missiles toward the Sea of Japan.",
        "Pyongyang launched missiles into waters off Japan, officials said.",
        "Spirit and Frontier airlines announced a merger worth $6.6 billion.",
    ])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > 0.6 > similarity[0, 2] + 0.3


def test_length_sorted_batching_keeps_input_order(embedder):
    texts = ["short", "a much longer sentence about a court ruling on tariffs " * 5, "medium length text here"]
    together = embedder.embed(texts)
    alone = np.vstack([embedder.embed([t]) for t in texts])
    assert np.allclose(together, alone, atol=2e-3)


def test_long_texts_are_truncated_not_rejected(embedder):
    vector = embedder.embed(["word " * 2000])
    assert vector.shape == (1, 384) and np.isfinite(vector).all()
    assert embedder.count_tokens("word " * 2000) > MiniLMEmbedder.max_tokens


def test_empty_input():
    assert MiniLMEmbedder().embed([]).shape == (0, 384)
