"""Filter the stored offers for listing (``GET /v1/opportunities``)."""

from __future__ import annotations

from datetime import date

from insertion_match.domain import Opportunity
from insertion_match.geo import normalise_name as normalise
from insertion_match.matcher.engine import MatchingEngine


def filter_opportunities(
    engine: MatchingEngine,
    kind: str | None = None,
    department: str | None = None,
    insee: str | None = None,
    rome: str | None = None,
    contract: str | None = None,
    q: str | None = None,
    live_on: date | None = None,
) -> list[Opportunity]:
    """Offers matching every given filter, in id order. ``rome``: a code or its first letters
    ("K22"); ``q``: words of the title or employer; ``live_on``: not expired that day."""
    words = normalise(q).split() if q else []
    out = []
    for opp in engine.opportunities:
        if kind is not None and opp.kind != kind:
            continue
        if department is not None and opp.location.department != department:
            continue
        if insee is not None and opp.location.insee != insee:
            continue
        if rome is not None and not (opp.rome_code or "").startswith(rome.upper()):
            continue
        if contract is not None and opp.contract_type != contract.upper():
            continue
        if live_on is not None and opp.expires_at is not None and opp.expires_at < live_on:
            continue
        if words:
            text = normalise(f"{opp.title} {opp.employer or ''} {opp.appellation or ''}")
            if not all(w in text for w in words):
                continue
        out.append(opp)
    return out
