"""Stored beneficiaries (caseloads), so that a platform can call by ``beneficiary_id``.

One row per person: the validated profile as JSON plus the columns used for scoping
(département, commission) and for the reverse question (which people for an offer). The profile
holds special-category data (freins ``sante``/``handicap``): it is read only to match and to
answer its owner's export, never logged.

**Ids are scoped to a territory** (issue 9). A row's ``scope`` is the finest territory of its
home (``61:Flers``, or the département where there is no commission) and the pseudonymous ``id``
is unique *within a scope* only: two territories that happen to use the same id hold two
different people, and neither can tell that the other exists. The person's internal identity
is ``subject`` (random, never shown): outcomes and audit rows point to it, not to the id, so
a re-used id never reaches another person's history. Erasing a person deletes the row and their
outcomes and detaches their audit rows (:func:`erase_subject`).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    DateTime,
    String,
    UniqueConstraint,
    and_,
    false,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from insertion_match.domain import BeneficiaryProfile
from insertion_match.service.db.base import Base, transaction

#: (département, commission or None for the whole département) pairs; None: everywhere.
Territories = Sequence[tuple[str, str | None]] | None


def scope_of(department: str, commission: str | None) -> str:
    """The id namespace of a person: their commission, or their département without one."""
    return f"{department}:{commission}" if commission else department


def new_subject() -> str:
    return uuid.uuid4().hex


class BeneficiaryRow(Base):
    __tablename__ = "beneficiaries"
    __table_args__ = (UniqueConstraint("scope", "id", name="uq_beneficiaries_scope_id"),)

    subject: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_subject)
    id: Mapped[str] = mapped_column(String(64), index=True)
    scope: Mapped[str] = mapped_column(String(70))
    department: Mapped[str] = mapped_column(String(3), index=True)
    commission: Mapped[str | None] = mapped_column(String(60), index=True)
    home_insee: Mapped[str] = mapped_column(String(5))
    profile: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class AmbiguousId(Exception):
    """The id names people in several of the caller's territories."""

    def __init__(self, scopes: Sequence[str]) -> None:
        super().__init__(", ".join(scopes))
        self.scopes = tuple(scopes)


def _in_territories(territories: Territories):
    if territories is None:
        return None
    return or_(false(), *(
        BeneficiaryRow.department == d if c is None
        else and_(BeneficiaryRow.department == d, BeneficiaryRow.commission == c)
        for d, c in territories
    ))


def find_beneficiaries(session: Session, beneficiary_id: str,
                       territories: Territories = None) -> list[BeneficiaryRow]:
    """The rows holding ``beneficiary_id`` in ``territories`` (None: everywhere), by scope."""
    stmt = select(BeneficiaryRow).where(BeneficiaryRow.id == beneficiary_id)
    clause = _in_territories(territories)
    if clause is not None:
        stmt = stmt.where(clause)
    return list(session.scalars(stmt.order_by(BeneficiaryRow.scope)))


def find_beneficiaries_in(session: Session, ids: Sequence[str],
                          territories: Territories = None) -> list[BeneficiaryRow]:
    """The rows holding any of ``ids`` in ``territories`` (None: everywhere)."""
    stmt = select(BeneficiaryRow).where(BeneficiaryRow.id.in_(list(ids)))
    clause = _in_territories(territories)
    if clause is not None:
        stmt = stmt.where(clause)
    return list(session.scalars(stmt))


def visible_beneficiary(factory: sessionmaker[Session], beneficiary_id: str,
                        territories: Territories = None) -> BeneficiaryRow | None:
    """The one row of ``beneficiary_id`` in ``territories``, or None; :class:`AmbiguousId` when
    the caller's territories hold several people under that id."""
    with factory() as session:
        rows = find_beneficiaries(session, beneficiary_id, territories)
    if len(rows) > 1:
        raise AmbiguousId([r.scope for r in rows])
    return rows[0] if rows else None


