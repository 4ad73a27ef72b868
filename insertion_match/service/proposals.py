"""Tie a prescription event to the recommendation that was shown (its audit row).

Shared by ``POST /v1/outcomes`` and the web app's proposal form, so both accept the same ids
and fill the rank and model the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from insertion_match.domain import OutcomeRecord
from insertion_match.service import db
from insertion_match.service.state import ServiceState


@dataclass(frozen=True)
class NotShown:
    """The recommendation id does not fit the event: English and French messages."""

    message: str
    message_fr: str


def tie_to_recommendation(state: ServiceState, record: OutcomeRecord,
                          subject: str | None = None) -> OutcomeRecord | NotShown:
    """``record`` with the rank and model of the list ``record.recommendation_id`` showed.

    The list must exist, be about the same person (the same stored person, ``subject``, when
    the list was about a stored one: ids are scoped per territory) and hold the item; a rank
    or model given with the event is kept. Without a recommendation id, ``record`` is returned
    as is.
    """
    if record.recommendation_id is None:
        return record
    row = db.get_recommendation(state.sessions, record.recommendation_id)
    other_person = row is not None and (
        row.beneficiary_id != record.beneficiary_id
        or (row.subject is not None and subject is not None and row.subject != subject))
    if row is None or other_person:
        return NotShown("unknown recommendation_id for this beneficiary",
                        "recommandation inconnue pour cette personne")
    items = list(row.item_ids or [])
    if record.item_id not in items:
        return NotShown("the item was not in the list of this recommendation_id",
                        "cet élément ne figurait pas dans la liste proposée")
    update: dict[str, object] = {}
    if record.rank is None:
        update["rank"] = items.index(record.item_id) + 1
    if record.model_name is None:
        update["model_name"], update["model_version"] = row.model_name, row.model_version
    return record.model_copy(update=update) if update else record
