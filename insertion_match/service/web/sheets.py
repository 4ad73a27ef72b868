"""What a coach and the person read about one action: where, when, whom to call, cost.

Read from the catalogue entry as it is; nothing is invented: a missing fact says so."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from insertion_match.domain import (
    CATEGORY_LABELS_FR,
    CONTRACT_LABELS_FR,
    FREIN_LABELS_FR,
    KIND_LABELS_FR,
)
from insertion_match.matcher.engine import MatchingEngine
from insertion_match.service.web.labels import document_year, number_fr

#: A source document older than this (years) is flagged on the pages.
OLD_DOCUMENT_YEARS = 2

#: What to bring to a first appointment, whatever the action (plain words for the person).
WHAT_TO_BRING = (
    "une pièce d'identité ou un titre de séjour",
    "votre attestation de droits au RSA (CAF ou MSA)",
    "ce document",
)


@dataclass(frozen=True)
class Place:
    commune: str
    address: str | None
    unspecified: bool


@dataclass(frozen=True)
class ActionSheet:
    id: str
    title: str
    description: str
    operator: str | None
    category: str
    freins: tuple[str, ...]
    places: tuple[Place, ...]
    itinerant: bool
    by_dossier: bool
    contact: str | None
    how_to: str | None
    prescription_required: bool
    cost: str
    duration: str | None
    weekly_hours: str | None
    capacity: str | None
    public: str | None
    conditions: str | None
    source_document: str
    source_section: str | None
    period: str | None
    document_year: int | None
    old_document: bool
    active: bool
    what_to_bring: tuple[str, ...] = WHAT_TO_BRING


def _cost(cost: float | None, note: str | None) -> str:
    if cost is None:
        return note or "Non précisé par le document : à vérifier auprès de l'organisme."
    text = "Gratuit" if cost == 0 else f"{number_fr(cost, 2 if cost % 1 else 0)} €"
    return f"{text} ({note})" if note else text


@lru_cache(maxsize=4)
def document_titles(catalogue_dir: Path) -> dict[str, str]:
    """Source document file name -> its title, from the catalogue files' headers."""
    titles = {}
    for path in sorted(Path(catalogue_dir).glob("*.json")):
        try:
            head = json.loads(path.read_text(encoding="utf-8"))
            titles[str(head["source_document"])] = str(head["title"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return titles


def _places(sites) -> tuple[Place, ...]:
    """The sites; the ones the document leaves "à préciser" only when no other is named."""
    places = tuple(Place(s.commune, s.address, s.precision == "unspecified") for s in sites)
    named = tuple(p for p in places if not p.unspecified)
    return named or places


def action_sheet(engine: MatchingEngine, action_id: str, today: date | None = None,
                 titles: dict[str, str] | None = None) -> ActionSheet | None:
    """The facts of one action; ``titles`` names source documents (file name -> title)."""
    action = engine.action(action_id)
    if action is None:
        return None
    today = today or date.today()
    year = document_year(action.period, action.source.document)
    capacity = None
    if action.places is not None:
        capacity = f"{action.places} place(s)" + (f" en {action.places_year}"
                                                   if action.places_year else "")
        if action.participants is not None:
            capacity += (f" ; {action.participants} participant(s)"
                         + (f" en {action.participants_year}" if action.participants_year
                            else ""))
    return ActionSheet(
        id=action.id, title=action.title, description=action.description_fr,
        operator=action.operator, category=CATEGORY_LABELS_FR.get(action.category, "autre"),
        freins=tuple(FREIN_LABELS_FR.get(f, f) for f in action.freins),
        places=_places(action.sites),
        itinerant=action.itinerant, by_dossier=action.by_dossier, contact=action.contact,
        how_to=action.how_to_mobilise_fr, prescription_required=action.prescription_required,
        cost=_cost(action.cost_eur, action.cost_note_fr), duration=action.duration_fr,
        weekly_hours=(f"{number_fr(action.weekly_hours, 1 if action.weekly_hours % 1 else 0)} "
                      "h par semaine") if action.weekly_hours else None,
        capacity=capacity, public=action.public_fr, conditions=action.eligibility.other_fr,
        source_document=(titles or {}).get(action.source.document, action.source.document),
        source_section=action.source.section,
        period=action.period, document_year=year,
        old_document=year is not None and today.year - year > OLD_DOCUMENT_YEARS,
        active=action.active)


#: What to bring to a job interview or an immersion's first day.
WHAT_TO_BRING_OFFER = ("votre CV", "une pièce d'identité ou un titre de séjour", "ce document")


def offer_sheet(engine: MatchingEngine, offer_id: str) -> ActionSheet | None:
    """The same facts for an offer (job, immersion...): employer, place, contract, hours."""
    found = engine.opportunity(offer_id)
    if found is None:
        return None
    index, position = found
    offer = index.opportunities[position]
    contract = offer.contract_label or CONTRACT_LABELS_FR.get(offer.contract_type or "", None)
    how_to = ("Candidature par l'annonce : " + offer.url) if offer.url else (
        "Candidature avec votre référent ou votre référente")
    return ActionSheet(
        id=offer.id, title=offer.title,
        description=offer.description or offer.appellation or offer.title,
        operator=offer.employer, category=KIND_LABELS_FR.get(offer.kind, offer.kind),
        freins=(), places=(Place(offer.location.commune, None, False),), itinerant=False,
        by_dossier=False, contact=None, how_to=how_to, prescription_required=False,
        cost="Gratuit", duration=contract,
        weekly_hours=(f"{number_fr(offer.hours_per_week, 0)} h par semaine"
                      if offer.hours_per_week else None),
        capacity=f"{offer.positions} poste(s)", public=None, conditions=None,
        source_document=("offre de démonstration (synthétique)" if offer.synthetic
                         else offer.source),
        source_section=None, period=None, document_year=None, old_document=False, active=True,
        what_to_bring=WHAT_TO_BRING_OFFER)


def item_sheet(engine: MatchingEngine, item_kind: str, item_id: str,
               titles: dict[str, str] | None = None) -> ActionSheet | None:
    """The sheet of an action or an offer."""
    if item_kind == "action":
        return action_sheet(engine, item_id, titles=titles)
    return offer_sheet(engine, item_id)
