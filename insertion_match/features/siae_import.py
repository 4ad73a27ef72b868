"""Insertion jobs from les emplois de l'inclusion: SIAE and their ``postes`` → IAE job offers.

The format is the answer of its public SIAE API (``GET /api/v1/siaes/``, serializer
``itou/api/siae_api/serializers.py`` of gip-inclusion/les-emplois, read at commit 543eae8d):
a page ``{"count", "next", "previous", "results": [structure, ...]}``, a list of structures, one
structure, or JSON lines (one structure per line). Read:

- structure: ``id`` (uuid), ``siret``, ``type`` (ACI, AI, EI, EITI, ETTI; EA, EATT, GEIQ,
  OPCS are not SIAE), ``raison_sociale``, ``enseigne``, ``code_postal``, ``ville``,
  ``bloque_candidatures``, ``postes``;
- poste: ``id``, ``rome`` (``str(Rome)``: "Nettoyage de locaux (K2204)", or a bare code),
  ``recrutement_ouvert`` (the API writes the boolean as a string, "True" / "False"),
  ``appellation_modifiee`` (the structure's own title, often empty), ``type_contrat`` (the
  label: "CDD insertion", "CDD-I PHC", "Contrat de mission intérimaire"...),
  ``nombre_postes_ouverts``, ``lieu`` (``{nom, departement, code_postaux, code_insee}`` or
  null: then the structure's ``code_postal`` and ``ville``), ``cree_le``, ``description``,
  ``profil_recherche``.

Every open position of a SIAE becomes a ``job`` :class:`~insertion_match.domain.Opportunity`
of source ``emplois-inclusion`` with ``iae = True`` and its ``siae_kind``; its id is
``emplois-inclusion:{siret}-{poste id}``, so the positions of a structure are known by prefix.
A position that is closed (``recrutement_ouvert`` false), of a structure that blocks
applications, or of a structure that is not a SIAE is *skipped* (reported, not an error). The API
lists open positions only: a stored position of a structure of the file that the file no longer
lists, or lists as closed, has been closed since: it is written back with ``expires_at`` the day
before the import (or before its ``mis_a_jour_le``), so it is no longer proposed, and a second
import of the same file changes nothing. A record that cannot be read (no id, unknown ROME code,
unknown commune) is *rejected* with the field and a French reason, and the import is atomic.

Nothing is invented: hours, training level, experience and licences are not in the API, so they
stay unknown (an unknown requirement never excludes anyone).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from insertion_match.domain import CONTRACT_LABELS_FR, SIAE_KINDS_FR, Opportunity
from insertion_match.features.offers_import import (
    ImportBatch,
    Rejection,
    _Builder,
    _date,
    _err,
    _external_id,
    _Invalid,
    _text,
)
from insertion_match.features.rome import RomeReferential
from insertion_match.geo import Gazetteer
from insertion_match.validation import FieldError

SOURCE = "emplois-inclusion"
SIAE_KINDS = frozenset(SIAE_KINDS_FR)
#: les emplois de l'inclusion's ``ContractType`` (labels as the API writes them, and the enum
#: names) → France Travail contract code; None: by the kind of structure (:data:`KIND_CONTRACT`).
CONTRACTS: dict[str, str | None] = {
    "cdi": "CDI", "cdi inclusion": "CDI", "permanent": "CDI", "permanent_i": "CDI",
    "cdd": "CDD", "fixed_term": "CDD", "cdd d'usage": "CDD", "fixed_term_usage": "CDD",
    "cdd tremplin": "CDD", "fixed_term_tremplin": "CDD",
    "cdd insertion": "DDI", "fixed_term_i": "DDI", "cdd-i phc": "DDI", "fixed_term_i_phc": "DDI",
    "cdd-i cvg": "DDI", "fixed_term_i_cvg": "DDI",
    "contrat d'apprentissage": "APP", "apprenticeship": "APP",
    "contrat de professionalisation": "PRO", "contrat de professionnalisation": "PRO",
    "professional_training": "PRO",
    "contrat de mission intérimaire": "MIS", "temporary": "MIS",
    "accompagnement à la création d'entreprise": None, "business_creation": None,
    "autre type de contrat": None, "other": None, "": None,
}
#: The insertion contract of a kind of SIAE when the position names none (or "autre").
KIND_CONTRACT: dict[str, str | None] = {"ACI": "DDI", "EI": "DDI", "ETTI": "TTI", "AI": None,
                                        "EITI": None}
_ROME_IN_LABEL = re.compile(r"^\s*(.*?)\s*\(([A-Na-n]\d{4})\)\s*$")


@dataclass(frozen=True)
class Skipped:
    """A position not imported, and why (French)."""

    where: str  # "results[0].postes[1]"
    external_id: str | None
    reason_fr: str


@dataclass
class SiaeBatch:
    """What a file holds: ``batch`` (open positions, and the stored ones closed since, with
    their expiry), the positions skipped, and counts for the report."""

    batch: ImportBatch
    skipped: list[Skipped] = field(default_factory=list)
    structures: int = 0
    open_positions: int = 0
    expired: list[str] = field(default_factory=list)  # ids written back with an expiry


def read_structures(text: str) -> list[Any]:
    """The structures of a document (API page, list, one structure, or JSON lines).

    Raises ``ValueError`` (French-free, the CLI adds context) when it is none of these.
    """
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if len(lines) < 2:
            raise ValueError(f"invalid JSON: {exc}") from exc
        try:
            return [json.loads(ln) for ln in lines]
        except json.JSONDecodeError as exc2:
            raise ValueError(f"invalid JSON lines: {exc2}") from exc2
    except RecursionError as exc:
        raise ValueError("invalid JSON: nested too deeply") from exc
    if isinstance(payload, Mapping) and isinstance(payload.get("results"), list):
        return payload["results"]
    if isinstance(payload, Mapping) and "postes" in payload:
        return [payload]
    if isinstance(payload, list):
        return payload
    raise ValueError('a SIAE file holds a page {"results": [...]}, a list of structures, or '
                     'one structure with its "postes"')


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if value is not None else ""
    if text in {"true", "1", "oui", "yes"}:
        return True
    if text in {"false", "0", "non", "no"}:
        return False
    return None


def contract_of(label: str | None, kind: str) -> tuple[str | None, str | None]:
    """(France Travail contract code, French label) of a position's ``type_contrat``."""
    key = (label or "").strip().lower().replace("’", "'")
    if key not in CONTRACTS:
        raise _Invalid([_err("type_contrat", f"unknown contract type {label!r}",
                             f"type de contrat inconnu : « {label} »")])
    code = CONTRACTS[key]
    if code is None:
        code = KIND_CONTRACT.get(kind)
    elif code == "MIS" and kind in ("ETTI", "AI"):
        code = "TTI"  # a mission of a work-integration temp agency
    shown = (label or "").strip()
    if not shown or key in ("autre type de contrat", "other"):
        shown = CONTRACT_LABELS_FR.get(code or "", "") or ""
    if not shown:
        shown = f"contrat en {SIAE_KINDS_FR[kind]}" if kind in SIAE_KINDS_FR else "contrat"
    return code, f"{shown} ({kind})"[:200]


