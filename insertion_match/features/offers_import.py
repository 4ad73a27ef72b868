"""Offers from files: France Travail "offres d'emploi v2" JSON and CSV → validated opportunities.

Pure parsing and validation, no storage: :func:`parse_france_travail` and :func:`parse_csv`
return an :class:`ImportBatch` with every valid :class:`~insertion_match.domain.Opportunity` and
every rejected record with its reasons (field, English and French message). Storing a batch is
the service's job (``service/db/opportunities.py``), in one transaction.

France Travail JSON (the fields of the public API, ``GET /offres/search`` and ``/offres/{id}``):
a list of offers, one offer, or a search answer ``{"resultats": [...]}``. Read: ``id``,
``intitule``, ``romeCode``, ``appellationlibelle``, ``lieuTravail`` (``commune`` = INSEE code,
else ``codePostal`` + ``libelle`` "61 - ALENCON", ``latitude``/``longitude``), ``entreprise.nom``,
``typeContrat`` / ``typeContratLibelle`` ("CDD - 6 Mois"), ``dureeTravailLibelle`` ("35H Horaires
normaux", "24H Travail de nuit"), ``dureeTravailLibelleConverti``, ``contexteTravail.horaires``,
``conditionExercice``, ``formations[].niveauLibelle/exigence``, ``experienceExige`` /
``experienceLibelle``, ``permis[].libelle/exigence``, ``competences[].libelle``,
``qualitesProfessionnelles[].libelle``, ``nombrePostes``, ``accessibleTH``, ``dateCreation``,
``origineOffre.urlOrigine``, ``description``. Project extensions: ``kind`` (job by default),
``dateExpiration``, ``dateDebut``, ``origine: "synthetic"``.

CSV (UTF-8, header row, ``,`` or ``;``): see :data:`CSV_COLUMNS`; lists inside a cell are
separated by ``|``; licences as ``B:E|C:S`` (category:exigence).

A job without ``romeCode`` gets the code its title matches (``rome_inferred``), or is rejected.
Within one file, a second record with the same id is rejected as a duplicate.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from insertion_match.domain import CONTRACT_LABELS_FR, OPPORTUNITY_KINDS, Opportunity
from insertion_match.features.rome import RomeReferential
from insertion_match.geo import Gazetteer, GeoError
from insertion_match.validation import FieldError, field_errors

#: A ROME code inferred from a title is kept only from this match score on.
INFER_MIN_SCORE = 85.0

CSV_COLUMNS: tuple[str, ...] = (
    "external_id", "kind", "title", "rome_code", "employer", "commune", "postcode", "insee",
    "lat", "lon", "contract_type", "contract_months", "hours_per_week", "full_time",
    "atypical_hours", "training_level", "training_required", "experience", "licences",
    "skills", "soft_skills", "positions", "created_at", "start_date", "expires_at", "url",
    "description", "synthetic", "source",
)
CSV_REQUIRED: frozenset[str] = frozenset({"external_id", "title"})

#: France Travail ``formations[].niveauLibelle`` → training level (DESIGN §2 nomenclature).
FT_TRAINING_LEVELS: tuple[tuple[str, str | None], ...] = (
    ("bac+5", "7"), ("bac+8", "8"), ("bac+3", "6"), ("bac+4", "6"), ("bac+2", "5"),
    ("bac", "4"), ("cap", "3"), ("bep", "3"), ("sans diplome", None), ("aucun", None),
)

_ATYPICAL_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("night", re.compile(r"\bnuit|nocturne", re.IGNORECASE)),
    ("weekend", re.compile(r"samedi|dimanche|week[- ]?end|f[ée]ri[ée]", re.IGNORECASE)),
    ("shifts", re.compile(r"[ée]quipe|\b[23]\s*x\s*8\b|roulement|post[ée]", re.IGNORECASE)),
    ("early_late", re.compile(r"d[ée]cal[ée]|t[ôo]t le matin|tard le soir|soir[ée]e|aube",
                              re.IGNORECASE)),
    ("split", re.compile(r"coupure|discontinu", re.IGNORECASE)),
)
_HOURS = re.compile(r"(\d{1,2})\s*h(?:eures?)?\s*(\d{2})?", re.IGNORECASE)
_CONTRACT_DURATION = re.compile(r"(\d+)\s*(mois|jour|semaine|an)", re.IGNORECASE)
_DEPT_NAME = re.compile(r"^\s*(\d[\dAB]|\d{3})\s*-\s*(.+?)\s*$")
_EXTERNAL_ID = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Rejection:
    """A record that was not imported. ``position``: 1-based (CSV: the line number)."""

    position: int
    external_id: str | None
    errors: tuple[FieldError, ...]


@dataclass
class ImportBatch:
    """What a file holds: the valid opportunities and every rejected record, with why."""

    source: str
    opportunities: list[Opportunity] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.opportunities) + len(self.rejected)


class _Invalid(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(e.message for e in errors))


def _err(field_: str, en: str, fr: str) -> FieldError:
    return FieldError(field_, en, fr)


# --------------------------------------------------------------------------------- helpers


def _text(value: Any, max_len: int | None = None) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise TypeError("text expected")
    text = str(value).strip()
    if not text:
        return None
    return text[:max_len] if max_len else text


def _date(value: Any) -> date | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        return date.fromisoformat(text[:10])


def contract_months(label: str | None) -> float | None:
    """"CDD - 6 Mois" → 6; "Contrat travail temporaire - 15 Jour(s)" → 0.5; None if absent."""
    if not label:
        return None
    m = _CONTRACT_DURATION.search(label)
    if not m:
        return None
    n, unit = float(m[1]), m[2].lower()
    return {"mois": n, "jour": n / 30, "semaine": n / 4.33, "an": 12 * n}[unit]


def hours_of(label: str | None) -> float | None:
    """"35H Horaires normaux" → 35.0; "24H30" → 24.5; None when no figure."""
    if not label:
        return None
    m = _HOURS.search(label)
    if not m:
        return None
    hours = float(m[1]) + (float(m[2]) / 60 if m[2] else 0.0)
    return hours if 0 < hours <= 70 else None


def atypical_of(*texts: str | None) -> tuple[str, ...]:
    """Atypical-hours flags named in working-time texts ("Travail de nuit", "2x8"...)."""
    joined = " ".join(t for t in texts if t)
    return tuple(flag for flag, pattern in _ATYPICAL_PATTERNS if pattern.search(joined))


def training_level_of(label: str | None) -> str | None:
    if not label:
        return None
    key = re.sub(r"\s+", "", label.lower().replace("é", "e"))
    key_spaced = label.lower().replace("é", "e")
    for needle, level in FT_TRAINING_LEVELS:
        if needle.replace(" ", "") in key or needle in key_spaced:
            return level
    return None


def licence_category(label: str) -> str | None:
    """"B - Véhicule léger" → "B"; "CE - Poids lourd + remorque" → "CE"; else None."""
    head = label.split(" - ", 1)[0].strip().upper().replace(" ", "")
    return head if re.fullmatch(r"[A-Z][A-Z0-9]{0,3}", head) else None


# ----------------------------------------------------------------------------- the builder


class _Builder:
    """Validates one record's fields into an Opportunity (shared by the JSON and CSV paths)."""

    def __init__(self, source: str, gazetteer: Gazetteer, rome: RomeReferential) -> None:
        self.source = source
        self.gazetteer = gazetteer
        self.rome = rome

    def locate(self, insee: str | None, postcode: str | None, name: str | None,
               lat: Any, lon: Any, field_: str) -> dict[str, Any]:
        commune = None
        try:
            if insee:
                commune = self.gazetteer.by_insee(insee)
            elif name or postcode:
                commune = self.gazetteer.resolve(commune=name, postcode=postcode)
        except GeoError as exc:
            raise _Invalid([_err(field_, f"work place not found: {exc}",
                                 f"lieu de travail introuvable : {exc}")]) from exc
        if commune is None:
            raise _Invalid([_err(field_, "work place not located to a commune",
                                 "lieu de travail non localisable à la commune")])
        try:
            lat_f = float(lat) if lat not in (None, "") else commune.lat
            lon_f = float(lon) if lon not in (None, "") else commune.lon
        except (TypeError, ValueError) as exc:
            raise _Invalid([_err(field_ + ".latitude", "coordinates are not numbers",
                                 "coordonnées non numériques")]) from exc
        return {"commune": commune.name, "insee": commune.insee,
                "postcode": postcode if postcode and postcode in commune.postcodes
                else (commune.postcodes[0] if commune.postcodes else None),
                "department": commune.department, "lat": lat_f, "lon": lon_f}

    def rome_fields(self, kind: str, code: str | None, titles: Iterable[str | None],
                    field_: str) -> dict[str, Any]:
        if code:
            code = code.strip().upper()
            if code in self.rome.position:
                return {"rome_code": code, "rome_inferred": False}
            raise _Invalid([_err(field_, f"unknown ROME code {code!r}",
                                 f"code ROME inconnu : « {code} »")])
        for title in titles:
            if not title:
                continue
            match = self.rome.match_title(title)
            if match.code and match.score >= INFER_MIN_SCORE:
                return {"rome_code": match.code, "rome_inferred": True}
        if kind == "job":
            raise _Invalid([_err(field_, "no ROME code, and the title matches none",
                                 "pas de code ROME, et l'intitulé n'en désigne aucun")])
        return {"rome_code": None, "rome_inferred": False}

    def validate(self, fields: dict[str, Any]) -> Opportunity:
        try:
            return Opportunity.model_validate(fields)
        except ValidationError as exc:
            raise _Invalid(field_errors(exc.errors(), default="record")) from exc


