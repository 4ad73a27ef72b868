"""Read data·inclusion v1 services and structures into catalogue actions (``catalogue import-di``).

1. **Read and validate**: files are a JSON array or JSON lines; every record is validated with the
   official models (``data_inclusion.schema.v1.Service`` / ``Structure``); a service must point to
   a structure of the structures file. Every rejection names the record number (1-based, the line
   for JSON lines), the field and the reason in French.
2. **Convert** each valid service into an :class:`~insertion_match.domain.Action`:

   - ``thematiques`` → freins through ``data/reference/freins_mapping.csv``;
   - the place: the service's ``code_insee``, else its postcode + commune name, else the
     structure's, through the gazetteer; without a locatable place the site is "à préciser";
   - ``zone_eligibilite`` → the territory (a served département, or its communes); an EPCI code
     (no EPCI table here) or no zone: the département of the place, with a warning;
   - ``modes_accueil`` → travel: ``a-distance`` alone makes the service come to the person
     (``itinerant``, no trip); offered both ways, the trip to the place is still estimated and a
     warning says it is also offered at a distance;
   - ``publics``: a public that includes RSA beneficiaries (``tous-publics``,
     ``beneficiaires-des-minimas-sociaux``, ``demandeurs-emploi``) sets no condition; ``femmes``
     alone is the rule ``sex: f``; any other public (``jeunes`` without ages, ``residents-qpv-frr``,
     ...) cannot be a rule without inventing its bounds and becomes a warning to check;
   - ``frais``: ``gratuit`` → cost 0; ``payant`` → the amount stays unknown, with a warning;
   - ``conditions_acces`` → the "Conditions" warning, as written;
   - ``mobilisable_par`` = professionals only → on prescription.

   Every imported action carries the warning "Fiche data·inclusion (source, date) : conditions à
   vérifier", so the référent sees where it comes from and what was not checked.
3. **Deduplicate** against the curated catalogue: same structure (operator name), same commune
   (or both without a named place, in the same département) and a similar title (rapidfuzz) →
   the curated action is kept and the service is linked to it (merged).

Services outside the served départements, or whose thématiques map to no frein, are skipped
(valid, but not for this catalogue): counted, never stored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from rapidfuzz import fuzz

from insertion_match.domain import (
    DEPARTMENT_CODES,
    Action,
    ActionCategory,
    DataInclusionLink,
    Eligibility,
    Site,
    SourceRef,
    Territory,
)
from insertion_match.features.data_inclusion import NOT_A_PLACE, fold, slug, structure_name
from insertion_match.features.errors import FeaturesError
from insertion_match.features.freins_mapping import FreinsMapping
from insertion_match.geo import Gazetteer, GeoError, Territories

DI_DOCUMENT = "data·inclusion"
SERVED_DEPARTMENTS: tuple[str, ...] = get_args(DEPARTMENT_CODES)
#: Publics that include a person in RSA: no condition.
_RSA_PUBLICS = {"tous-publics", "beneficiaires-des-minimas-sociaux", "demandeurs-emploi"}
_PUBLIC_LABELS = {
    "tous-publics": "tous publics", "actifs": "actifs",
    "beneficiaires-des-minimas-sociaux": "bénéficiaires des minimas sociaux",
    "demandeurs-emploi": "demandeurs d'emploi", "etudiants": "étudiants", "familles": "familles",
    "femmes": "femmes", "jeunes": "jeunes", "personnes-en-situation-de-handicap":
    "personnes en situation de handicap", "personnes-en-situation-durgence":
    "personnes en situation d'urgence", "personnes-en-situation-juridique-specifique":
    "personnes en situation juridique spécifique", "personnes-exilees": "personnes exilées",
    "residents-qpv-frr": "résidents QPV ou FRR", "seniors": "seniors",
}
_MODE_LABELS = {"telephoner": "téléphoner", "se-presenter": "se présenter",
                "envoyer-un-courriel": "envoyer un courriel",
                "utiliser-lien-mobilisation": "utiliser le lien de mobilisation"}
_CATEGORY_BY_PREFIX = {
    "mobilite": "mobilite", "numerique": "numerique", "sante": "sante",
    "logement-hebergement": "logement", "choisir-un-metier": "emploi_formation",
    "preparer-sa-candidature": "emploi_formation", "trouver-un-emploi": "emploi_formation",
    "se-former": "emploi_formation", "creer-une-entreprise": "emploi_formation",
    "remobilisation": "insertion_sociale", "famille": "insertion_sociale",
    "lecture-ecriture-calcul": "langue",
}
STRUCTURE_MIN, TITLE_MIN = 85.0, 85.0


class DiFormatError(FeaturesError):
    """A file that is neither a JSON array nor JSON lines (French message)."""


# ---- reading and validation ---------------------------------------------------------------


@dataclass(frozen=True)
class Rejection:
    file: str  # "services" or "structures"
    position: int  # 1-based record number (the line, for JSON lines)
    record_id: str | None
    errors: tuple[tuple[str, str], ...]  # (field, reason in French)

    def message_fr(self) -> str:
        what = "service" if self.file == "services" else "structure"
        why = " ; ".join(f"{f} : {m}" for f, m in self.errors)
        return f"{what} n° {self.position} ({self.record_id or 'sans id'}) : {why}"


def read_records(text: str, what: str) -> list[tuple[int, Any]]:
    """``(position, record)`` of a JSON array or JSON lines file."""
    stripped = text.lstrip()
    if not stripped:
        return []
    if stripped.startswith("["):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise DiFormatError(f"{what} : JSON illisible (ligne {exc.lineno}) : {exc.msg}") from exc
        return list(enumerate(data, start=1))
    out = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append((line_no, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise DiFormatError(f"{what} : ligne {line_no} : JSON illisible ({exc.msg}) ; "
                                "attendu : un tableau JSON ou une ligne JSON par enregistrement"
                                ) from exc
    return out


_MESSAGES = {
    "missing": "champ obligatoire manquant",
    "string_type": "texte attendu",
    "float_parsing": "nombre attendu", "float_type": "nombre attendu",
    "int_parsing": "nombre entier attendu", "int_type": "nombre entier attendu",
    "int_from_float": "nombre entier attendu",
    "date_from_datetime_parsing": "date invalide (format AAAA-MM-JJ attendu)",
    "date_parsing": "date invalide (format AAAA-MM-JJ attendu)",
    "date_type": "date invalide (format AAAA-MM-JJ attendu)",
    "url_parsing": "adresse web invalide", "url_scheme": "adresse web invalide (http ou https)",
    "list_type": "liste attendue", "set_type": "liste attendue",
    "model_type": "objet JSON attendu", "dict_type": "objet JSON attendu",
    "bool_parsing": "booléen attendu",
}


def _reason_fr(err: ErrorDetails) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind == "string_too_short":
        return f"au moins {ctx.get('min_length')} caractère(s)"
    if kind == "string_too_long":
        return f"au plus {ctx.get('max_length')} caractères"
    if kind == "string_pattern_mismatch":
        return f"format invalide (motif {ctx.get('pattern')})"
    if kind == "too_short":
        return f"au moins {ctx.get('min_length')} élément(s)"
    if kind == "enum":
        return f"valeur inconnue du schéma data·inclusion (attendu : {ctx.get('expected')})"
    if kind in ("greater_than_equal", "greater_than"):
        return f"doit être ≥ {ctx.get('ge', ctx.get('gt'))}"
    if kind == "value_error":  # the package's own messages are in French
        msg = str(err["msg"]).removeprefix("Value error, ")
        if "email" in msg.lower():
            return "courriel invalide"
        return msg
    return f"{err['msg']} ({kind})"


def _errors_fr(exc: ValidationError) -> tuple[tuple[str, str], ...]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        out.append((".".join(loc) or "enregistrement", _reason_fr(err)))
    return tuple(out)


@dataclass
class DiBatch:
    services: list[tuple[int, Any]] = field(default_factory=list)  # (position, Service)
    structures: dict[str, Any] = field(default_factory=dict)  # id -> Structure
    raw: dict[str, dict] = field(default_factory=dict)  # service id -> its JSON (for the hash)
    raw_structures: dict[str, dict] = field(default_factory=dict)
    rejected: list[Rejection] = field(default_factory=list)
    total_services: int = 0
    total_structures: int = 0


def validate(services_text: str, structures_text: str) -> DiBatch:
    """Validate both files with the official models (module docstring, step 1)."""
    from data_inclusion.schema.v1 import Service, Structure

    batch = DiBatch()
    structures = read_records(structures_text, "structures")
    services = read_records(services_text, "services")
    batch.total_structures, batch.total_services = len(structures), len(services)
    seen: dict[str, int] = {}
    for pos, rec in structures:
        rid = rec.get("id") if isinstance(rec, dict) else None
        try:
            st = Structure.model_validate(rec)
        except ValidationError as exc:
            batch.rejected.append(Rejection("structures", pos, rid, _errors_fr(exc)))
            continue
        if st.id in seen:
            batch.rejected.append(Rejection("structures", pos, st.id, (
                ("id", f"identifiant en double (déjà à l'enregistrement n° {seen[st.id]})"),)))
            continue
        seen[st.id] = pos
        batch.structures[st.id] = st
        batch.raw_structures[st.id] = rec
    seen = {}
    for pos, rec in services:
        rid = rec.get("id") if isinstance(rec, dict) else None
        try:
            svc = Service.model_validate(rec)
        except ValidationError as exc:
            batch.rejected.append(Rejection("services", pos, rid, _errors_fr(exc)))
            continue
        problems = []
        if svc.id in seen:
            problems.append(("id", f"identifiant en double (déjà au service n° {seen[svc.id]})"))
        if svc.structure_id not in batch.structures:
            problems.append(("structure_id", (f"structure {svc.structure_id!r} absente du fichier "
                             "des structures (ou rejetée)")))
        if problems:
            batch.rejected.append(Rejection("services", pos, svc.id, tuple(problems)))
            continue
        seen[svc.id] = pos
        batch.services.append((pos, svc))
        batch.raw[svc.id] = rec
    return batch


# ---- conversion ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DiReference:
    gazetteer: Gazetteer
    territories: Territories
    frein_of: dict[str, str | None]  # thématique -> frein
    chef_lieu: dict[str, str]  # département -> INSEE of its chef-lieu

    @classmethod
    def load(cls, data_dir: Path, gazetteer: Gazetteer, territories: Territories) -> DiReference:
        mapping = FreinsMapping.load(data_dir)
        frein_of = {r.code: r.frein for r in mapping.rows
                    if r.referential == "data_inclusion_thematique"}
        depts = json.loads((data_dir / "geo" / "departements.json").read_text(encoding="utf-8"))
        return cls(gazetteer, territories, frein_of, {d["code"]: d["chefLieu"] for d in depts})


@dataclass(frozen=True)
class Place:
    insee: str
    commune: str
    department: str
    lat: float
    lon: float
    address: str | None
    own: bool  # the service's own place (False: its structure's)


def _locate(rec: Any, ref: DiReference) -> Any | None:
    if rec.code_insee:
        try:
            return ref.gazetteer.by_insee(rec.code_insee)
        except GeoError:
            pass
    if rec.code_postal or rec.commune:
        try:
            return ref.gazetteer.resolve(commune=rec.commune, postcode=rec.code_postal)
        except GeoError:
            pass
    return None


def locate(svc: Any, structure: Any, ref: DiReference) -> Place | None:
    """The service's place, else its structure's; None when neither can be located."""
    for rec, own in ((svc, True), (structure, False)):
        if rec is None:
            continue
        commune = _locate(rec, ref)
        if commune is not None:
            lat = rec.latitude if rec.latitude is not None else commune.lat
            lon = rec.longitude if rec.longitude is not None else commune.lon
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                lat, lon = commune.lat, commune.lon
            return Place(commune.insee, commune.name, commune.department, lat, lon,
                         rec.adresse, own)
    return None


@dataclass(frozen=True)
class Converted:
    action: Action | None
    skipped_fr: str | None = None  # why a valid service is not for this catalogue
    placeless: bool = False
    own_place: str | None = None  # INSEE of the service's own place (deduplication)


def action_id_of(service_id: str) -> str:
    digest = hashlib.sha1(service_id.encode()).hexdigest()[:8]
    return f"di-{slug(service_id)[:80]}-{digest}"


def _territory(zone: list[str] | None, place: Place | None, ref: DiReference
               ) -> tuple[Territory | None, str | None]:
    """The territory served, and a French note when it had to be assumed."""
    zone = list(zone or [])
    dept_codes = [z for z in zone if len(z) in (2, 3)]
    communes = [z for z in zone if len(z) == 5 and not z.startswith("99")]
    national = any(z == "france" or (len(z) == 5 and z.startswith("99")) for z in zone)
    epcis = [z for z in zone if len(z) == 9]
    commune_depts = {}
    for c in communes:
        try:
            commune_depts[c] = ref.gazetteer.by_insee(c)
        except GeoError:
            continue
    served_in_zone = sorted(
        {d for d in dept_codes if d in SERVED_DEPARTMENTS}
        | {c.department for c in commune_depts.values() if c.department in SERVED_DEPARTMENTS})
    place_dept = place.department if place is not None else None
    if place_dept in served_in_zone or (place_dept in SERVED_DEPARTMENTS
                                        and (not zone or national or epcis)):
        dept = place_dept
    elif served_in_zone:
        dept = served_in_zone[0]
    else:
        return None, None
    note = None
    if dept in dept_codes or national:
        return Territory(department=dept, scope="departement"), None
    in_dept = sorted(c.insee for c in commune_depts.values() if c.department == dept)
    if in_dept:
        return Territory(department=dept, scope="communes", communes=tuple(in_dept)), None
    if epcis:
        note = (f"zone d'éligibilité donnée en EPCI ({', '.join(epcis[:3])}), non résolue ici : "
                "communes couvertes à vérifier")
    else:
        note = "zone d'éligibilité non précisée par la fiche : à vérifier"
    return Territory(department=dept, scope="departement"), note


def convert(svc: Any, structure: Any, ref: DiReference) -> Converted:
    """One valid data·inclusion service → an action of the catalogue (module docstring)."""
    thematiques = sorted(t.value for t in (svc.thematiques or ()))
    freins = list(dict.fromkeys(f for t in thematiques if (f := ref.frein_of.get(t))))
    place = locate(svc, structure, ref)
    own = place.insee if place is not None and place.own else None
    if not freins:
        why = ("sans thématique" if not thematiques else
               "aucune de ses thématiques ne correspond à un frein (ex. s'ouvrir à "
               "l'international)")
        return Converted(None, why, own_place=own)
    territory, zone_note = _territory(svc.zone_eligibilite, place, ref)
    if territory is None:
        return Converted(None, "hors des départements servis ("
                         + ", ".join(SERVED_DEPARTMENTS) + ")", own_place=own)
    dept = territory.department
    modes = {m.value for m in (svc.modes_accueil or ())}
    remote = modes == {"a-distance"}  # only at a distance: no trip (itinerant)
    notes = [(f"Fiche data·inclusion (source « {svc.source} », mise à jour le "
             f"{svc.date_maj:%d/%m/%Y}) : conditions à vérifier auprès de la structure")]
    publics = sorted(p.value for p in (svc.publics or ()))
    sex = None
    if publics and not _RSA_PUBLICS & set(publics):
        if publics == ["femmes"]:
            sex = "f"
        else:
            notes.append("public visé : " + ", ".join(_PUBLIC_LABELS.get(p, p) for p in publics))
    if svc.conditions_acces:
        notes.append(f"conditions d'accès : {svc.conditions_acces.strip().rstrip('.')}")
    frais = svc.frais.value if svc.frais is not None else None
    if frais == "payant":
        notes.append("service payant" + (f" ({svc.frais_precisions.strip()})"
                                         if svc.frais_precisions else " (montant non précisé)"))
    if zone_note:
        notes.append(zone_note)
    placeless = place is None
    if place is None:
        site = Site(commune=ref.gazetteer.by_insee(ref.chef_lieu[dept]).name,
                    insee=ref.chef_lieu[dept], precision="unspecified")
        if not remote:
            notes.append("aucune adresse localisable dans la fiche : lieu à préciser")
    else:
        site = Site(commune=place.commune, insee=place.insee, lat=place.lat, lon=place.lon,
                    address=place.address, precision="address" if place.address else "commune")
    if modes == {"a-distance", "en-presentiel"}:  # the trip is still estimated (conservative)
        notes.append("aussi proposé à distance")
    eligibility = Eligibility(sex=sex, other_fr=" ; ".join(notes) + ".")
    public_fr = ", ".join(_PUBLIC_LABELS.get(p, p) for p in publics) or None
    if svc.publics_precisions:
        public_fr = f"{public_fr + ' : ' if public_fr else ''}{svc.publics_precisions.strip()}"
    how = [svc.mobilisation_precisions.strip()] if svc.mobilisation_precisions else []
    if svc.modes_mobilisation:
        how.append("Modes de mobilisation : " + ", ".join(
            _MODE_LABELS.get(m.value, m.value) for m in sorted(svc.modes_mobilisation)))
    for extra in (svc.lien_mobilisation, svc.courriel or structure.courriel):
        if extra:
            how.append(str(extra))
    mobilisable = {m.value for m in (svc.mobilisable_par or ())}
    description = svc.description.strip()
    if len(description) < 10:
        description = f"{svc.nom} : {description}"
    category = _CATEGORY_BY_PREFIX.get(thematiques[0].split("--")[0], "autre") \
        if thematiques else "autre"
    action = Action(
        id=action_id_of(svc.id),
        title=svc.nom,
        description_fr=description,
        operator=structure.nom if structure is not None else None,
        category=ActionCategory(category),
        territory=territory,
        sites=(site,),
        itinerant=remote,
        remote=remote,
        public_fr=public_fr,
        freins=tuple(freins),
        eligibility=eligibility,
        prescription_required=mobilisable == {"professionnels"},
        cost_eur=0.0 if frais == "gratuit" else None,
        cost_note_fr=svc.frais_precisions if frais == "payant" else None,
        weekly_hours=svc.volume_horaire_hebdomadaire,
        duration_months=None if svc.nombre_semaines is None
        else round(svc.nombre_semaines * 12 / 52, 1),
        how_to_mobilise_fr=" ; ".join(how) or None,
        contact=svc.telephone or (structure.telephone if structure is not None else None),
        source=SourceRef(document=DI_DOCUMENT, section=f"source {svc.source}",
                         extract_id=svc.id),
        curation_note=f"Imported from data·inclusion (source {svc.source}, service {svc.id}, "
        f"structure {svc.structure_id}, date_maj {svc.date_maj.isoformat()}); not curated.",
        data_inclusion=DataInclusionLink(service_ids=(svc.id,), source=svc.source,
                                         structure_id=svc.structure_id, date_maj=svc.date_maj),
    )
    return Converted(action, placeless=placeless, own_place=own)


# ---- deduplication ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Curated:
    action: Action
    operator: str
    title: str
    places: frozenset[str]
    placeless: bool


class Deduplicator:
    """Finds the curated action a service duplicates (module docstring, step 3)."""

    def __init__(self, curated: Sequence[Action]) -> None:
        self._by_dept: dict[str, list[_Curated]] = {}
        for a in curated:
            places = frozenset(s.insee for s in a.sites if s.precision not in NOT_A_PLACE)
            self._by_dept.setdefault(a.territory.department, []).append(_Curated(
                a, fold(structure_name(a)), fold(a.title), places, not places))

    def match(self, svc: Any, structure: Any, department: str, own_place: str | None
              ) -> Action | None:
        name, title = fold(structure.nom), fold(svc.nom)
        best, best_score = None, 0.0
        for c in self._by_dept.get(department, ()):
            if own_place is not None and own_place not in c.places:
                continue
            if own_place is None and not c.placeless:
                continue
            s_struct = fuzz.token_set_ratio(name, c.operator)
            if s_struct < STRUCTURE_MIN:
                continue
            s_title = fuzz.token_set_ratio(title, c.title)
            if s_title < TITLE_MIN:
                continue
            # a title contained in another scores 100 with both: the closer whole title wins
            total = s_struct + s_title + fuzz.token_sort_ratio(title, c.title) / 100
            if total > best_score:
                best, best_score = c.action, total
        return best


# ---- the plan of one import ---------------------------------------------------------------


def content_hash(svc_raw: dict, structure_raw: dict | None) -> str:
    payload = json.dumps([svc_raw, structure_raw], sort_keys=True, ensure_ascii=False,
                         default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass
class DiPlan:
    """What an import does, before anything is written."""

    created: list[Action] = field(default_factory=list)  # new or changed imported actions
    merged: list[tuple[str, str]] = field(default_factory=list)  # (service id, curated id)
    unchanged: int = 0
    updated: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # French reason -> count
    placeless: int = 0
    links: list[dict] = field(default_factory=list)
    delete_action_ids: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)  # service ids no longer imported
    imported_actions: dict[str, Action] = field(default_factory=dict)  # all created, by id
    new_created: int = 0
    new_merged: int = 0


def plan_import(
    batch: DiBatch, curated: Sequence[Action], stored_imported: dict[str, Action],
    stored_links: dict[str, Any], ref: DiReference,
) -> DiPlan:
    """Convert, deduplicate and compare with what is stored (idempotence)."""
    dedup = Deduplicator(curated)
    curated_ids = {a.id for a in curated}
    plan = DiPlan(imported_actions=dict(stored_imported))
    for _pos, svc in batch.services:
        structure = batch.structures.get(svc.structure_id)
        digest = content_hash(batch.raw[svc.id], batch.raw_structures.get(svc.structure_id))
        conv = convert(svc, structure, ref)
        old = stored_links.get(svc.id)
        if conv.action is None:
            plan.skipped[conv.skipped_fr or "?"] = plan.skipped.get(conv.skipped_fr or "?", 0) + 1
            if old is not None:  # imported before, out of scope now: withdrawn
                plan.withdrawn.append(svc.id)
                if not old.merged and old.action_id not in curated_ids:
                    plan.delete_action_ids.append(old.action_id)
                    plan.imported_actions.pop(old.action_id, None)
            continue
        target = dedup.match(svc, structure, conv.action.territory.department, conv.own_place)
        link = {"service_id": svc.id, "source": svc.source, "structure_id": svc.structure_id,
                "date_maj": svc.date_maj, "content_sha256": digest}
        if target is not None:
            plan.merged.append((svc.id, target.id))
            if (old is not None and old.merged and old.action_id == target.id
                    and old.content_sha256 == digest):
                plan.unchanged += 1
                continue
            plan.new_merged += old is None
            plan.updated += old is not None
            if old is not None and not old.merged and old.action_id not in curated_ids:
                plan.delete_action_ids.append(old.action_id)
                plan.imported_actions.pop(old.action_id, None)
            plan.links.append({**link, "action_id": target.id, "merged": True})
            continue
        action = conv.action
        if (old is not None and not old.merged and old.content_sha256 == digest
                and old.action_id in stored_imported):
            plan.unchanged += 1
            continue
        plan.new_created += old is None
        plan.updated += old is not None
        plan.created.append(action)
        plan.placeless += conv.placeless
        plan.imported_actions[action.id] = action
        plan.links.append({**link, "action_id": action.id, "merged": False})
    return plan


def read_files(services: Path, structures: Path) -> DiBatch:
    """Validate two files (raises :class:`DiFormatError` for an unreadable one)."""
    texts = []
    for path, what in ((services, "services"), (structures, "structures")):
        try:
            texts.append(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise DiFormatError(f"{what} : lecture impossible de {path} : {exc}") from exc
    return validate(texts[0], texts[1])

