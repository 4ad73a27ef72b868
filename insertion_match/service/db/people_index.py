"""Reads that keep the in-memory people index (reverse matching) in step with the stored
beneficiaries, without parsing every profile on every request.

``beneficiaries_fingerprint`` is two cheap queries (row count, latest update): it
changes whenever a profile is created, replaced or erased, in this worker or another one
sharing the database. ``beneficiary_stamps`` and ``beneficiaries_by_ids`` let the index reload
only the profiles that changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from insertion_match.service.db.beneficiaries import BeneficiaryRow

_CHUNK = 500


def beneficiaries_fingerprint(factory: sessionmaker[Session]) -> tuple[int, str]:
    """(count, latest update) of the stored people, read before each reverse matching.

    Two queries, not one: ``max(updated_at)`` alone is read from the end of its index, while
    asked together with ``count(*)`` it makes one scan of the whole table (SQLite, 1M people:
    0.3 ms + 16 ms apart, 101 ms together)."""
    with factory() as session:
        latest = session.scalar(select(func.max(BeneficiaryRow.updated_at)))
        count = session.scalar(select(func.count()).select_from(BeneficiaryRow))
    return int(count or 0), str(latest)


def beneficiary_stamps(factory: sessionmaker[Session]) -> dict[str, datetime]:
    """Every stored person (``subject``) with its last update."""
    with factory() as session:
        return dict(session.execute(select(BeneficiaryRow.subject,
                                           BeneficiaryRow.updated_at)).all())


def beneficiaries_by_ids(
    factory: sessionmaker[Session], ids: Sequence[str]
) -> list[BeneficiaryRow]:
    """The rows of these ``subject`` keys."""
    out: list[BeneficiaryRow] = []
    with factory() as session:
        for start in range(0, len(ids), _CHUNK):
            chunk = list(ids[start:start + _CHUNK])
            out.extend(session.scalars(select(BeneficiaryRow).where(BeneficiaryRow.subject.in_(chunk))))
    return out
