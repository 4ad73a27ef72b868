"""Prescriptions and their outcomes (DESIGN §3): one row per event, append-only.

Each row is an :class:`~insertion_match.domain.OutcomeRecord` (who — pseudonymous id —, which
item, what happened, when) with the rank and model version of the list that proposed the item.
A later event that omits them inherits them from the latest ``proposed`` event of the same
person and item, so every stored outcome says which model produced it. Never free text, never
freins: what a learner needs joins on the stored profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import Date, DateTime, Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from insertion_match.domain import OutcomeRecord
from insertion_match.service.db.base import Base, transaction


class OutcomeRow(Base):
    __tablename__ = "outcomes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    beneficiary_id: Mapped[str] = mapped_column(String(64), index=True)
    item_kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(16))
    refusal_reason: Mapped[str | None] = mapped_column(String(32))
    exit_kind: Mapped[str | None] = mapped_column(String(32))
    occurred_on: Mapped[date] = mapped_column(Date, index=True)
    rank: Mapped[int | None] = mapped_column(Integer)
    model_name: Mapped[str | None] = mapped_column(String(80))
    model_version: Mapped[str | None] = mapped_column(String(40))
    recommendation_id: Mapped[int | None] = mapped_column(Integer, index=True)
    source: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    def record(self) -> OutcomeRecord:
        return OutcomeRecord.model_validate({
            "beneficiary_id": self.beneficiary_id, "item_id": self.item_id,
            "item_kind": self.item_kind, "status": self.status,
            "occurred_on": self.occurred_on, "refusal_reason": self.refusal_reason,
            "exit_kind": self.exit_kind, "rank": self.rank, "model_name": self.model_name,
            "model_version": self.model_version, "recommendation_id": self.recommendation_id,
        })


def _proposal(session: Session, record: OutcomeRecord) -> OutcomeRow | None:
    stmt = (select(OutcomeRow)
            .where(OutcomeRow.beneficiary_id == record.beneficiary_id,
                   OutcomeRow.item_kind == record.item_kind.value,
                   OutcomeRow.item_id == record.item_id, OutcomeRow.status == "proposed")
            .order_by(OutcomeRow.occurred_on.desc(), OutcomeRow.id.desc()).limit(1))
    return session.scalars(stmt).first()


def add_outcomes(factory: sessionmaker[Session], records: Sequence[OutcomeRecord],
                 source: str) -> list[OutcomeRow]:
    """Store ``records`` in one transaction (all or none), in order; return the stored rows."""
    now = datetime.now(UTC)
    rows = []
    with transaction(factory) as session:
        for record in records:
            rank, name, version = record.rank, record.model_name, record.model_version
            recommendation_id = record.recommendation_id
            if record.status.value != "proposed" and (name is None or recommendation_id is None):
                proposal = _proposal(session, record)
                if proposal is not None:
                    rank = rank if rank is not None else proposal.rank
                    if name is None:
                        name, version = proposal.model_name, proposal.model_version
                    if recommendation_id is None:
                        recommendation_id = proposal.recommendation_id
            row = OutcomeRow(
                beneficiary_id=record.beneficiary_id, item_kind=record.item_kind.value,
                item_id=record.item_id, status=record.status.value,
                refusal_reason=record.refusal_reason.value if record.refusal_reason else None,
                exit_kind=record.exit_kind.value if record.exit_kind else None,
                occurred_on=record.occurred_on, rank=rank, model_name=name,
                model_version=version, recommendation_id=recommendation_id,
                source=source[:40], recorded_at=now,
            )
            session.add(row)
            session.flush()  # later records of the same batch see this proposal
            rows.append(row)
    return rows


def list_outcomes(factory: sessionmaker[Session], beneficiary_id: str, limit: int = 100,
                  offset: int = 0) -> tuple[int, list[OutcomeRow]]:
    """(total, rows) of one person, oldest event first."""
    where = OutcomeRow.beneficiary_id == beneficiary_id
    with factory() as session:
        total = session.scalar(select(func.count()).select_from(OutcomeRow).where(where)) or 0
        stmt = (select(OutcomeRow).where(where)
                .order_by(OutcomeRow.occurred_on, OutcomeRow.id).offset(offset).limit(limit))
        return int(total), list(session.scalars(stmt))
