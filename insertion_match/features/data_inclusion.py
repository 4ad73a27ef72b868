"""Export catalogue actions as data·inclusion v1 "service" records (DESIGN §3).

Field names and constraints follow ``schemas/v1/service.json`` of gip-inclusion's
data-inclusion-schema: required ``source, structure_id, id, nom, description (50-2000 chars),
date_maj``; ``thematiques`` are taken from ``data/reference/freins_mapping.csv`` (v1 values,
at most ``MAX_THEMATIQUES_PER_FREIN`` per frein the action addresses); ``zone_eligibilite`` lists
INSEE codes (département or communes). Values the catalogue does not know stay null.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from insertion_match.domain import FREIN_LABELS_FR, Action
from insertion_match.features.freins_mapping import FreinsMapping
from insertion_match.geo import Gazetteer, GeoError, Territories

SOURCE = "insertion-match"
MAX_THEMATIQUES_PER_FREIN = 3
_TYPE_BY_CATEGORY = {
    "langue": "formation", "emploi_formation": "accompagnement", "iae": "accompagnement",
    "accompagnement_renforce": "accompagnement", "insertion_sociale": "atelier",
    "mobilite": "accompagnement", "diagnostic": "accompagnement", "numerique": "atelier",
}


def _slug(text: str) -> str:
    import unicodedata

    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:80] or "inconnu"


def _description(action: Action) -> str:
    text = action.description_fr.strip()
    if len(text) < 50:
        freins = ", ".join(FREIN_LABELS_FR[f.value] for f in action.freins)
        text = f"{text} Freins travaillés : {freins}."
    return text[:2000]


def _publics(action: Action) -> list[str]:
    publics = ["beneficiaires-des-minimas-sociaux"]
    e = action.eligibility
    if e.age_max is not None and e.age_max <= 35:  # the PTI calls "jeunes" people up to 35
        publics.append("jeunes")
    if e.qpv_required:
        publics.append("residents-qpv-frr")
    if e.foreign_newcomer_required:
        publics.append("personnes-exilees")
    if e.rqth_required:
        publics.append("personnes-en-situation-de-handicap")
    return publics


def to_service(
    action: Action, mapping: FreinsMapping, gazetteer: Gazetteer, territories: Territories,
    date_maj: date,
) -> dict[str, Any]:
    """One data·inclusion v1 service record for ``action`` (its first site)."""
    site = action.sites[0]
    try:
        commune = gazetteer.by_insee(site.insee)
        lat, lon, postcode = commune.lat, commune.lon, (commune.postcodes or (None,))[0]
    except GeoError:
        lat, lon, postcode = site.lat, site.lon, None
    thematiques: list[str] = []
    for frein in action.freins:
        for code in mapping.thematiques_for(frein.value)[:MAX_THEMATIQUES_PER_FREIN]:
            if code not in thematiques:
                thematiques.append(code)
    terr = action.territory
    if terr.scope == "departement":
        zone = [terr.department]
    elif terr.scope == "communes":
        zone = sorted(terr.communes)
    else:
        zone = sorted({c for name in terr.commissions for c in territories.communes_of(name)})
    nom = action.title.rstrip(" .")[:150]
    cost = action.cost_eur
    return {
        "source": SOURCE,
        "structure_id": _slug(action.operator or "operateur-non-precise"),
        "id": action.id,
        "nom": nom if len(nom) >= 3 else f"{nom} (action)",
        "description": _description(action),
        "date_maj": date_maj.isoformat(),
        "type": _TYPE_BY_CATEGORY.get(action.category.value),
        "thematiques": thematiques or None,
        "frais": None if cost is None else ("payant" if cost > 0 else "gratuit"),
        "frais_precisions": action.cost_note_fr,
        "publics": _publics(action),
        "publics_precisions": action.eligibility.other_fr,
        "conditions_acces": action.eligibility.other_fr,
        "telephone": action.contact,
        "adresse": site.address,
        "commune": site.commune,
        "code_postal": postcode,
        "code_insee": site.insee,
        "latitude": lat,
        "longitude": lon,
        "mobilisable_par": ["professionnels"] if action.prescription_required
        else ["professionnels", "usagers"],
        "mobilisation_precisions": action.how_to_mobilise_fr
        or ("Sur prescription du référent RSA" if action.prescription_required else None),
        "volume_horaire_hebdomadaire": action.weekly_hours,
        "nombre_semaines": None if not action.duration_months
        else max(1, round(action.duration_months * 52 / 12)),
        "zone_eligibilite": zone or None,
    }


def export_services(
    actions: list[Action], mapping: FreinsMapping, gazetteer: Gazetteer,
    territories: Territories, date_maj: date, include_inactive: bool = False,
) -> list[dict[str, Any]]:
    """Every (active) action as a data·inclusion v1 service record, in catalogue order."""
    return [to_service(a, mapping, gazetteer, territories, date_maj)
            for a in actions if include_inactive or a.active]
