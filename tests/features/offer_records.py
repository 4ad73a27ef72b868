"""Offer records in the France Travail "offres d'emploi v2" format, shared by import tests.

Shaped like the public API's answers (field names, nesting, value styles), with invented
content in the Orne.
"""

from __future__ import annotations

import copy
from typing import Any

FT_OFFER: dict[str, Any] = {
    "id": "190XKLM",
    "intitule": "Agent d'entretien des locaux H/F",
    "description": "Nettoyage de bureaux le matin tôt et le soir.",
    "dateCreation": "2026-10-28T14:01:33.000Z",
    "dateActualisation": "2026-10-29T09:00:00.000Z",
    "lieuTravail": {"libelle": "61 - FLERS", "latitude": 48.7486, "longitude": -0.5697,
                    "codePostal": "61100", "commune": "61169"},
    "romeCode": "K2204",
    "romeLibelle": "Agent / Agente de nettoyage industriel",
    "appellationlibelle": "Agent / Agente d'entretien-propreté de locaux",
    "entreprise": {"nom": "PROPRETE DU BOCAGE", "entrepriseAdaptee": False},
    "typeContrat": "CDD",
    "typeContratLibelle": "Contrat à durée déterminée - 6 Mois",
    "natureContrat": "Contrat travail",
    "experienceExige": "D",
    "experienceLibelle": "Débutant accepté",
    "formations": [{"codeFormation": "42054", "domaineLibelle": "propreté",
                    "niveauLibelle": "CAP, BEP et équivalents", "exigence": "S"}],
    "permis": [{"libelle": "B - Véhicule léger", "exigence": "E"}],
    "competences": [
        {"code": "120823", "libelle": "Nettoyer des locaux", "exigence": "E"},
        {"code": "104323", "libelle": "Utiliser des produits d'entretien", "exigence": "S"},
    ],
    "qualitesProfessionnelles": [{"libelle": "Faire preuve de rigueur et de précision",
                                  "description": "…"}],
    "salaire": {"libelle": "Mensuel de 1801,80 Euros sur 12 mois"},
    "dureeTravailLibelle": "24H Travail en horaires décalés",
    "dureeTravailLibelleConverti": "Temps partiel",
    "contexteTravail": {"horaires": ["24H/semaine", "Travail tôt le matin"]},
    "alternance": False,
    "nombrePostes": 2,
    "accessibleTH": True,
    "qualificationCode": "2",
    "qualificationLibelle": "Ouvrier qualifié (P1,P2)",
    "origineOffre": {"origine": "1",
                     "urlOrigine": "https://candidat.francetravail.fr/offres/recherche/detail/190XKLM"},
}


def offer(**changes: Any) -> dict[str, Any]:
    """A copy of :data:`FT_OFFER` with top-level fields replaced (None deletes)."""
    record = copy.deepcopy(FT_OFFER)
    for key, value in changes.items():
        if value is None:
            record.pop(key, None)
        else:
            record[key] = value
    return record