def _external_id(value: Any) -> str | None:
    text = _text(value, 80)
    if text is None:
        return None
    return _EXTERNAL_ID.sub("-", text).strip("-.") or None


def _collect(records: Iterable[tuple[int, Any]], source: str,
             build: Callable[[Any], Opportunity]) -> ImportBatch:
    batch = ImportBatch(source=source)
    seen: dict[str, int] = {}
    for position, record in records:
        ext = None
        try:
            opp = build(record)
            ext = opp.external_id
            if opp.id in seen:
                raise _Invalid([_err("id", f"duplicate of record {seen[opp.id]}",
                                     f"doublon de l'enregistrement {seen[opp.id]}")])
            seen[opp.id] = position
            batch.opportunities.append(opp)
        except _Invalid as exc:
            if ext is None and isinstance(record, Mapping):
                ext = _external_id(record.get("id", record.get("external_id")))
            batch.rejected.append(Rejection(position, ext, tuple(exc.errors)))
        except (TypeError, ValueError, AttributeError) as exc:
            if isinstance(record, Mapping):
                ext = _external_id(record.get("id", record.get("external_id")))
            batch.rejected.append(Rejection(position, ext, (
                _err("record", f"malformed record: {exc}", f"enregistrement mal formé : {exc}"),)))
    return batch


