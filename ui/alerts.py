"""How failures reach the user: every error the user can cause or meet becomes one readable message.

``friendly_error`` turns an exception into plain text (callers escape it before showing);
``show_error`` shows it as one ``st.error`` and logs a traceback only for unexpected errors.
"""

from __future__ import annotations

import logging

import streamlit as st

from errors import CatalogUnavailable, IndexBusy, IndexEmpty, LLMError, NewsdeskError, StoreUnavailable
from ui.render import escape_md

log = logging.getLogger("newsdesk.app")

# errors that are the user's or the environment's, not bugs: no traceback in the log
EXPECTED_ERRORS = (NewsdeskError,)


def friendly_error(error: BaseException) -> str:
    """Plain text for the user (callers escape it before showing)."""
    message = str(error).strip() or error.__class__.__name__
    if isinstance(error, IndexEmpty):
        return "Nothing is indexed yet: add articles on the Library page."
    if isinstance(error, IndexBusy):
        return f"The index is being written by another process right now; try again when it ends. ({message})"
    if isinstance(error, CatalogUnavailable):  # its sentence names the catalog and says what to do
        return message[:1].upper() + message[1:]
    if isinstance(error, StoreUnavailable):
        return f"The vector store is unavailable: {message}"
    if isinstance(error, LLMError):
        return f"The language model could not answer: {message} Choose the extractive mode to answer offline."
    if isinstance(error, NewsdeskError):  # a bad input, a wrong embedder, a full disk: its own sentence
        return message
    if isinstance(error, OSError):
        return f"A file could not be read or written: {message}"
    return f"Something went wrong ({error.__class__.__name__}): {message}"


def show_error(error: BaseException) -> None:
    if not isinstance(error, EXPECTED_ERRORS):
        log.exception("newsdesk UI error", exc_info=error)
    st.error(escape_md(friendly_error(error)), icon=":material/error:")


def eval_error_text(error: BaseException) -> str:
    """Like ``friendly_error``, for the Evaluations page: a missing dataset or package says what to do."""
    if isinstance(error, FileNotFoundError):
        from evals.datasets import datasets_dir

        detail = error.filename or str(error)
        return (f"A file the suite needs is missing ({detail}). The datasets are read from {datasets_dir()}; "
                "set NEWSDESK_DATASETS to their folder.")
    if isinstance(error, ImportError):
        return f"A package the evaluation needs is not installed: {error}"
    return friendly_error(error)
