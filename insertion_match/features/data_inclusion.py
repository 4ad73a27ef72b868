"""Export the catalogue in the data·inclusion v1 formats: services and structures (DESIGN §3).

The records follow the official models of the ``data-inclusion-schema`` package
(``data_inclusion.schema.v1.Service`` and ``Structure``); the tests validate them with it, no
constraint is copied here. What the export says, and where it comes from:

- one **service per site**: an action delivered in Flers and La Ferté-Macé gives two services
  (ids ``<action>--1``, ``<action>--2``; a single-site action keeps its id). Sites the document
  does not name (``unspecified``, ``department_seat``) give one service without an address;
- one **structure per operator**, exported beside the services, with the ids the services point
  to (``insertion-match--<operator slug>``);
- ``date_maj`` is the date of the source document (``data/reference/source_documents.csv``), not
  the day of the export;
- ``thematiques``: the action's own purpose — the thématique of the action's freins whose label
  best matches its title and description, the main frein (the first listed) weighing most; a
  second one only when it matches as well — never every thématique of every frein;
- ``modes_accueil``: ``en-presentiel`` when the document names a place, ``a-distance`` when it
  says the action works at a distance (remote / phone / video); nothing otherwise;
- ``modes_mobilisation``: ``telephoner`` when the document gives the operator's phone,
  ``se-presenter`` when it says to come to a permanence; ``mobilisable_par`` is
  ``professionnels`` for actions on prescription, else professionals and users.

Values the catalogue does not know stay null (no e-mail, no URL, no opening hours).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from insertion_match.domain import FREIN_LABELS_FR, Action, Site
from insertion_match.geo import Gazetteer, GeoError, Territories

SOURCE = "insertion-match"
SOURCE_DOCUMENTS_CSV = Path("reference") / "source_documents.csv"
PURPOSE_CSV = Path("reference") / "purpose_thematiques.csv"
NOT_A_PLACE = ("unspecified", "department_seat")
_TYPE_BY_CATEGORY = {
    "langue": "formation", "emploi_formation": "accompagnement", "iae": "accompagnement",
    "accompagnement_renforce": "accompagnement", "insertion_sociale": "atelier",
    "mobilite": "accompagnement", "diagnostic": "accompagnement", "numerique": "atelier",
}
_REMOTE = re.compile(r"\b(a distance|distanciel|visio|en ligne|telephonique)", re.IGNORECASE)
_COME_IN = re.compile(r"\b(permanence|se presenter|sans rendez-vous|accueil physique)", re.IGNORECASE)


def fold(text: str) -> str:
    """Lower case, no accents, one space between words."""
    folded = unicodedata.normalize("NFKD", text.lower().replace("’", "'"))
    return " ".join("".join(c for c in folded if not unicodedata.combining(c)).split())


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")[:80] or "inconnu"


def load_document_dates(data_dir: Path) -> dict[str, date]:
    """Source document file name → its date (``data/reference/source_documents.csv``)."""
    with (data_dir / SOURCE_DOCUMENTS_CSV).open(encoding="utf-8", newline="") as fh:
        return {r["document"]: date.fromisoformat(r["date"]) for r in csv.DictReader(fh)}


@dataclass(frozen=True)
class PurposeRules:
    """``data/reference/purpose_thematiques.csv``: ``title`` rules (a regular expression on the
    folded title → the thématique of that purpose, first match wins) and one ``frein`` default
    (the thématique of an action whose main aim is that frein)."""

    title_rules: tuple[tuple[re.Pattern[str], str], ...]
    by_frein: dict[str, str]

    @classmethod
    def load(cls, data_dir: Path) -> PurposeRules:
        rules, defaults = [], {}
        with (data_dir / PURPOSE_CSV).open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                if row["kind"] == "title":
                    rules.append((re.compile(row["key"]), row["thematique"]))
                else:
                    defaults[row["key"]] = row["thematique"]
        return cls(tuple(rules), defaults)

    def thematiques(self, action: Action) -> list[str]:
        """The thématique(s) of the action's own purpose: its title's, and the main frein's
        (the first frein with a default) when that is another one. At most two."""
        title = fold(action.title)
        out = [next((t for pattern, t in self.title_rules if pattern.search(title)), None)]
        main = next((self.by_frein[f.value] for f in action.freins if f.value in self.by_frein),
                    None)
        if main is not None and (out[0] is None or main.split("--")[0] != out[0].split("--")[0]):
            out.append(main)
        return [t for t in dict.fromkeys(out) if t is not None]


def _description(action: Action) -> str:
    text = action.description_fr.strip()
    if len(text) < 200:  # a short fiche: add what the document says of the public and freins
        extra = [f"Freins travaillés : {', '.join(FREIN_LABELS_FR[f.value] for f in action.freins)}."]
        if action.public_fr:
            extra.append(f"Public : {action.public_fr.rstrip('.')}.")
        if action.duration_fr:
            extra.append(f"Durée : {action.duration_fr.rstrip('.')}.")
        text = " ".join([text, *extra])
    return text


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
    if e.sex == "f":
        publics.append("femmes")
    return publics


def _zone(action: Action, territories: Territories) -> list[str]:
    terr = action.territory
    if terr.scope == "departement":
        return [terr.department]
    if terr.scope == "communes":
        return sorted(terr.communes)
    return sorted({c for name in terr.commissions for c in territories.communes_of(name)})


def _modes_accueil(action: Action, places: list[Site]) -> list[str] | None:
    modes = []
    if places and not action.by_dossier:
        modes.append("en-presentiel")
    if action.itinerant and _REMOTE.search(fold(f"{action.description_fr} "
                                                f"{action.how_to_mobilise_fr or ''}")):
        modes.append("a-distance")
    return modes or None


def _modes_mobilisation(action: Action) -> list[str] | None:
    modes = []
    if action.contact:
        modes.append("telephoner")
    if _COME_IN.search(fold(action.how_to_mobilise_fr or "")):
        modes.append("se-presenter")
    return modes or None


def structure_id_of(action: Action) -> str:
    name = action.operator or f"operateur-non-precise-{action.territory.department}"
    return f"{SOURCE}--{slug(name)}"


def structure_name(action: Action) -> str:
    if action.operator:
        name = action.operator.rstrip(" .")
        return name[:147].rstrip() + "…" if len(name) > 150 else name
    return f"Opérateur non précisé (département {action.territory.department})"


def _service_sites(action: Action) -> list[Site | None]:
    """The named places, one service each; one placeless service when none is named."""
    places = [s for s in action.sites if s.precision not in NOT_A_PLACE]
    return list(places) if places else [None]


def _place_fields(site: Site | None, gazetteer: Gazetteer) -> dict[str, Any]:
    if site is None:
        return {}
    lat: float | None  # the site's own point when its commune is unknown
    lon: float | None
    try:
        commune = gazetteer.by_insee(site.insee)
        lat, lon, postcode = commune.lat, commune.lon, (commune.postcodes or (None,))[0]
    except GeoError:
        lat, lon, postcode = site.lat, site.lon, None
    return {"adresse": site.address, "commune": site.commune, "code_postal": postcode,
            "code_insee": site.insee,
            "latitude": site.lat if site.lat is not None else lat,
            "longitude": site.lon if site.lon is not None else lon}


def to_services(
    action: Action, purposes: PurposeRules, gazetteer: Gazetteer, territories: Territories,
    date_maj: date,
) -> list[dict[str, Any]]:
    """The data·inclusion v1 service records of ``action``: one per named site."""
    sites = _service_sites(action)
    places = [s for s in sites if s is not None]
    nom = action.title.rstrip(" .")
    nom = nom[:147].rstrip() + "…" if len(nom) > 150 else nom
    cost = action.cost_eur
    base = {
        "source": SOURCE,
        "structure_id": structure_id_of(action),
        "nom": nom if len(nom) >= 3 else f"{nom} (action)",
        "description": _description(action),
        "date_maj": date_maj.isoformat(),
        "type": _TYPE_BY_CATEGORY.get(action.category.value),
        "thematiques": purposes.thematiques(action) or None,
        "frais": None if cost is None else ("payant" if cost > 0 else "gratuit"),
        "frais_precisions": action.cost_note_fr
        or (f"{cost:.0f} € à la charge de la personne" if cost else None),
        "publics": _publics(action),
        "publics_precisions": action.public_fr,
        "conditions_acces": action.eligibility.other_fr,
        "telephone": action.contact,
        "modes_accueil": _modes_accueil(action, places),
        "modes_mobilisation": _modes_mobilisation(action),
        "mobilisable_par": ["professionnels"] if action.prescription_required
        else ["professionnels", "usagers"],
        "mobilisation_precisions": action.how_to_mobilise_fr
        or ("Sur prescription du référent RSA" if action.prescription_required else None),
        "volume_horaire_hebdomadaire": action.weekly_hours,
        "nombre_semaines": None if not action.duration_months
        else max(1, round(action.duration_months * 52 / 12)),
        "zone_eligibilite": _zone(action, territories) or None,
    }
    out = []
    for k, site in enumerate(sites, start=1):
        sid = action.id if len(sites) == 1 else f"{action.id}--{k}"
        out.append({**base, "id": sid, **_place_fields(site, gazetteer)})
    return out


def to_structures(
    actions: list[Action], gazetteer: Gazetteer, dates: dict[str, date],
) -> list[dict[str, Any]]:
    """One structure per operator of ``actions``; its commune when all its named sites share
    one, its phone when all its actions give the same."""
    groups: dict[str, list[Action]] = defaultdict(list)
    for action in actions:
        groups[structure_id_of(action)].append(action)
    out = []
    for sid, group in groups.items():
        places = Counter(s.insee for a in group for s in a.sites if s.precision not in NOT_A_PLACE)
        phones = {a.contact for a in group}
        record: dict[str, Any] = {
            "source": SOURCE, "id": sid, "nom": structure_name(group[0]),
            "date_maj": max(dates[a.source.document] for a in group).isoformat(),
            "telephone": phones.pop() if len(phones) == 1 else None,
        }
        if len(places) == 1:
            insee = next(iter(places))
            addresses = {s.address for a in group for s in a.sites if s.insee == insee}
            record.update({k: v for k, v in _place_fields(
                next(s for a in group for s in a.sites if s.insee == insee), gazetteer).items()
                if k != "adresse"})
            record["adresse"] = addresses.pop() if len(addresses) == 1 else None
        out.append(record)
    return sorted(out, key=lambda r: r["id"])


@dataclass(frozen=True)
class Export:
    services: list[dict[str, Any]]
    structures: list[dict[str, Any]]


def export_catalogue(
    actions: list[Action], gazetteer: Gazetteer, territories: Territories, data_dir: Path,
    include_inactive: bool = False,
) -> Export:
    """Every (active) action as data·inclusion v1 services, with their structures (the
    reference tables are read from ``data_dir``)."""
    dates, purposes = load_document_dates(data_dir), PurposeRules.load(data_dir)
    kept = [a for a in actions if include_inactive or a.active]
    missing = sorted({a.source.document for a in kept} - set(dates))
    if missing:
        raise ValueError(f"aucune date pour le(s) document(s) source {', '.join(missing)} dans "
                         f"{SOURCE_DOCUMENTS_CSV}")
    services = [s for a in kept
                for s in to_services(a, purposes, gazetteer, territories, dates[a.source.document])]
    return Export(services, to_structures(kept, gazetteer, dates))
