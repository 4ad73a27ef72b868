"""The audit trail (DESIGN §9): what was shown to whom, and who touched whose data.

- ``recommendation_log``: every recommendation shown (who: key id, name and role; when; which
  pseudonymous person and their département; model name and version; the item ids shown);
- ``access_log``: every access to a stored person's data (read, create, update, erase, export).

Only pseudonymous ids, the model and item ids are stored: never freins, never free text. Each
row points to the person's internal ``subject`` (see ``beneficiaries``), so a person's export
reads their rows only, never those of someone else of another territory under the same id.
Rows outlive an erased profile (accountability: who did what, when) but detached from the
person: the id is replaced by a random tombstone, ``subject`` is cleared and the items shown
are dropped; the retention purge removes them later.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from insertion_match.service.db.base import Base, transaction


class RecommendationLog(Base):
    __tablename__ = "recommendation_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(120))
    beneficiary_id: Mapped[str | None] = mapped_column(String(64), index=True)
    subject: Mapped[str | None] = mapped_column(String(32), index=True)
    model_name: Mapped[str] = mapped_column(String(80))
    model_version: Mapped[str] = mapped_column(String(40))
    item_ids: Mapped[list] = mapped_column(JSON)
    actor_name: Mapped[str | None] = mapped_column(String(120))
    actor_role: Mapped[str | None] = mapped_column(String(20))
    department: Mapped[str | None] = mapped_column(String(3), index=True)


class AccessLog(Base):
    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(120))
    actor_name: Mapped[str | None] = mapped_column(String(120))
    actor_role: Mapped[str | None] = mapped_column(String(20))
    beneficiary_id: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str | None] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(String(20))


#: What ``access_log.action`` may say.
ACCESS_ACTIONS = frozenset({"read", "create", "update", "erase", "export"})


def log_recommendation(
    factory: sessionmaker[Session],
    actor: str,
    beneficiary_id: str | None,
    model_name: str,
    model_version: str,
    item_ids: Sequence[str],
    *,
    actor_name: str | None = None,
    actor_role: str | None = None,
    department: str | None = None,
    subject: str | None = None,
) -> int:
    """Store one recommendation shown; returns its id (the answer's ``recommendation_id``)."""
    with transaction(factory) as session:
        row = RecommendationLog(
            created_at=datetime.now(UTC), actor=actor, beneficiary_id=beneficiary_id,
            subject=subject,
            model_name=model_name, model_version=model_version, item_ids=list(item_ids),
            actor_name=actor_name, actor_role=actor_role, department=department,
        )
        session.add(row)
        session.flush()
        return int(row.id)


def get_recommendation(factory: sessionmaker[Session], recommendation_id: int
                       ) -> RecommendationLog | None:
    """One recommendation shown, by its id."""
    with factory() as session:
        return session.get(RecommendationLog, recommendation_id)


def log_access(
    factory: sessionmaker[Session], actor: str, beneficiary_id: str, action: str, *,
    actor_name: str | None = None, actor_role: str | None = None, subject: str | None = None,
) -> None:
    if action not in ACCESS_ACTIONS:
        raise ValueError(f"unknown access action {action!r}")
    with transaction(factory) as session:
        session.add(AccessLog(
            created_at=datetime.now(UTC), actor=actor, actor_name=actor_name,
            actor_role=actor_role, beneficiary_id=beneficiary_id, action=action, subject=subject,
        ))


def audit_about(
    factory: sessionmaker[Session], beneficiary_id: str | None = None, *,
    subject: str | None = None,
) -> tuple[list[RecommendationLog], list[AccessLog]]:
    """Every audit row about one person (``subject``; or, for tools, every row carrying
    ``beneficiary_id``), oldest first (for their export)."""
    if subject is not None:
        rec_where, acc_where = RecommendationLog.subject == subject, AccessLog.subject == subject
    else:
        rec_where = RecommendationLog.beneficiary_id == beneficiary_id
        acc_where = AccessLog.beneficiary_id == beneficiary_id
    with factory() as session:
        recs = session.scalars(select(RecommendationLog).where(rec_where)
                               .order_by(RecommendationLog.id))
        accesses = session.scalars(select(AccessLog).where(acc_where).order_by(AccessLog.id))
        return list(recs), list(accesses)


def purge_audit(factory: sessionmaker[Session], before: datetime) -> tuple[int, int]:
    """Delete audit rows created before ``before``: (recommendation rows, access rows)."""
    with transaction(factory) as session:
        recs = session.execute(delete(RecommendationLog)
                               .where(RecommendationLog.created_at < before)).rowcount
        accesses = session.execute(delete(AccessLog).where(AccessLog.created_at < before)).rowcount
    return int(recs or 0), int(accesses or 0)


def recommendation_counts(
    factory: sessionmaker[Session], since: datetime | None = None
) -> list[tuple[str | None, str, str, int]]:
    """Aggregates only: (département, model name, model version, recommendations shown)."""
    keys = (RecommendationLog.department, RecommendationLog.model_name,
            RecommendationLog.model_version)
    stmt = select(*keys, func.count()).group_by(*keys).order_by(*keys)
    if since is not None:
        stmt = stmt.where(RecommendationLog.created_at >= since)
    with factory() as session:
        return [(d, n, v, int(c)) for d, n, v, c in session.execute(stmt)]


def recommendation_log(factory: sessionmaker[Session], limit: int = 100) -> list[RecommendationLog]:
    with factory() as session:
        stmt = select(RecommendationLog).order_by(RecommendationLog.id.desc()).limit(limit)
        return list(session.scalars(stmt))
