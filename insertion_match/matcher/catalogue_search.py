"""Filter the catalogue for listing (``GET /v1/actions``, CLI)."""

from __future__ import annotations

from insertion_match.domain import Action
from insertion_match.geo import normalise_name as normalise
from insertion_match.matcher.engine import MatchingEngine


def serves(action: Action, insee: str, commission: str | None) -> bool:
    """True when the action's territory covers the commune ``insee`` (of ``commission``)."""
    terr = action.territory
    if not insee.startswith(terr.department):
        return False
    if terr.scope == "commissions":
        return commission is not None and commission in terr.commissions
    if terr.scope == "communes":
        return insee in terr.communes
    return True


def filter_actions(
    engine: MatchingEngine,
    department: str | None = None,
    commission: str | None = None,
    insee: str | None = None,
    category: str | None = None,
    frein: str | None = None,
    q: str | None = None,
    active: bool | None = None,
) -> list[Action]:
    """Actions matching every given filter, in catalogue order."""
    words = normalise(q).split() if q else []  # every word, anywhere, accents and case ignored
    home_commission = engine.territories.commission_of(insee) if insee else None
    out = []
    for a, text in zip(engine.actions, engine.search_text, strict=True):
        if department and a.territory.department != department:
            continue
        if commission and commission not in a.territory.commissions:
            continue
        if insee and not serves(a, insee, home_commission):
            continue
        if category and a.category != category:
            continue
        if frein and frein not in a.freins:
            continue
        if active is not None and a.active != active:
            continue
        if words and not all(w in text for w in words):
            continue
        out.append(a)
    return out