def store_beneficiary(
    factory: sessionmaker[Session], profile: BeneficiaryProfile, department: str,
    commission: str | None, home_insee: str, territories: Territories = None,
) -> tuple[BeneficiaryRow, bool]:
    """Create or replace the profile of ``profile.id`` as seen from ``territories``.

    The person replaced is the one under that id in the home's scope, else the only one under
    that id in ``territories`` (a move between the caller's territories); otherwise a new person
    is created in the home's scope, whatever other territories hold under the same id (they are
    neither read nor touched). Returns (row, created); :class:`AmbiguousId` when the caller's
    territories hold several people under the id and none in the home's scope.
    """
    if not profile.id:
        raise ValueError("a stored beneficiary needs a pseudonymous id")
    scope = scope_of(department, commission)
    document = profile.model_dump(mode="json", exclude_none=True)
    for attempt in range(2):  # a concurrent create of the same (scope, id): retry as an update
        now = datetime.now(UTC)
        try:
            with transaction(factory) as session:
                rows = find_beneficiaries(session, profile.id, territories)
                same = [r for r in rows if r.scope == scope]
                if same or len(rows) == 1:
                    row = (same or rows)[0]
                    row.scope, row.department, row.commission = scope, department, commission
                    row.home_insee, row.profile, row.updated_at = home_insee, document, now
                    return row, False
                if rows:
                    raise AmbiguousId([r.scope for r in rows])
                row = BeneficiaryRow(
                    subject=new_subject(), id=profile.id, scope=scope, department=department,
                    commission=commission, home_insee=home_insee, profile=document,
                    created_at=now, updated_at=now)
                session.add(row)
                session.flush()
                return row, True
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def upsert_beneficiary(
    factory: sessionmaker[Session], profile: BeneficiaryProfile, department: str,
    commission: str | None, home_insee: str,
) -> bool:
    """Create or replace the stored profile of ``profile.id`` (every territory in view).
    Returns True when created."""
    return store_beneficiary(factory, profile, department, commission, home_insee)[1]


def get_beneficiary(factory: sessionmaker[Session], beneficiary_id: str) -> BeneficiaryRow | None:
    """The first row under ``beneficiary_id`` in any territory (tools and tests; routes use
    :func:`visible_beneficiary`)."""
    with factory() as session:
        rows = find_beneficiaries(session, beneficiary_id)
    return rows[0] if rows else None


def profile_of(row: BeneficiaryRow) -> BeneficiaryProfile:
    return BeneficiaryProfile.model_validate(row.profile)


def tombstone() -> str:
    """What erased audit rows say instead of the id: random, so it links to nobody."""
    return f"erased:{secrets.token_hex(12)}"


def erase_subject(session: Session, subject: str) -> str:
    """Erase one person inside ``session``: their row, their outcomes; their audit rows keep
    who did what when (accountability) under a tombstone instead of the id, detached from the
    person, and recommendation rows lose the items shown. Returns the tombstone."""
    from sqlalchemy import delete, update

    from insertion_match.service.db.audit import AccessLog, RecommendationLog
    from insertion_match.service.db.outcomes import OutcomeRow

    mark = tombstone()
    session.execute(delete(OutcomeRow).where(OutcomeRow.subject == subject))
    session.execute(update(AccessLog).where(AccessLog.subject == subject)
                    .values(subject=None, beneficiary_id=mark))
    session.execute(update(RecommendationLog).where(RecommendationLog.subject == subject)
                    .values(subject=None, beneficiary_id=mark, item_ids=[]))
    session.execute(delete(BeneficiaryRow).where(BeneficiaryRow.subject == subject))
    return mark


def erase_beneficiary(factory: sessionmaker[Session], subject: str) -> str | None:
    """Erase the person ``subject`` (right to erasure); the tombstone, or None if not stored."""
    with transaction(factory) as session:
        if session.get(BeneficiaryRow, subject) is None:
            return None
        return erase_subject(session, subject)


def delete_beneficiary(factory: sessionmaker[Session], beneficiary_id: str) -> bool:
    """Erase the person under ``beneficiary_id`` (any territory; tools and tests)."""
    row = get_beneficiary(factory, beneficiary_id)
    return row is not None and erase_beneficiary(factory, row.subject) is not None


def list_beneficiaries(
    factory: sessionmaker[Session], departments: Sequence[str] | None = None,
    commissions: Sequence[str] | None = None, limit: int | None = None, offset: int = 0,
    territories: Territories = None,
) -> list[BeneficiaryRow]:
    """Rows in id order, restricted to the given départements / commissions when given.

    ``territories``: (département, commission or None for the whole département) pairs; a row
    is kept when it lies in any of them (an empty sequence keeps nothing).
    """
    stmt = select(BeneficiaryRow).order_by(BeneficiaryRow.id, BeneficiaryRow.scope)
    clause = _in_territories(territories)
    if clause is not None:
        stmt = stmt.where(clause)
    if departments is not None:
        stmt = stmt.where(BeneficiaryRow.department.in_(list(departments)))
    if commissions is not None:
        stmt = stmt.where(BeneficiaryRow.commission.in_(list(commissions)))
    stmt = stmt.offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    with factory() as session:
        return list(session.scalars(stmt))


def purge_beneficiaries(factory: sessionmaker[Session], not_updated_since: datetime) -> int:
    """Erase the stored profiles not updated since ``not_updated_since`` (retention purge), as
    :func:`erase_subject` does: outcomes deleted, audit rows detached."""
    with transaction(factory) as session:
        subjects = list(session.scalars(select(BeneficiaryRow.subject)
                                        .where(BeneficiaryRow.updated_at < not_updated_since)))
        for subject in subjects:
            erase_subject(session, subject)
    return len(subjects)
