"""Failed web sign-ins, shared by every worker and server of the database.

The limit (at most N failed sign-ins per account and M per client address in a window) must
hold whatever worker answers: kept in each process's memory, it was N per worker. A failure is
one row per bucket ("e:" + address, "c:" + client), the bucket stored as an HMAC (a keyed
digest: neither the address nor the client appears in the table), rows older than the window
deleted as new ones come, and an account's rows deleted when it signs in.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from sqlalchemy import DateTime, Index, Integer, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from insertion_match.service.db.base import Base, transaction


class SignInFailureRow(Base):
    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_bucket_failed_at", "bucket", "failed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bucket: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class SignInLimiter:
    """At most ``per_account`` failed sign-ins per e-mail and ``per_client`` per client address
    in ``window_seconds``, counted in the database (every worker sees the same failures)."""

    def __init__(self, key: bytes, per_account: int = 5, per_client: int = 20,
                 window_seconds: float = 900.0) -> None:
        self._key = key
        self.per_account, self.per_client, self.window = per_account, per_client, window_seconds

    def _bucket(self, kind: str, value: str) -> str:
        return hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()

    def _buckets(self, email: str, client: str) -> list[tuple[str, int]]:
        return [(self._bucket("e", email), self.per_account),
                (self._bucket("c", client), self.per_client)]

    def retry_after(self, factory: sessionmaker[Session], email: str, client: str,
                    now: datetime | None = None) -> int:
        """Seconds to wait before trying again (0: allowed now)."""
        now = now or datetime.now(UTC)
        since = now - timedelta(seconds=self.window)
        buckets = self._buckets(email, client)
        with factory() as session:
            rows = session.execute(
                select(SignInFailureRow.bucket, SignInFailureRow.failed_at)
                .where(SignInFailureRow.bucket.in_([b for b, _ in buckets]),
                       SignInFailureRow.failed_at > since)
                .order_by(SignInFailureRow.failed_at)).all()
        waits = []
        for bucket, limit in buckets:
            times = [_aware(at) for b, at in rows if b == bucket]
            if len(times) >= limit:  # allowed again once the count falls under the limit
                oldest_counted = times[len(times) - limit]
                waits.append(int(self.window - (now - oldest_counted).total_seconds()) + 1)
        return max(waits, default=0)

    def failed(self, factory: sessionmaker[Session], email: str, client: str,
               now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        with transaction(factory) as session:
            session.execute(delete(SignInFailureRow).where(
                SignInFailureRow.failed_at <= now - timedelta(seconds=self.window)))
            session.add_all(SignInFailureRow(bucket=b, failed_at=now)
                            for b, _ in self._buckets(email, client))

    def succeeded(self, factory: sessionmaker[Session], email: str) -> None:
        with transaction(factory) as session:
            session.execute(delete(SignInFailureRow).where(
                SignInFailureRow.bucket == self._bucket("e", email)))


def _aware(at: datetime) -> datetime:
    """SQLite gives back naive datetimes (stored in UTC)."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