# -------------------------------------------------------------------- France Travail JSON


def _ft_records(payload: Any) -> list[Any]:
    if isinstance(payload, Mapping) and "resultats" in payload:
        payload = payload["resultats"]
    elif isinstance(payload, Mapping):
        payload = [payload]
    if not isinstance(payload, list):
        raise ValueError(  # noqa: TRY004  (callers report a bad document as a value error)
            "a France Travail file holds a list of offers, one offer, or {\"resultats\": [...]}")
    return payload


def parse_france_travail(
    payload: Any, gazetteer: Gazetteer, rome: RomeReferential, source: str = "france-travail"
) -> ImportBatch:
    """Validate the offers of a France Travail "offres d'emploi v2" JSON document.

    Raises ``ValueError`` only when the document as a whole has the wrong shape; a bad record
    is a :class:`Rejection`, never an exception.
    """
    builder = _Builder(source, gazetteer, rome)
    return _collect(enumerate(_ft_records(payload), start=1), source,
                    lambda r: _from_ft(r, builder))


def _from_ft(r: Any, b: _Builder) -> Opportunity:
    if not isinstance(r, Mapping):
        raise _Invalid([_err("record", "an offer is a JSON object", "une offre est un objet JSON")])
    errors: list[FieldError] = []
    ext = _external_id(r.get("id"))
    if ext is None:
        errors.append(_err("id", "missing offer id", "identifiant de l'offre manquant"))
    title = _text(r.get("intitule"), 300) or _text(r.get("appellationlibelle"), 300)
    if title is None:
        errors.append(_err("intitule", "missing title", "intitulé manquant"))
    kind = _text(r.get("kind")) or "job"
    if kind not in OPPORTUNITY_KINDS:
        errors.append(_err("kind", f"unknown kind {kind!r}", f"type d'offre inconnu : « {kind} »"))
    lieu = r.get("lieuTravail") or {}
    if not isinstance(lieu, Mapping):
        errors.append(_err("lieuTravail", "an object is expected", "objet attendu"))
        lieu = {}
    location: dict[str, Any] | None = None
    rome: dict[str, Any] | None = None
    try:
        name = _text(lieu.get("libelle"))
        dept_name = _DEPT_NAME.match(name) if name else None
        location = b.locate(_text(lieu.get("commune")), _text(lieu.get("codePostal")),
                            dept_name[2] if dept_name else name,
                            lieu.get("latitude"), lieu.get("longitude"), "lieuTravail")
    except _Invalid as exc:
        errors.extend(exc.errors)
    try:
        rome = b.rome_fields(kind, _text(r.get("romeCode")),
                             (_text(r.get("appellationlibelle")), title), "romeCode")
    except _Invalid as exc:
        errors.extend(exc.errors)
    if errors:
        raise _Invalid(errors)

    contract = _text(r.get("typeContrat"))
    contract_label = _text(r.get("typeContratLibelle"), 200)
    duration = _text(r.get("dureeTravailLibelle"), 300)
    converted = _text(r.get("dureeTravailLibelleConverti"))
    context = r.get("contexteTravail") or {}
    horaires = context.get("horaires") if isinstance(context, Mapping) else None
    horaires_text = " ".join(str(h) for h in horaires) if isinstance(horaires, list) else None
    formations = [f for f in (r.get("formations") or []) if isinstance(f, Mapping)]
    levels = [(training_level_of(_text(f.get("niveauLibelle"))), f.get("exigence") == "E")
              for f in formations]
    levels = [(lv, req) for lv, req in levels if lv is not None]
    level, level_required = (min(levels, key=lambda x: int(x[0])) if levels else (None, False))
    licences = []
    for p in r.get("permis") or []:
        label = _text(p.get("libelle")) if isinstance(p, Mapping) else None
        category = licence_category(label) if label else None
        if category is None:
            raise _Invalid([_err("permis", f"unreadable licence {p!r}",
                                 f"permis illisible : « {p} »")])
        licences.append({"category": category, "label": label[:120],
                         "required": p.get("exigence", "E") != "S"})
    entreprise = r.get("entreprise") or {}
    origine = r.get("origineOffre") or {}
    fields = {
        "id": f"{b.source}:{ext}", "source": b.source, "external_id": ext, "kind": kind,
        "title": title, **(rome or {}), "appellation": _text(r.get("appellationlibelle"), 300),
        "employer": _text(entreprise.get("nom"), 300) if isinstance(entreprise, Mapping) else None,
        "location": location,
        "contract_type": contract.upper() if contract else None,
        "contract_label": contract_label or (CONTRACT_LABELS_FR.get(contract.upper())
                                             if contract else None),
        "contract_months": contract_months(contract_label),
        "hours_per_week": hours_of(duration),
        "full_time": {"temps plein": True, "temps partiel": False}.get((converted or "").lower()),
        "atypical_hours": atypical_of(duration, horaires_text, _text(r.get("conditionExercice")),
                                      _text(r.get("complementExercice"))),
        "schedule_label": duration,
        "training_level": level, "training_required": level_required,
        "experience": _text(r.get("experienceExige")),
        "experience_label": _text(r.get("experienceLibelle"), 300),
        "licences": licences,
        "skills": [s for c in (r.get("competences") or []) if isinstance(c, Mapping)
                   and (s := _text(c.get("libelle"), 300))],
        "soft_skills": [s for c in (r.get("qualitesProfessionnelles") or [])
                        if isinstance(c, Mapping) and (s := _text(c.get("libelle"), 300))],
        "positions": r.get("nombrePostes") or 1,
        "accessible_rqth": r.get("accessibleTH"),
        "created_at": _date(r.get("dateCreation")),
        "start_date": _date(r.get("dateDebut")),
        "expires_at": _date(r.get("dateExpiration")),
        "url": _text(origine.get("urlOrigine"), 500) if isinstance(origine, Mapping) else None,
        "description": _text(r.get("description"), 4000),
        "synthetic": r.get("origine") == "synthetic",
    }
    return b.validate(fields)


