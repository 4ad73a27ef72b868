"""Filter the stored offers for listing (``GET /v1/opportunities``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import numpy as np

from insertion_match.domain import OPPORTUNITY_KINDS, Opportunity
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
    for opp in _prefiltered(engine, kind, department, live_on):
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


def _prefiltered(engine: MatchingEngine, kind: str | None, department: str | None,
                 live_on: date | None) -> Iterable[Opportunity]:
    """The offers, in id order, narrowed on the table's columns (kind, département, expiry)
    before any document is read; the caller still checks every filter."""
    table = engine.opportunity_table
    if table is None:
        return sorted(engine.opportunities, key=lambda o: o.id)
    keep = np.ones(len(table), dtype=bool)
    if kind is not None:
        code = OPPORTUNITY_KINDS.index(kind) if kind in OPPORTUNITY_KINDS else -1
        keep &= table.arrays.kind_code == code
    if department is not None:
        keep &= table.department == department
    if live_on is not None:
        with np.errstate(invalid="ignore"):
            keep &= np.isnan(table.arrays.expires) | (table.arrays.expires >= live_on.toordinal())
    order = table.id_order[keep[table.id_order]]
    return (table.docs[int(p)] for p in order)
