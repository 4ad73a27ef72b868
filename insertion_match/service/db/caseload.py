"""Reads for the web app: a coach's caseload with each person's last recommendation and last
event, and the per-territory activity a manager reads (aggregates only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from insertion_match.service.db.audit import RecommendationLog
from insertion_match.service.db.beneficiaries import BeneficiaryRow
from insertion_match.service.db.outcomes import OutcomeRow


@dataclass(frozen=True)
class CaseloadLine:
    id: str
    department: str
    commission: str | None
    home_insee: str
    updated_at: datetime
    last_recommendation_at: datetime | None
    last_recommendation_id: int | None
    last_event: str | None  # outcome status
    last_event_item: str | None
    last_event_on: date | None


def _in_territories(territories: Sequence[tuple[str, str | None]] | None):
    if territories is None:
        return None
    return or_(false(), *(
        BeneficiaryRow.department == d if c is None
        else and_(BeneficiaryRow.department == d, BeneficiaryRow.commission == c)
        for d, c in territories))


def caseload(factory: sessionmaker[Session],
             territories: Sequence[tuple[str, str | None]] | None, query: str = "",
             limit: int = 200) -> tuple[int, list[CaseloadLine]]:
    """(total matching, first ``limit`` lines) of the stored people in ``territories`` (None:
    everywhere) whose pseudonymous id contains ``query`` (case ignored), most recent first."""
    stmt = select(BeneficiaryRow)
    count = select(func.count()).select_from(BeneficiaryRow)
    where = _in_territories(territories)
    if where is not None:
        stmt, count = stmt.where(where), count.where(where)
    if query.strip():
        like = f"%{query.strip().lower()}%"
        stmt = stmt.where(func.lower(BeneficiaryRow.id).like(like))
        count = count.where(func.lower(BeneficiaryRow.id).like(like))
    stmt = stmt.order_by(BeneficiaryRow.updated_at.desc(), BeneficiaryRow.id).limit(limit)
    with factory() as session:
        total = int(session.scalar(count) or 0)
        rows = list(session.scalars(stmt))
        subjects = [r.subject for r in rows]  # ids are scoped per territory: key by person
        recs: dict[str, tuple[int, datetime]] = {}
        events: dict[str, OutcomeRow] = {}
        if subjects:
            for rec_id, person, created in session.execute(
                    select(RecommendationLog.id, RecommendationLog.subject,
                           RecommendationLog.created_at)
                    .where(RecommendationLog.subject.in_(subjects))
                    .order_by(RecommendationLog.id)):
                if person is not None:  # subject IN (...): never NULL here
                    recs[person] = (rec_id, created)
            for row in session.scalars(select(OutcomeRow).where(OutcomeRow.subject.in_(subjects))
                                       .order_by(OutcomeRow.occurred_on, OutcomeRow.id)):
                if row.subject is not None:
                    events[row.subject] = row
    lines = []
    for r in rows:
        rec, event = recs.get(r.subject), events.get(r.subject)
        lines.append(CaseloadLine(
            id=r.id, department=r.department, commission=r.commission, home_insee=r.home_insee,
            updated_at=r.updated_at, last_recommendation_at=rec[1] if rec else None,
            last_recommendation_id=rec[0] if rec else None,
            last_event=event.status if event else None,
            last_event_item=event.item_id if event else None,
            last_event_on=event.occurred_on if event else None))
    return total, lines


def recommendations_of(factory: sessionmaker[Session], subject: str,
                       limit: int = 20) -> list[RecommendationLog]:
    """A stored person's recommendations shown (by the person's internal key), most recent
    first."""
    with factory() as session:
        return list(session.scalars(
            select(RecommendationLog).where(RecommendationLog.subject == subject)
            .order_by(RecommendationLog.id.desc()).limit(limit)))


@dataclass(frozen=True)
class TerritoryActivity:
    department: str | None
    commission: str | None
    recommendations: int
    events: dict[str, int]  # outcome status -> count


def territory_activity(factory: sessionmaker[Session]) -> list[TerritoryActivity]:
    """Recommendations shown and prescription events per (département, commission).

    The commission is the stored person's (None for people not stored, or erased); the caller
    keeps the territories it may see. Counts only, never a person.
    """
    rec_stmt = (select(RecommendationLog.department, BeneficiaryRow.commission, func.count())
                .select_from(RecommendationLog)
                .join(BeneficiaryRow, BeneficiaryRow.subject == RecommendationLog.subject,
                      isouter=True)
                .group_by(RecommendationLog.department, BeneficiaryRow.commission))
    out_stmt = (select(BeneficiaryRow.department, BeneficiaryRow.commission, OutcomeRow.status,
                       func.count())
                .select_from(OutcomeRow)
                .join(BeneficiaryRow, BeneficiaryRow.subject == OutcomeRow.subject)
                .group_by(BeneficiaryRow.department, BeneficiaryRow.commission,
                          OutcomeRow.status))
    found: dict[tuple[str | None, str | None], dict] = {}
    with factory() as session:
        for department, commission, n in session.execute(rec_stmt):
            found.setdefault((department, commission), {"r": 0, "e": {}})["r"] += int(n)
        for department, commission, status, n in session.execute(out_stmt):
            entry = found.setdefault((department, commission), {"r": 0, "e": {}})
            entry["e"][status] = entry["e"].get(status, 0) + int(n)
    return [TerritoryActivity(d, c, v["r"], v["e"])
            for (d, c), v in sorted(found.items(), key=lambda kv: (kv[0][0] or "", kv[0][1] or ""))]


def proposals_by_item(factory: sessionmaker[Session]
                      ) -> list[tuple[str | None, str | None, str, str, int]]:
    """(département, commission, item id, status, count) of the events of stored people."""
    stmt = (select(BeneficiaryRow.department, BeneficiaryRow.commission, OutcomeRow.item_id,
                   OutcomeRow.status, func.count())
            .select_from(OutcomeRow)
            .join(BeneficiaryRow, BeneficiaryRow.subject == OutcomeRow.subject)
            .group_by(BeneficiaryRow.department, BeneficiaryRow.commission, OutcomeRow.item_id,
                      OutcomeRow.status))
    with factory() as session:
        return [(d, c, i, s, int(n)) for d, c, i, s, n in session.execute(stmt)]