def parse_siae(
    structures: Iterable[Any], gazetteer: Gazetteer, rome: RomeReferential,
    stored: Iterable[Opportunity] = (), today: date | None = None,
) -> SiaeBatch:
    """Validate the positions of ``structures``; ``stored``: the offers already stored (those
    of :data:`SOURCE` are expired when closed since). Never raises for a bad record."""
    today = today or date.today()
    builder = _Builder(SOURCE, gazetteer, rome)
    out = SiaeBatch(batch=ImportBatch(source=SOURCE))
    known = {o.external_id: o for o in stored if o.source == SOURCE}
    seen: dict[str, str] = {}
    closed: dict[str, date] = {}  # external id -> day of closing
    prefixes: list[str] = []
    position = 0
    for s, structure in enumerate(structures):
        where_s = f"results[{s}]"
        if not isinstance(structure, Mapping):
            position += 1
            out.batch.rejected.append(Rejection(position, None, (
                _err(where_s, "a structure is a JSON object", "une structure est un objet JSON"),)))
            continue
        out.structures += 1
        kind = (_text(structure.get("type")) or "").upper()
        owner = _external_id(structure.get("siret")) or _external_id(structure.get("id"))
        postes = structure.get("postes") or []
        if owner is None or not isinstance(postes, list):
            position += 1
            why = ("structure sans siret ni identifiant" if owner is None
                   else "« postes » doit être une liste")
            out.batch.rejected.append(Rejection(position, None, (
                _err(where_s + (".siret" if owner is None else ".postes"), why, why),)))
            continue
        prefixes.append(f"{owner}-")
        blocked = _flag(structure.get("bloque_candidatures")) is True
        for p, poste in enumerate(postes):
            position += 1
            where = f"{where_s}.postes[{p}]"
            pid = _external_id(poste.get("id")) if isinstance(poste, Mapping) else None
            ext = f"{owner}-{pid}"[:80] if pid else None
            try:
                if not isinstance(poste, Mapping):
                    raise _Invalid([_err("poste", "a position is a JSON object",
                                         "un poste est un objet JSON")])
                if ext is None:
                    raise _Invalid([_err("id", "missing position id",
                                         "identifiant du poste manquant")])
                if ext in seen:
                    raise _Invalid([_err("id", f"duplicate of {seen[ext]}",
                                         f"doublon de {seen[ext]}")])
                seen[ext] = where
                is_open = _flag(poste.get("recrutement_ouvert"))
                if is_open is None:
                    raise _Invalid([_err("recrutement_ouvert", "True or False expected",
                                         "« True » ou « False » attendu")])
                why_not = (None if kind in SIAE_KINDS else
                           f"structure de type « {kind or '?'} », hors IAE (SIAE : "
                           f"{', '.join(sorted(SIAE_KINDS))})")
                if why_not is None and blocked:
                    why_not = "la structure bloque les candidatures"
                if why_not is None and not is_open:
                    why_not = "recrutement fermé"
                if why_not is not None:
                    out.skipped.append(Skipped(where, ext, why_not))
                    if kind in SIAE_KINDS:
                        closed[ext] = _date(poste.get("mis_a_jour_le")) or today
                    continue
                out.batch.opportunities.append(
                    _position(builder, structure, poste, kind, owner, ext))
                out.open_positions += 1
            except _Invalid as exc:
                out.batch.rejected.append(Rejection(position, ext, tuple(
                    FieldError(f"{where}.{e.field}", e.message, e.message_fr)
                    for e in exc.errors)))
            except (TypeError, ValueError, AttributeError) as exc:
                out.batch.rejected.append(Rejection(position, ext, (FieldError(
                    where, f"malformed position: {exc}", f"poste mal formé : {exc}"),)))
    # Positions closed since: listed as closed, or gone from a structure of the file.
    listed = set(seen)
    for ext, old in sorted(known.items()):
        if ext in closed:
            day = min(closed[ext], today) - timedelta(days=1)
        elif ext not in listed and any(ext.startswith(pref) for pref in prefixes):
            day = today - timedelta(days=1)
        else:
            continue
        if old.expires_at is not None and old.expires_at < today:
            continue  # already expired: unchanged
        out.batch.opportunities.append(old.model_copy(update={"expires_at": day}))
        out.expired.append(old.id)
    return out


