"""API keys: created once (shown once), stored hashed under NEWSDESK_HOME, checked on every request.

A key is 32 random bytes (``secrets.token_urlsafe``), so a salted SHA-256 is enough to store it: there
is nothing to guess that a slow hash would protect (slow hashes are for passwords people choose). The
file is re-read when it changes, so ``newsdesk keys revoke`` takes effect on a running server.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from errors import BadInput

KEY_PREFIX = "nd-"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass(frozen=True)
class ApiKey:
    """One key as stored: never the key itself, only its salted hash."""

    name: str
    salt: str
    digest: str
    read_only: bool
    created: str
    revoked: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked is None

    def public(self) -> dict:
        """What ``keys list`` shows: no salt, no digest."""
        return {"name": self.name, "read_only": self.read_only, "created": self.created, "revoked": self.revoked}


def _digest(salt: str, key: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + key.encode("utf-8")).hexdigest()


class KeyStore:
    """``NEWSDESK_HOME/api-keys.json``: create, list, revoke and check keys."""

    def __init__(self, home: Path) -> None:
        self.path = Path(home) / "api-keys.json"
        self._lock = threading.Lock()
        self._seen: tuple[float, int] | None = None
        self._keys: list[ApiKey] = []

    def _load(self) -> list[ApiKey]:
        with self._lock:
            try:
                stat = self.path.stat()
            except FileNotFoundError:
                self._seen, self._keys = None, []
                return []
            mark = (stat.st_mtime, stat.st_size)
            if mark != self._seen:
                data = json.loads(self.path.read_text(encoding="utf-8") or "[]")
                self._keys = [ApiKey(**item) for item in data]
                self._seen = mark
            return list(self._keys)

    def _save(self, keys: list[ApiKey]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # hashes only, still private
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump([asdict(k) for k in keys], handle, indent=1)
        os.replace(temporary, self.path)

    def keys(self) -> list[ApiKey]:
        return self._load()

    def any_active(self) -> bool:
        return any(k.active for k in self._load())

    def configured(self) -> bool:
        """Whether keys are in use: once one was created, every request needs a valid one (revoking the
        last key does not open the server again)."""
        return bool(self._load())

    def create(self, name: str, read_only: bool = False) -> str:
        """Stores a new key and returns it: the only time it is ever seen."""
        if not _NAME.fullmatch(name or ""):
            raise BadInput("A key name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.")
        keys = self._load()
        if any(k.name == name and k.active for k in keys):
            raise BadInput(f"There is already an active key named '{name}': revoke it first or choose another name.")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        salt = secrets.token_hex(16)
        keys = [k for k in keys if k.name != name]  # a revoked key of that name is replaced
        created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        keys.append(ApiKey(name, salt, _digest(salt, key), read_only, created))
        self._save(keys)
        return key

    def revoke(self, name: str) -> None:
        keys = self._load()
        if not any(k.name == name and k.active for k in keys):
            raise BadInput(f"There is no active key named '{name}' (see `newsdesk keys list`).")
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self._save([ApiKey(**{**asdict(k), "revoked": now}) if k.name == name else k for k in keys])

    def check(self, key: str | None) -> ApiKey | None:
        """The active key this is, or None. Every stored hash is compared in constant time."""
        if not key:
            return None
        found = None
        for stored in self._load():
            if hmac.compare_digest(_digest(stored.salt, key), stored.digest) and stored.active:
                found = stored
        return found