# ---------------------------------------------------------------------------------- CSV


def parse_csv(
    text: str, gazetteer: Gazetteer, rome: RomeReferential, source: str = "csv"
) -> ImportBatch:
    """Validate the offers of a CSV document (header row; see :data:`CSV_COLUMNS`).

    Raises ``ValueError`` when the header lacks a required column or names an unknown one.
    """
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""),  # \n, \r\n, \r
                            delimiter=delimiter)
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error as exc:  # a field over the size limit, a NUL byte...
        raise ValueError(f"unreadable CSV header: {exc}") from exc
    missing = sorted(CSV_REQUIRED - set(header))
    unknown = sorted(set(header) - set(CSV_COLUMNS))
    if missing or unknown:
        raise ValueError(f"CSV header: missing columns {missing}, unknown columns {unknown}; "
                         f"allowed: {', '.join(CSV_COLUMNS)}")
    builder = _Builder(source, gazetteer, rome)
    try:
        rows = [(reader.line_num, {k.strip(): v for k, v in row.items() if k is not None})
                for row in reader]
    except csv.Error as exc:
        raise ValueError(f"unreadable CSV at line {reader.line_num}: {exc}") from exc
    return _collect(rows, source, lambda r: _from_csv(r, builder))


def _split(value: str | None) -> list[str]:
    return [p.strip() for p in (value or "").split("|") if p.strip()]


