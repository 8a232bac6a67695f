"""newsdesk's one error family: every failure a person can act on is a ``NewsdeskError``.

Each error's message is one sentence that says what happened and what to do; the faces (CLI, app,
evaluation harness) print it as it is, with no traceback. Anything else that escapes is a bug.
"""

from __future__ import annotations


class NewsdeskError(RuntimeError):
    """The base of every error newsdesk shows to people; ``str(error)`` is the user message."""


class BadInput(NewsdeskError, ValueError):
    """A value given by a person (a date, an upload, a suite file, a path) cannot be used."""


class BadUpload(BadInput):
    """An upload or pasted article that cannot be accepted (name, type or size)."""


class NotFound(BadInput):
    """A story, article or other thing asked for by its id is not in the index."""


class IndexBusy(NewsdeskError):
    """Another process is writing to the same index."""


class LockLost(IndexBusy):
    """The writer's lock ended with its PostgreSQL connection: the writer stopped before writing more."""


class IndexEmpty(NewsdeskError):
    """Nothing has been indexed yet."""


class StoreUnavailable(NewsdeskError):
    """Chroma could not be reached or opened, or refused a read or a write."""


class CatalogUnavailable(StoreUnavailable):
    """The catalog's PostgreSQL server could not be reached; a question after it is back is answered again."""


class DiskFull(NewsdeskError):
    """The disk under NEWSDESK_HOME, or the catalog's PostgreSQL server's (SQLSTATE 53100), is full; nothing already
    indexed was lost."""


class EmbedderMismatch(NewsdeskError):
    """The collection was built with another embedder than the one configured."""


class RunInProgress(NewsdeskError):
    """An evaluation run folder is being written by another live process or session."""


class LLMError(NewsdeskError):
    """The LLM endpoint could not give an answer."""


class LocalModelError(LLMError):
    """A local model is missing, incomplete or corrupt; the message says what to run."""


__all__ = ["NewsdeskError", "BadInput", "BadUpload", "IndexBusy", "LockLost", "RunInProgress", "IndexEmpty",
           "StoreUnavailable", "CatalogUnavailable", "DiskFull", "EmbedderMismatch", "LLMError", "LocalModelError"]
