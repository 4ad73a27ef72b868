"""The audit trail of what was shown to whom (DESIGN §9).

Only pseudonymous ids, the model and the item ids are stored: never freins, never free text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from insertion_match.service.db.base import Base, transaction


class RecommendationLog(Base):
    __tablename__ = "recommendation_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(120))
    beneficiary_id: Mapped[str | None] = mapped_column(String(64), index=True)
    model_name: Mapped[str] = mapped_column(String(80))
    model_version: Mapped[str] = mapped_column(String(40))
    item_ids: Mapped[list] = mapped_column(JSON)


def log_recommendation(
    factory: sessionmaker[Session],
    actor: str,
    beneficiary_id: str | None,
    model_name: str,
    model_version: str,
    item_ids: Sequence[str],
) -> None:
    with transaction(factory) as session:
        session.add(RecommendationLog(
            created_at=datetime.now(UTC), actor=actor, beneficiary_id=beneficiary_id,
            model_name=model_name, model_version=model_version, item_ids=list(item_ids),
        ))


def recommendation_log(factory: sessionmaker[Session], limit: int = 100) -> list[RecommendationLog]:
    with factory() as session:
        stmt = select(RecommendationLog).order_by(RecommendationLog.id.desc()).limit(limit)
        return list(session.scalars(stmt))
