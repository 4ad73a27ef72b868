"""API keys: who may call the service, with which role and on which territories.

A key reads ``im_<key_id>_<secret>``. Only ``key_id`` (public: it names the key in lists and
audit rows), a per-key random salt and ``sha256(salt ‖ secret)`` are stored: the key itself is
shown once, at creation, and cannot be recovered. The secret has 256 bits of entropy, so a
salted SHA-256 is enough (no slow KDF needed) and keeps authentication cheap on every request.

**Cache** (issue 11): :class:`ApiKeyCache` keeps the active keys a process has verified for
``ttl`` seconds (``IM_API_KEY_CACHE_SECONDS``), so a request does not read the database to
authenticate. Revocation is immediate in the process that revokes (:func:`revoke_api_key`
empties every cache of the process) and effective everywhere else (the CLI, other workers)
within ``ttl``. Only verified, active keys are cached (never a failure); each hit checks the
secret against the cached salted digest, in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import JSON, CursorResult, DateTime, Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from insertion_match.service.db.base import Base, transaction

KEY_PREFIX = "im"


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    territories: Mapped[list] = mapped_column(JSON)
    salt: Mapped[str] = mapped_column(String(32))
    secret_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class NewKey:
    key_id: str
    key: str  # the only time the full key exists


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode()).hexdigest()


def create_api_key(
    factory: sessionmaker[Session], name: str, role: str, territories: Sequence[str]
) -> NewKey:
    """Store a new key (role and territories are validated by the caller) and return it."""
    key_id, secret, salt = secrets.token_hex(6), secrets.token_urlsafe(32), secrets.token_hex(16)
    with transaction(factory) as session:
        session.add(ApiKeyRow(
            key_id=key_id, name=name[:120], role=role, territories=list(territories), salt=salt,
            secret_sha256=_digest(salt, secret), created_at=datetime.now(UTC), revoked_at=None,
        ))
    return NewKey(key_id=key_id, key=f"{KEY_PREFIX}_{key_id}_{secret}")


def split_key(key: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed key, else None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 12 or not parts[2]:
        return None
    return parts[1], parts[2]


def verify_api_key(factory: sessionmaker[Session], key: str) -> ApiKeyRow | None:
    """The active key row matching ``key``, or None (malformed, unknown, revoked or wrong)."""
    parts = split_key(key)
    if parts is None:
        return None
    key_id, secret = parts
    with factory() as session:
        row = session.scalars(select(ApiKeyRow).where(ApiKeyRow.key_id == key_id)).first()
    if row is None or row.revoked_at is not None:
        return None
    return row if hmac.compare_digest(row.secret_sha256, _digest(row.salt, secret)) else None


#: Every live cache of this process, emptied of a key when it is revoked here.
_CACHES: weakref.WeakSet[ApiKeyCache] = weakref.WeakSet()


class ApiKeyCache:
    """Verified active keys of one process, each kept ``ttl`` seconds: key id → (salt,
    digest, value, expiry). ``value`` is what the caller derives from the row (a Principal),
    built once per ``ttl``. ``ttl`` 0 disables the cache. At most ``max_keys`` entries."""

    def __init__(self, ttl: float, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.max_keys, self.clock = ttl, max_keys, clock
        self._entries: dict[str, tuple[str, str, object, float]] = {}
        self._lock = threading.Lock()
        _CACHES.add(self)

    def get(self, key: str) -> object | None:
        """The cached value of ``key`` if its id is cached, unexpired, and the secret matches."""
        parts = split_key(key)
        if parts is None:
            return None
        entry = self._entries.get(parts[0])
        if entry is None:
            return None
        salt, digest, value, expires = entry
        if self.clock() >= expires:
            with self._lock:
                if self._entries.get(parts[0]) is entry:
                    del self._entries[parts[0]]
            return None
        return value if hmac.compare_digest(digest, _digest(salt, parts[1])) else None

    def put(self, row: ApiKeyRow, value: object) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._entries) >= self.max_keys:
                self._entries.pop(next(iter(self._entries)))
            self._entries[row.key_id] = (row.salt, row.secret_sha256, value,
                                         self.clock() + self.ttl)

    def forget(self, key_id: str) -> None:
        with self._lock:
            self._entries.pop(key_id, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def revoke_api_key(factory: sessionmaker[Session], key_id: str) -> bool:
    """Revoke the key; False when no active key has that id."""
    with transaction(factory) as session:
        result = session.execute(
            update(ApiKeyRow).where(ApiKeyRow.key_id == key_id, ApiKeyRow.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
        revoked = bool(cast("CursorResult[Any]", result).rowcount)  # an UPDATE's result
    for cache in list(_CACHES):  # immediate in this process; elsewhere within the TTL
        cache.forget(key_id)
    return revoked


def list_api_keys(factory: sessionmaker[Session]) -> list[ApiKeyRow]:
    with factory() as session:
        return list(session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id)))
