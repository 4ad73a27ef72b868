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

**Streaming** (files of any size, memory bounded): :func:`read_records` reads a binary stream
record by record (JSON document, JSON lines, CSV) and :func:`validate_records` turns each record
into an ``Opportunity`` or a :class:`Rejection`, one at a time; duplicates are then found by the
storage layer (``db.OfferStaging``), which holds the records instead of memory. The JSON reader
is the standard library's C scanner applied one array element at a time
(``JSONDecoder.raw_decode`` over a sliding buffer): about 9 µs per offer, and a record nested
100,000 levels deep is a ``RecursionError`` turned into a clean error (ijson builds a prefix
string per level and ran out of memory on it, measured).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any, BinaryIO, Literal

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
    if type(value) is str:  # the common case, first
        text = value.strip()
        return (text[:max_len] if max_len else text) or None
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


@lru_cache(maxsize=16384)  # the same labels recur across a file
def contract_months(label: str | None) -> float | None:
    """"CDD - 6 Mois" → 6; "Contrat travail temporaire - 15 Jour(s)" → 0.5; None if absent."""
    if not label:
        return None
    m = _CONTRACT_DURATION.search(label)
    if not m:
        return None
    n, unit = float(m[1]), m[2].lower()
    return {"mois": n, "jour": n / 30, "semaine": n / 4.33, "an": 12 * n}[unit]


@lru_cache(maxsize=16384)  # the same labels recur across a file
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
    return _atypical(" ".join(t for t in texts if t))


@lru_cache(maxsize=65536)
def _atypical(joined: str) -> tuple[str, ...]:  # the same few labels recur in every file
    return tuple(flag for flag, pattern in _ATYPICAL_PATTERNS if pattern.search(joined))


@lru_cache(maxsize=16384)  # the same labels recur across a file
def training_level_of(label: str | None) -> str | None:
    if not label:
        return None
    key = re.sub(r"\s+", "", label.lower().replace("é", "e"))
    key_spaced = label.lower().replace("é", "e")
    for needle, level in FT_TRAINING_LEVELS:
        if needle.replace(" ", "") in key or needle in key_spaced:
            return level
    return None


@lru_cache(maxsize=16384)  # the same labels recur across a file
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
        self._communes: dict[tuple[str | None, str | None, str | None], Any] = {}

    def _commune(self, insee: str | None, postcode: str | None, name: str | None) -> Any:
        """The commune of a work place, cached per (code, postcode, name): a national file
        names about 35,000 communes, each many times; a failure is cached as its GeoError."""
        key = (insee, postcode, name)
        found = self._communes.get(key)
        if found is None:
            try:
                if insee:
                    found = self.gazetteer.by_insee(insee)
                elif name or postcode:
                    found = self.gazetteer.resolve(commune=name, postcode=postcode)
                else:
                    found = False
            except GeoError as exc:
                found = exc
            if len(self._communes) < 200_000:  # bounded whatever the file
                self._communes[key] = found
        if isinstance(found, GeoError):
            raise found
        return found or None

    def locate(self, insee: str | None, postcode: str | None, name: str | None,
               lat: Any, lon: Any, field_: str) -> dict[str, Any]:
        try:
            commune = self._commune(insee, postcode, name)
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


def _one(position: int, record: Any, build: Callable[[Any], Opportunity]
         ) -> Opportunity | Rejection:
    """One record → its Opportunity, or its Rejection with every reason found."""
    if isinstance(record, RawRecord):
        record = _decoded(record)
    if isinstance(record, _Unreadable):
        return Rejection(position, None, (_err("record", f"unreadable line: {record.reason}",
                                               f"ligne illisible : {record.reason}"),))
    try:
        return build(record)
    except _Invalid as exc:
        errors = tuple(exc.errors)
    except (TypeError, ValueError, AttributeError) as exc:
        errors = (_err("record", f"malformed record: {exc}", f"enregistrement mal formé : {exc}"),)
    ext = None
    if isinstance(record, Mapping):
        try:
            ext = _external_id(record.get("id", record.get("external_id")))
        except TypeError:
            ext = None
    return Rejection(position, ext, errors)