def _bool(value: str | None) -> bool | None:
    text = (value or "").strip().lower()
    if not text:
        return None
    if text in {"1", "true", "oui", "yes", "o", "y"}:
        return True
    if text in {"0", "false", "non", "no", "n"}:
        return False
    raise ValueError(f"yes/no expected, got {value!r}")


def _from_csv(r: dict[str, str | None], b: _Builder) -> Opportunity:

    def get(key: str) -> str | None:  # short rows: missing cells read as empty
        return _text(r.get(key))

    errors: list[FieldError] = []
    source = get("source") or b.source
    ext = _external_id(get("external_id"))
    if ext is None:
        errors.append(_err("external_id", "missing id", "identifiant manquant"))
    kind = get("kind") or "job"
    location = rome = None
    try:
        location = b.locate(get("insee"), get("postcode"), get("commune"), get("lat"),
                            get("lon"), "commune")
    except _Invalid as exc:
        errors.extend(exc.errors)
    try:
        rome = b.rome_fields(kind, get("rome_code"), (get("title"),), "rome_code")
    except _Invalid as exc:
        errors.extend(exc.errors)
    licences = []
    for item in _split(get("licences")):
        category, _, need = item.partition(":")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]{0,3}", category.strip()) or need.strip().upper() \
                not in {"", "E", "S"}:
            errors.append(_err("licences", f"licence {item!r}: write CATEGORY:E or CATEGORY:S",
                               f"permis « {item} » : écrire CATÉGORIE:E ou CATÉGORIE:S"))
            continue
        licences.append({"category": category.strip().upper(),
                         "required": need.strip().upper() != "S"})
    try:
        full_time, required, synthetic = (_bool(get("full_time")),
                                          _bool(get("training_required")), _bool(get("synthetic")))
    except ValueError as exc:
        errors.append(_err("full_time", str(exc), "oui ou non attendu"))
        full_time = required = synthetic = None
    if errors:
        raise _Invalid(errors)
    contract = get("contract_type")
    fields = {
        "id": f"{source}:{ext}", "source": source, "external_id": ext, "kind": kind,
        "title": get("title"), **(rome or {}), "employer": get("employer"), "location": location,
        "contract_type": contract.upper() if contract else None,
        "contract_label": CONTRACT_LABELS_FR.get(contract.upper()) if contract else None,
        "contract_months": get("contract_months"), "hours_per_week": get("hours_per_week"),
        "full_time": full_time, "atypical_hours": _split(get("atypical_hours")),
        "training_level": get("training_level"), "training_required": bool(required),
        "experience": get("experience"), "licences": licences,
        "skills": _split(get("skills")), "soft_skills": _split(get("soft_skills")),
        "positions": get("positions") or 1, "created_at": get("created_at"),
        "start_date": get("start_date"), "expires_at": get("expires_at"), "url": get("url"),
        "description": get("description"), "synthetic": bool(synthetic),
    }
    return b.validate(fields)