def _position(b: _Builder, structure: Mapping[str, Any], poste: Mapping[str, Any], kind: str,
              owner: str, ext: str) -> Opportunity:
    errors: list[FieldError] = []
    lieu = poste.get("lieu")
    location = rome = None
    try:
        if isinstance(lieu, Mapping) and (lieu.get("code_insee") or lieu.get("nom")):
            postcodes = lieu.get("code_postaux") or []
            location = b.locate(_text(lieu.get("code_insee")),
                                _text(postcodes[0]) if isinstance(postcodes, list) and postcodes
                                else None, _text(lieu.get("nom")), None, None, "lieu")
        else:
            location = b.locate(None, _text(structure.get("code_postal")),
                                _text(structure.get("ville")), None, None, "ville")
    except _Invalid as exc:
        errors.extend(exc.errors)
    rome_text = _text(poste.get("rome")) or ""
    labelled = _ROME_IN_LABEL.match(rome_text)
    code = labelled[2].upper() if labelled else (rome_text.upper() or None)
    own_title = _text(poste.get("appellation_modifiee"), 300)
    try:
        rome = b.rome_fields("job", code, (own_title,), "rome")
    except _Invalid as exc:
        errors.extend(exc.errors)
    contract = label = None
    try:
        contract, label = contract_of(_text(poste.get("type_contrat")), kind)
    except _Invalid as exc:
        errors.extend(exc.errors)
    if errors:
        raise _Invalid(errors)
    assert rome is not None
    fiche = rome["rome_code"]
    title = own_title or (labelled[1] if labelled and labelled[1] else None) or \
        b.rome.fiche_label(fiche)
    description = "\n\n".join(t for t in (_text(poste.get("description")),
                                          _text(poste.get("profil_recherche"))) if t)
    count = poste.get("nombre_postes_ouverts")
    positions = int(count) if isinstance(count, int) and not isinstance(count, bool) \
        and count >= 1 else 1
    return b.validate({
        "id": f"{SOURCE}:{ext}", "source": SOURCE, "external_id": ext, "kind": "job",
        "title": title, **rome, "appellation": b.rome.fiche_label(fiche),
        "employer": _text(structure.get("enseigne"), 300)
        or _text(structure.get("raison_sociale"), 300),
        "location": location, "contract_type": contract, "contract_label": label,
        "positions": min(positions, 10000), "created_at": _date(poste.get("cree_le")),
        "description": description[:4000] or None,
        "iae": True, "siae_kind": kind,
    })


__all__ = ["SOURCE", "SiaeBatch", "Skipped", "contract_of", "parse_siae", "read_structures"]
