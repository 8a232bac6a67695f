"""api/errors.py: an error's type is its class name in snake case, an acronym read as one word."""

from api.errors import error_type
from errors import EmbedderMismatch, LLMError, LocalModelError, StoreUnavailable


def test_error_types_read_acronyms_as_one_word():
    assert error_type(LLMError("x")) == "llm_error"
    assert error_type(LocalModelError("x")) == "local_model_error"
    assert error_type(StoreUnavailable("x")) == "store_unavailable"
    assert error_type(EmbedderMismatch("x")) == "embedder_mismatch"
