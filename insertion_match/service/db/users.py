"""Web accounts: coaches and managers who sign in to the web app with e-mail and password.

A user carries the same role and territory grants as an API key (``service/auth.py``); the web
app turns a signed-in user into the same :class:`~insertion_match.service.auth.Principal`, so
pages and API apply one set of rules. Only an argon2id hash of the password is stored.

ProConnect (OpenID Connect) will plug in beside the password: a user found by the ``sub`` and
e-mail the identity provider returns, ``password_hash`` then left empty (see
``service/web/pages_auth.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import JSON, CursorResult, DateTime, Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from insertion_match.service.db.base import Base, transaction

_hasher = PasswordHasher()


@cache
def dummy_hash() -> str:
    """Verified against when the e-mail is unknown, so both answers take the same time. Made
    once per process, on first use (an argon2 hash costs about 0.1 s: not at import, which
    every CLI command pays); the web app makes it when it is set up (``web/context.py``),
    so the first unknown address is not slower than the others."""
    return _hasher.hash("insertion-match: no such user")


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    role: Mapped[str] = mapped_column(String(20))
    territories: Mapped[list] = mapped_column(JSON)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Sessions begun before this instant are over (sign-out, new password): a stolen cookie
    #: dies with them, although sessions live in signed cookies.
    sessions_end_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserExists(ValueError):
    """An account with this e-mail already exists."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(factory: sessionmaker[Session], email: str, role: str,
                territories: Sequence[str], password: str) -> UserRow:
    """Store a new account (role and territories validated by the caller)."""
    email = normalise_email(email)
    with transaction(factory) as session:
        if session.scalars(select(UserRow).where(UserRow.email == email)).first() is not None:
            raise UserExists(email)
        row = UserRow(email=email, role=role, territories=list(territories),
                      password_hash=_hasher.hash(password), created_at=datetime.now(UTC),
                      disabled_at=None)
        session.add(row)
        session.flush()
        return row


def set_password(factory: sessionmaker[Session], email: str, password: str) -> bool:
    """New password; every open session of the account ends."""
    with transaction(factory) as session:
        result = session.execute(update(UserRow).where(UserRow.email == normalise_email(email))
                                 .values(password_hash=_hasher.hash(password),
                                         sessions_end_before=datetime.now(UTC)))
        return bool(cast("CursorResult[Any]", result).rowcount)


def end_sessions(factory: sessionmaker[Session], user_id: int) -> None:
    """Sign-out: every session of the account begun until now is over."""
    with transaction(factory) as session:
        session.execute(update(UserRow).where(UserRow.id == user_id)
                        .values(sessions_end_before=datetime.now(UTC)))


def session_ended(row: UserRow, started: float) -> bool:
    """Whether a session begun at ``started`` (epoch seconds) was ended since."""
    end = row.sessions_end_before
    if end is None:
        return False
    if end.tzinfo is None:  # SQLite gives naive datetimes back
        end = end.replace(tzinfo=UTC)
    return started <= end.timestamp()


def disable_user(factory: sessionmaker[Session], email: str) -> bool:
    with transaction(factory) as session:
        result = session.execute(
            update(UserRow).where(UserRow.email == normalise_email(email),
                                  UserRow.disabled_at.is_(None))
            .values(disabled_at=datetime.now(UTC)))
        return bool(cast("CursorResult[Any]", result).rowcount)


def get_user(factory: sessionmaker[Session], user_id: int) -> UserRow | None:
    """The active account of that id, or None (unknown or disabled)."""
    with factory() as session:
        row = session.get(UserRow, user_id)
    return row if row is not None and row.disabled_at is None else None


def list_users(factory: sessionmaker[Session]) -> list[UserRow]:
    with factory() as session:
        return list(session.scalars(select(UserRow).order_by(UserRow.id)))


def verify_user(factory: sessionmaker[Session], email: str, password: str) -> UserRow | None:
    """The active account if ``password`` is its password, else None (same cost either way)."""
    with factory() as session:
        row = session.scalars(select(UserRow)
                              .where(UserRow.email == normalise_email(email))).first()
    stored = row.password_hash if row is not None and row.password_hash else dummy_hash()
    try:
        _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled_at is not None or not row.password_hash:
        return None
    return row
