"""API keys: who may call the service, with which role and on which territories.

A key reads ``im_<key_id>_<secret>``. Only ``key_id`` (public: it names the key in lists and
audit rows), a per-key random salt and ``sha256(salt ‖ secret)`` are stored: the key itself is
shown once, at creation, and cannot be recovered. The secret has 256 bits of entropy, so a
salted SHA-256 is enough (no slow KDF needed) and keeps authentication cheap on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, Integer, String, select, update
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


def verify_api_key(factory: sessionmaker[Session], key: str) -> ApiKeyRow | None:
    """The active key row matching ``key``, or None (malformed, unknown, revoked or wrong)."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 12 or not parts[2]:
        return None
    _, key_id, secret = parts
    with factory() as session:
        row = session.scalars(select(ApiKeyRow).where(ApiKeyRow.key_id == key_id)).first()
    if row is None or row.revoked_at is not None:
        return None
    return row if hmac.compare_digest(row.secret_sha256, _digest(row.salt, secret)) else None


def revoke_api_key(factory: sessionmaker[Session], key_id: str) -> bool:
    """Revoke the key; False when no active key has that id."""
    with transaction(factory) as session:
        result = session.execute(
            update(ApiKeyRow).where(ApiKeyRow.key_id == key_id, ApiKeyRow.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
        return bool(result.rowcount)


def list_api_keys(factory: sessionmaker[Session]) -> list[ApiKeyRow]:
    with factory() as session:
        return list(session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id)))