def duplicate_rejection(position: int, external_id: str | None, first: int) -> Rejection:
    """A second record with the id of record ``first`` of the same file."""
    return Rejection(position, external_id, (_err("id", f"duplicate of record {first}",
                                                  f"doublon de l'enregistrement {first}"),))


def _collect(records: Iterable[tuple[int, Any]], source: str,
             build: Callable[[Any], Opportunity]) -> ImportBatch:
    return collect_batch(((position, _one(position, record, build))
                          for position, record in records), source)


def collect_batch(results: Iterable[tuple[int, Opportunity | Rejection]], source: str
                  ) -> ImportBatch:
    """A batch from validated records: the rejections, and each offer once (a second record
    with the same id is rejected, naming the first)."""
    batch = ImportBatch(source=source)
    seen: dict[str, int] = {}
    for position, result in results:
        if isinstance(result, Rejection):
            batch.rejected.append(result)
        elif result.id in seen:
            batch.rejected.append(duplicate_rejection(position, result.external_id,
                                                      seen[result.id]))
        else:
            seen[result.id] = position
            batch.opportunities.append(result)
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
    if not isinstance(r, dict):
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
    if not isinstance(lieu, dict):
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
    horaires = context.get("horaires") if isinstance(context, dict) else None
    horaires_text = " ".join(str(h) for h in horaires) if isinstance(horaires, list) else None
    formations = [f for f in (r.get("formations") or []) if isinstance(f, dict)]
    read_levels = [(training_level_of(_text(f.get("niveauLibelle"))), f.get("exigence") == "E")
                   for f in formations]
    levels = [(lv, req) for lv, req in read_levels if lv is not None]
    level, level_required = (min(levels, key=lambda x: int(x[0])) if levels else (None, False))
    licences = []
    for p in r.get("permis") or []:
        label = _text(p.get("libelle")) if isinstance(p, dict) else None
        category = licence_category(label) if label else None
        if label is None or category is None:  # no label, no category
            raise _Invalid([_err("permis", f"unreadable licence {p!r}",
                                 f"permis illisible : « {p} »")])
        licences.append({"category": category, "label": label[:120],
                         "required": p.get("exigence", "E") != "S"})
    entreprise = r.get("entreprise") or {}
    origine = r.get("origineOffre") or {}
    fields = {
        "id": f"{b.source}:{ext}", "source": b.source, "external_id": ext, "kind": kind,
        "title": title, **(rome or {}), "appellation": _text(r.get("appellationlibelle"), 300),
        "employer": _text(entreprise.get("nom"), 300) if isinstance(entreprise, dict) else None,
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
        "skills": [s for c in (r.get("competences") or []) if isinstance(c, dict)
                   and (s := _text(c.get("libelle"), 300))],
        "soft_skills": [s for c in (r.get("qualitesProfessionnelles") or [])
                        if isinstance(c, dict) and (s := _text(c.get("libelle"), 300))],
        "positions": r.get("nombrePostes") or 1,
        "accessible_rqth": r.get("accessibleTH"),
        "created_at": _date(r.get("dateCreation")),
        "start_date": _date(r.get("dateDebut")),
        "expires_at": _date(r.get("dateExpiration")),
        "url": _text(origine.get("urlOrigine"), 500) if isinstance(origine, dict) else None,
        "description": _text(r.get("description"), 4000),
        "synthetic": r.get("origine") == "synthetic",
    }
    return b.validate(fields)


# ---------------------------------------------------------------------------------- CSV


def check_csv_header(reader: csv.DictReader) -> None:
    """Raise ``ValueError`` for an unreadable header or one that lacks a required column or
    names an unknown one (the document is refused whole: nothing to report per record)."""
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error as exc:  # a field over the size limit, a NUL byte...
        raise ValueError(f"unreadable CSV header: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text: {exc}") from exc
    missing = sorted(CSV_REQUIRED - set(header))
    unknown = sorted(set(header) - set(CSV_COLUMNS))
    if missing or unknown:
        raise ValueError(f"CSV header: missing columns {missing}, unknown columns {unknown}; "
                         f"allowed: {', '.join(CSV_COLUMNS)}")


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
    check_csv_header(reader)
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


# ------------------------------------------------------------------------------- streaming

StreamFormat = Literal["json", "jsonl", "csv"]

