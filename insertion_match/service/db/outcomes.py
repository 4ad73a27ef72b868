"""Prescriptions and their outcomes (DESIGN §3): one row per event, append-only.

Each row is an :class:`~insertion_match.domain.OutcomeRecord` (who — pseudonymous id —, which
item, what happened, when) with the rank and model version of the list that proposed the item.
A later event that omits them inherits them from the latest ``proposed`` event of the same
person and item, so every stored outcome says which model produced it. Never free text, never
freins: what a learner needs joins on the stored profile.

``subject`` is the stored person's internal identity (``beneficiaries``): a person's events are
read by it, so another territory's person under the same id never sees them, and erasing the
person deletes them. Events imported by an admin for people not stored have no subject.

An event handed off through DORA also keeps the data·inclusion service id and DORA's status and
refusal reasons (``di_service_id``, ``orientation_status``, ``orientation_refusal_reasons``
joined with ``|``), beside the status they map to.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import Date, DateTime, Integer, String, and_, func, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from insertion_match.domain import OutcomeRecord
from insertion_match.service.db.base import Base, transaction


class OutcomeRow(Base):
    __tablename__ = "outcomes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    beneficiary_id: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str | None] = mapped_column(String(32), index=True)
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
    di_service_id: Mapped[str | None] = mapped_column(String(200), index=True)
    orientation_status: Mapped[str | None] = mapped_column(String(16))
    orientation_refusal_reasons: Mapped[str | None] = mapped_column(String(400))
    source: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    def record(self) -> OutcomeRecord:
        return OutcomeRecord.model_validate({
            "beneficiary_id": self.beneficiary_id, "item_id": self.item_id,
            "item_kind": self.item_kind, "status": self.status,
            "occurred_on": self.occurred_on, "refusal_reason": self.refusal_reason,
            "exit_kind": self.exit_kind, "rank": self.rank, "model_name": self.model_name,
            "model_version": self.model_version, "recommendation_id": self.recommendation_id,
            "di_service_id": self.di_service_id, "orientation_status": self.orientation_status,
            "orientation_refusal_reasons": tuple(
                r for r in (self.orientation_refusal_reasons or "").split("|") if r),
        })


def _whose(beneficiary_id: str, subject: str | None):
    if subject is not None:
        return OutcomeRow.subject == subject
    return and_(OutcomeRow.beneficiary_id == beneficiary_id, OutcomeRow.subject.is_(None))


_Key = tuple[str, str | None, str, str]  # (beneficiary id, subject, item kind, item id)
_CHUNK = 500


def _proposals(session: Session, keys: set[_Key]) -> dict[_Key, OutcomeRow]:
    """The latest stored ``proposed`` event of each (person, item) of ``keys``, in a few queries."""
    latest: dict[_Key, OutcomeRow] = {}
    ids = sorted({k[0] for k in keys})
    for start in range(0, len(ids), _CHUNK):
        stmt = (select(OutcomeRow)
                .where(OutcomeRow.beneficiary_id.in_(ids[start:start + _CHUNK]),
                       OutcomeRow.status == "proposed")
                .order_by(OutcomeRow.occurred_on, OutcomeRow.id))
        for row in session.scalars(stmt):
            key = (row.beneficiary_id, row.subject, row.item_kind, row.item_id)
            if key in keys:
                latest[key] = row  # ordered: the last one seen is the latest
    return latest


def _rows(session: Session, records: Sequence[OutcomeRecord], source: str,
          subjects: Sequence[str | None] | None) -> list[dict]:
    now = datetime.now(UTC)
    subjects = list(subjects) if subjects is not None else [None] * len(records)
    if len(subjects) != len(records):
        raise ValueError("one subject per record")
    keys = {(r.beneficiary_id, s, r.item_kind.value, r.item_id)
            for r, s in zip(records, subjects, strict=True)}
    latest: dict[_Key, tuple] = {k: (r.occurred_on, r.rank, r.model_name, r.model_version,
                                     r.recommendation_id)
                                 for k, r in _proposals(session, keys).items()}
    rows = []
    for record, subject in zip(records, subjects, strict=True):
        key = (record.beneficiary_id, subject, record.item_kind.value, record.item_id)
        rank, name, version = record.rank, record.model_name, record.model_version
        recommendation_id = record.recommendation_id
        if record.status.value != "proposed" and (name is None or recommendation_id is None):
            proposal = latest.get(key)
            if proposal is not None:
                rank = rank if rank is not None else proposal[1]
                if name is None:
                    name, version = proposal[2], proposal[3]
                if recommendation_id is None:
                    recommendation_id = proposal[4]
        elif record.status.value == "proposed":
            previous = latest.get(key)
            if previous is None or previous[0] <= record.occurred_on:
                latest[key] = (record.occurred_on, rank, name, version,
                               recommendation_id)  # later records see it
        rows.append({
            "beneficiary_id": record.beneficiary_id, "subject": subject,
            "item_kind": record.item_kind.value, "item_id": record.item_id,
            "status": record.status.value,
            "refusal_reason": record.refusal_reason.value if record.refusal_reason else None,
            "exit_kind": record.exit_kind.value if record.exit_kind else None,
            "occurred_on": record.occurred_on, "rank": rank, "model_name": name,
            "model_version": version, "recommendation_id": recommendation_id,
            "di_service_id": record.di_service_id,
            "orientation_status": record.orientation_status.value
            if record.orientation_status else None,
            "orientation_refusal_reasons": "|".join(record.orientation_refusal_reasons) or None,
            "source": source[:40], "recorded_at": now,
        })
    return rows


def add_outcomes(factory: sessionmaker[Session], records: Sequence[OutcomeRecord],
                 source: str, subjects: Sequence[str | None] | None = None) -> list[OutcomeRow]:
    """Store ``records`` in one transaction (all or none), in order; return the stored rows.

    ``subjects``: the stored person of each record (None: not stored, admin imports). A later
    event without rank and model inherits them from the latest proposal of the same person and
    item, stored before or earlier in ``records``.
    """
    with transaction(factory) as session:
        rows = [OutcomeRow(**values) for values in _rows(session, records, source, subjects)]
        session.add_all(rows)
        session.flush()
    return rows


def import_outcomes(factory: sessionmaker[Session], records: Sequence[OutcomeRecord],
                    source: str, subjects: Sequence[str | None] | None = None) -> int:
    """:func:`add_outcomes` for large files: bulk inserts, returns the count stored."""
    with transaction(factory) as session:
        rows = _rows(session, records, source, subjects)
        for start in range(0, len(rows), 2000):
            session.execute(insert(OutcomeRow), rows[start:start + 2000])
    return len(rows)


def list_outcomes(factory: sessionmaker[Session], beneficiary_id: str, limit: int = 100,
                  offset: int = 0, subject: str | None = None) -> tuple[int, list[OutcomeRow]]:
    """(total, rows) of one person (the stored ``subject``, else the events of
    ``beneficiary_id`` stored for nobody), oldest event first."""
    where = _whose(beneficiary_id, subject)
    with factory() as session:
        total = session.scalar(select(func.count()).select_from(OutcomeRow).where(where)) or 0
        stmt = (select(OutcomeRow).where(where)
                .order_by(OutcomeRow.occurred_on, OutcomeRow.id).offset(offset).limit(limit))
        return int(total), list(session.scalars(stmt))
