"""French wording of the codes a page shows (travel modes, levels, statuses...), as Jinja
filters and globals. Presentation only: no rule is decided here."""

from __future__ import annotations

import re
from datetime import date, datetime

from jinja2 import Environment

from insertion_match.domain import (
    CATEGORY_LABELS_FR,
    EXIT_KIND_LABELS_FR,
    FREIN_LABELS_FR,
    FREINS,
    OUTCOME_STATUS_LABELS_FR,
    REFUSAL_REASON_LABELS_FR,
    SEVERITY_LABELS_FR,
)

TRAVEL_MODES_FR = {
    "walk": "à pied", "bike": "à vélo", "two_wheeler": "en deux-roues motorisé",
    "car": "en voiture", "public_transport": "en transports en commun",
}
ORIENTATIONS_FR = {"sociale": "sociale", "socioprofessionnelle": "socioprofessionnelle",
                   "professionnelle": "professionnelle"}
TRAINING_LEVELS_FR = {
    "infra3": "infra 3 (sans diplôme)", "3": "3 (CAP, BEP)", "4": "4 (bac)", "5": "5 (bac+2)",
    "6": "6 (licence)", "7": "7 (master)", "8": "8 (doctorat)",
}
LICENCES_FR = {"none": "aucun", "code": "code de la route obtenu", "b": "permis B"}
VEHICLES_FR = {"none": "aucun", "car": "voiture", "two_wheeler": "deux-roues motorisé",
               "bike": "vélo"}
FAMILY_FR = {"isole": "personne seule", "couple": "en couple"}
SEX_FR = {"f": "femme", "m": "homme"}
STATUS_FR = {
    "foreign_newcomer": "Personne étrangère primo-arrivante",
    "independent_worker": "Travailleur ou travailleuse indépendante",
    "farmer": "Exploitant ou exploitante agricole",
    "rqth": "Reconnaissance de la qualité de travailleur handicapé (RQTH)",
    "mdph_known": "Connue de la MDPH (dossier, reconnaissance)",
    "qpv": "Habite un quartier prioritaire (QPV)",
    "job_takeup": "Reprise d'emploi en cours (contrat signé ou sur le point de l'être)",
}
ROLES_FR = {"coach": "référent·e", "admin": "administrateur·rice", "manager": "responsable",
            "platform": "plateforme", "evaluator": "évaluation"}


def travel_label(mode: str | None, minutes: float | None) -> str:
    if mode == "itinerant":
        return "vient à la personne (itinérant ou à distance)"
    if mode == "dossier":
        return "sur dossier, sans déplacement"
    if mode is None:
        return "trajet non déterminé (lieu inconnu ou aucun moyen de transport)"
    how = TRAVEL_MODES_FR.get(mode, mode)
    return f"{minutes:.0f} min {how}" if minutes is not None else how


def number_fr(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}".replace(",", "\u202f").replace(".", ",")
    return text


def signed_fr(value: float) -> str:
    return ("+" if value >= 0 else "−") + number_fr(abs(value), 3)


def date_fr(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
              "septembre", "octobre", "novembre", "décembre"]
    return f"{value.day} {months[value.month - 1]} {value.year}"


def grant_label(grant: str) -> str:
    if grant == "*":
        return "tous les territoires"
    department, _, commission = grant.partition(":")
    return f"{commission} ({department})" if commission else f"département {department}"


def document_year(period: str | None, document: str | None) -> int | None:
    """The year a source document was written: the first year of its period, else the first
    year in its file name."""
    for text in (period, document):
        found = re.findall(r"(?:19|20)\d\d", text or "")
        if found:
            return int(found[0])
    return None


def group_by_reasons(excluded: list) -> list[tuple[str, list]]:
    """Excluded items grouped by their first reason, largest group first: "Pourquoi pas ?"
    reads as a few causes, each with its items (and their other reasons)."""
    groups: dict[str, list] = {}
    for item in excluded:
        first = item.reasons[0].label if item.reasons else "Autre raison"
        key, _, detail = first.partition(" : ")  # "Objectif…, pas une action : <which one>"
        more = [detail] if detail else []
        more += [r.label for r in item.reasons[1:]]
        groups.setdefault(key, []).append((item, " ; ".join(more)))
    return sorted(groups.items(), key=lambda kv: -len(kv[1]))


def register(env: Environment) -> None:
    env.filters.update({
        "travel": lambda t: travel_label(t.get("mode"), t.get("minutes")) if isinstance(t, dict)
        else travel_label(t.mode, t.minutes),
        "num": number_fr, "signed": signed_fr, "date_fr": date_fr,
        "frein": lambda k: FREIN_LABELS_FR.get(k, k),
        "severity": lambda s: SEVERITY_LABELS_FR.get(int(s), str(s)),
        "category": lambda c: CATEGORY_LABELS_FR.get(c, c),
        "outcome": lambda s: OUTCOME_STATUS_LABELS_FR.get(s, s),
        "refusal": lambda s: REFUSAL_REASON_LABELS_FR.get(s, s),
        "exit_kind": lambda s: EXIT_KIND_LABELS_FR.get(s, s),
        "orientation": lambda s: ORIENTATIONS_FR.get(s, s),
        "training": lambda s: TRAINING_LEVELS_FR.get(s, s),
        "role": lambda s: ROLES_FR.get(s, s),
        "grant": grant_label, "by_reasons": group_by_reasons,
    })
    env.globals.update({
        "FREINS": FREINS, "FREIN_LABELS_FR": FREIN_LABELS_FR,
        "SEVERITY_LABELS_FR": SEVERITY_LABELS_FR, "TRAINING_LEVELS_FR": TRAINING_LEVELS_FR,
        "ORIENTATIONS_FR": ORIENTATIONS_FR, "LICENCES_FR": LICENCES_FR,
        "VEHICLES_FR": VEHICLES_FR, "FAMILY_FR": FAMILY_FR, "SEX_FR": SEX_FR,
        "STATUS_FR": STATUS_FR, "OUTCOME_STATUS_LABELS_FR": OUTCOME_STATUS_LABELS_FR,
        "REFUSAL_REASON_LABELS_FR": REFUSAL_REASON_LABELS_FR,
        "EXIT_KIND_LABELS_FR": EXIT_KIND_LABELS_FR,
    })