#: Bytes read from a stream at a time.
CHUNK_BYTES = 1 << 20
#: Largest single JSON record (or top-level value besides ``resultats``): a bound on memory.
MAX_RECORD_CHARS = 16 << 20

_WS = " \t\n\r"
_TAIL = 64  # a decoding error this close to the end of the window may be the window's fault


@dataclass(frozen=True)
class _Unreadable:
    """A JSON line that does not parse: rejected as a record (the other lines still count)."""

    reason: str


@dataclass(frozen=True, slots=True)
class RawRecord:
    """A JSON record still as its text (``read_records(..., raw=True)``), decoded where it is
    validated: sent to a validating worker process, a string costs a copy where a parsed
    record costs a pickling of every nested value."""

    text: str | bytes


def _decoded(record: RawRecord) -> Any:
    try:
        return json.loads(record.text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        return _Unreadable(reason[:200])


def default_source(fmt: str) -> str:
    return "csv" if fmt == "csv" else "france-travail"


def read_records(stream: BinaryIO, fmt: StreamFormat, raw: bool = False
                 ) -> Iterator[tuple[int, Any]]:
    """``(position, record)`` one at a time from a binary stream: the elements of a France
    Travail JSON document (a list, one offer or ``{"resultats": [...]}``; position = rank,
    1-based), the lines of a JSON-lines file (position = line number; an unreadable line is a
    record that will be rejected), or the rows of a CSV file (position = line number, as a dict
    of the columns). Memory holds one chunk and one record, whatever the stream's size.

    Raises ``ValueError`` (while iterating) when the document as a whole is unusable: not
    UTF-8, not JSON, wrong shape, bad CSV header, a record over :data:`MAX_RECORD_CHARS`.

    ``raw``: JSON and JSON-lines records come as :class:`RawRecord` (their text; the document
    is still checked whole here), decoded by :func:`validate_records`, possibly in another
    process. CSV rows come as dicts either way.
    """
    if fmt == "json":
        return _json_document(stream, raw)
    if fmt == "jsonl":
        return _json_lines(stream, raw)
    if fmt == "csv":
        return _csv_rows(stream)
    raise ValueError(f"unknown format {fmt!r}: json, jsonl or csv")


class _Text:
    """A sliding window of decoded text over a binary stream (UTF-8, BOM dropped)."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.offset = 0  # characters dropped before buf

    def more(self) -> bool:
        """Read one more chunk; False at the end of the stream."""
        if self.eof:
            return False
        raw = self.stream.read(CHUNK_BYTES)
        try:
            text = self.decoder.decode(raw or b"", final=not raw)
        except UnicodeDecodeError as exc:
            raise ValueError(f"not UTF-8 text: {exc}") from exc
        if not raw:
            self.eof = True
        if self.pos > CHUNK_BYTES:  # drop what was consumed
            self.offset += self.pos
            self.buf, self.pos = self.buf[self.pos:], 0
        if len(self.buf) - self.pos > MAX_RECORD_CHARS:
            raise ValueError(f"a record over {MAX_RECORD_CHARS} characters, or unterminated "
                             f"JSON, at character {self.offset + self.pos}")
        self.buf += text
        return True

    def peek(self) -> str:
        """The next character that is not white space ('' at the end)."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _WS:
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return ""

    def expect(self, chars: str, what: str) -> str:
        char = self.peek()
        if not char or char not in chars:
            found = repr(char) if char else "the end of the document"
            raise ValueError(f"invalid JSON: {what} expected at character "
                             f"{self.offset + self.pos}, found {found}")
        self.pos += 1
        return char

    def value(self, decoder: json.JSONDecoder) -> Any:
        """The next JSON value, read through the C scanner; more text is read while the value
        runs past the end of the window."""
        self.peek()
        while True:
            try:
                value, end = decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                # Cut short by the window (a token, number or escape at its end, or a string
                # running past it), not broken: read on and decode again.
                if not self.eof and (exc.pos >= len(self.buf) - _TAIL
                                     or exc.msg.startswith("Unterminated string")):
                    self.more()
                    continue
                raise ValueError(f"invalid JSON: {exc.msg} at character "
                                 f"{self.offset + exc.pos}") from exc
            except RecursionError as exc:
                raise ValueError("invalid JSON: nested too deeply") from exc
            if not self.eof and (end >= len(self.buf) or (
                    isinstance(value, (int, float)) and end >= len(self.buf) - _TAIL)):
                self.more()  # a number may go on in the next chunk ("12" | "3", "12." | "5")
                continue
            self.pos = end
            return value


def _json_document(stream: BinaryIO, raw: bool = False) -> Iterator[tuple[int, Any]]:
    text = _Text(stream)
    decoder = json.JSONDecoder()
    first = text.peek()
    if first == "[":
        yield from _json_array(text, decoder, raw)
    elif first == "{":
        text.pos += 1
        head: dict[str, Any] = {}
        streamed = False
        if text.peek() == "}":
            text.pos += 1
        else:
            while True:
                key = text.value(decoder)
                if not isinstance(key, str):
                    raise ValueError(  # noqa: TRY004  (a bad document is a value error)
                        "invalid JSON: an object key must be a string")
                text.expect(":", "':'")
                if key == "resultats" and text.peek() == "[":
                    streamed = True
                    yield from _json_array(text, decoder, raw)
                else:
                    head[key] = text.value(decoder)
                if text.expect(",}", "',' or '}'") == "}":
                    break
        if "resultats" in head:  # present but not a list
            raise ValueError("\"resultats\" must be a list of offers")
        if not streamed:
            yield 1, head  # one offer
    elif first == "":
        raise ValueError("invalid JSON: empty document")
    else:
        text.value(decoder)  # a syntax error reads as such
        raise ValueError(
            "a France Travail file holds a list of offers, one offer, or {\"resultats\": [...]}")
    if text.peek():
        raise ValueError(f"invalid JSON: extra data at character {text.offset + text.pos}")


def _json_array(text: _Text, decoder: json.JSONDecoder, raw: bool = False
                ) -> Iterator[tuple[int, Any]]:
    text.expect("[", "'['")
    if text.peek() == "]":
        text.pos += 1
        return
    position = 0
    while True:
        position += 1
        if raw:
            text.peek()
            start = text.offset + text.pos  # absolute: reading on may drop what was consumed
            text.value(decoder)  # the C scanner finds where the record ends
            yield position, RawRecord(text.buf[start - text.offset:text.pos])
        else:
            yield position, text.value(decoder)
        if text.expect(",]", "',' or ']'") == "]":
            return


def _json_lines(stream: BinaryIO, raw: bool = False) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(stream, start=1):
        if number == 1 and line.startswith(codecs.BOM_UTF8):
            line = line[len(codecs.BOM_UTF8):]
        if not line.strip():
            continue
        record = RawRecord(line)
        yield number, (record if raw else _decoded(record))


def _csv_rows(stream: BinaryIO) -> Iterator[tuple[int, Any]]:
    start = stream.tell()
    sample = stream.read(4096)
    stream.seek(start)
    sample_text = sample.decode("utf-8", errors="ignore")
    delimiter = ";" if sample_text.count(";") > sample_text.count(",") else ","
    wrapper = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")  # \n, \r\n, \r
    try:
        reader = csv.DictReader(wrapper, delimiter=delimiter)
        check_csv_header(reader)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise ValueError(f"unreadable CSV at line {reader.line_num}: {exc}") from exc
            except UnicodeDecodeError as exc:
                raise ValueError(f"not UTF-8 text near line {reader.line_num}: {exc}") from exc
            yield reader.line_num, {k.strip(): v for k, v in row.items() if k is not None}
    finally:
        wrapper.detach()  # the caller owns the stream


def validate_records(
    records: Iterable[tuple[int, Any]], fmt: StreamFormat, gazetteer: Gazetteer,
    rome: RomeReferential, source: str | None = None,
) -> Iterator[tuple[int, Opportunity | Rejection]]:
    """Each record → ``(position, its Opportunity or its Rejection)``, one at a time (JSON and
    JSON lines: the France Travail fields; CSV: :data:`CSV_COLUMNS`). Duplicates within the
    file are not looked for here (see ``db.OfferStaging``)."""
    builder = _Builder(source or default_source(fmt), gazetteer, rome)
    if fmt == "csv":
        def build(r: Any) -> Opportunity:
            return _from_csv(r, builder)
    else:
        def build(r: Any) -> Opportunity:
            return _from_ft(r, builder)
    for position, record in records:
        yield position, _one(position, record, build)
