"""Stored beneficiaries (caseloads), so that a platform can call by ``beneficiary_id``.

One row per pseudonymous id: the validated profile as JSON plus the columns used for scoping
(département, commission) and for the reverse question (which people for an offer). The profile
holds special-category data (freins ``sante``/``handicap``): it is read only to match and to
answer its owner's export, never logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, String, and_, delete, false, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from insertion_match.domain import BeneficiaryProfile
from insertion_match.service.db.base import Base, transaction


class BeneficiaryRow(Base):
    __tablename__ = "beneficiaries"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    department: Mapped[str] = mapped_column(String(3), index=True)
    commission: Mapped[str | None] = mapped_column(String(60), index=True)
    home_insee: Mapped[str] = mapped_column(String(5))
    profile: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


def upsert_beneficiary(
    factory: sessionmaker[Session], profile: BeneficiaryProfile, department: str,
    commission: str | None, home_insee: str,
) -> bool:
    """Create or replace the stored profile of ``profile.id``. Returns True when created."""
    if not profile.id:
        raise ValueError("a stored beneficiary needs a pseudonymous id")
    now = datetime.now(UTC)
    document = profile.model_dump(mode="json", exclude_none=True)
    with transaction(factory) as session:
        row = session.get(BeneficiaryRow, profile.id)
        if row is None:
            session.add(BeneficiaryRow(
                id=profile.id, department=department, commission=commission,
                home_insee=home_insee, profile=document, created_at=now, updated_at=now,
            ))
            return True
        row.department, row.commission, row.home_insee = department, commission, home_insee
        row.profile, row.updated_at = document, now
        return False


def get_beneficiary(factory: sessionmaker[Session], beneficiary_id: str) -> BeneficiaryRow | None:
    with factory() as session:
        return session.get(BeneficiaryRow, beneficiary_id)


def profile_of(row: BeneficiaryRow) -> BeneficiaryProfile:
    return BeneficiaryProfile.model_validate(row.profile)


def delete_beneficiary(factory: sessionmaker[Session], beneficiary_id: str) -> bool:
    with transaction(factory) as session:
        result = session.execute(delete(BeneficiaryRow).where(BeneficiaryRow.id == beneficiary_id))
        return bool(result.rowcount)


def list_beneficiaries(
    factory: sessionmaker[Session], departments: Sequence[str] | None = None,
    commissions: Sequence[str] | None = None, limit: int | None = None, offset: int = 0,
    territories: Sequence[tuple[str, str | None]] | None = None,
) -> list[BeneficiaryRow]:
    """Rows in id order, restricted to the given départements / commissions when given.

    ``territories``: (département, commission or None for the whole département) pairs; a row
    is kept when it lies in any of them (an empty sequence keeps nothing).
    """
    stmt = select(BeneficiaryRow).order_by(BeneficiaryRow.id)
    if territories is not None:
        stmt = stmt.where(or_(false(), *(
            BeneficiaryRow.department == d if c is None
            else and_(BeneficiaryRow.department == d, BeneficiaryRow.commission == c)
            for d, c in territories
        )))
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
    """Erase the stored profiles not updated since ``not_updated_since`` (retention purge)."""
    with transaction(factory) as session:
        result = session.execute(
            delete(BeneficiaryRow).where(BeneficiaryRow.updated_at < not_updated_since)
        )
        return int(result.rowcount or 0)
