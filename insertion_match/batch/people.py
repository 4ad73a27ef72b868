"""The caseload file of ``insertion-match batch``: one beneficiary profile (DESIGN §6) per row.

Columns (the names are the profile's field paths, so an error names the same field as the API):

- ``id`` (required): the person's pseudonymous id, unique in the file (never a name, a NIR or
  a CAF number);
- one flat column per scalar field, sub-fields written ``parent.child``: ``home.commune``,
  ``home.postcode``, ``home.insee``, ``age``, ``sex``, ``family.situation``,
  ``family.children_under_3``..., ``orientation``, ``rsa_months``, ``training_level``,
  ``mobility.driving_licence``..., ``status.rqth``..., ``availability.hours_per_week``...
  (:data:`FLAT_COLUMNS`);
- the nested parts as JSON text (or, in Parquet, as native list / struct / map columns):
  ``freins`` (``{"mobilite": 3}``), ``target_jobs`` and ``skills`` (lists of texts),
  ``history`` (``[{"item_id": "...", "status": "done"}]``) (:data:`JSON_COLUMNS`). The freins
  may instead be given one column each, ``freins.<key>`` (severity 0-3).

An empty cell (or a null) is an unknown field, as an omitted field in the API. Every column is
optional but ``id`` and one of ``home.*``; a column the profile does not know is refused.

Rows are validated with the API's own model (:class:`BeneficiaryProfile`) and the home is
resolved by the engine, so a row is refused for exactly what ``POST /v1/recommendations``
refuses, with the same French message; each error names the line (CSV: the line of the file
where the record starts, the header being line 1; Parquet: the row number, from 1) and the field.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard, get_args

from pydantic import BaseModel, ValidationError

from insertion_match.domain import FREINS, BeneficiaryProfile
from insertion_match.validation import field_errors


def _is_model(annotation: Any) -> TypeGuard[type[BaseModel]]:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _has_bool(annotation: Any) -> bool:
    return annotation is bool or bool in get_args(annotation)


def _columns() -> tuple[tuple[str, ...], tuple[str, ...], frozenset[str]]:
    flat: list[str] = []
    as_json: list[str] = []
    booleans: set[str] = set()
    for name, info in BeneficiaryProfile.model_fields.items():
        annotation = info.annotation
        if _is_model(annotation):
            for sub, sub_info in annotation.model_fields.items():
                flat.append(f"{name}.{sub}")
                if _has_bool(sub_info.annotation):
                    booleans.add(f"{name}.{sub}")
        elif name in ("freins", "target_jobs", "skills", "history"):
            as_json.append(name)
        else:
            flat.append(name)
            if _has_bool(annotation):
                booleans.add(name)
    return tuple(flat), tuple(as_json), frozenset(booleans)


#: Scalar columns (``id`` first), derived from the profile model so they follow it.
#: JSON columns: the profile's nested lists and maps.
FLAT_COLUMNS, JSON_COLUMNS, _BOOL_COLUMNS = _columns()
#: One column per frein, as an alternative to the JSON column ``freins``.
FREIN_COLUMNS: tuple[str, ...] = tuple(f"freins.{f}" for f in FREINS)
KNOWN_COLUMNS = frozenset(FLAT_COLUMNS) | frozenset(JSON_COLUMNS) | frozenset(FREIN_COLUMNS)
HOME_COLUMNS = ("home.commune", "home.postcode", "home.insee")

_TRUE = {"oui", "vrai", "o"}
_FALSE = {"non", "faux", "n"}


class PeopleFileError(Exception):
    """The file itself cannot be read (format, encoding, columns): nothing to rank. French."""


@dataclass(frozen=True)
class RowError:
    """One refused row: where, which field, why (French)."""

    line: int
    person_id: str | None
    field: str
    message_fr: str

    def __str__(self) -> str:
        who = f" (id {self.person_id})" if self.person_id else ""
        return f"ligne {self.line}{who} : {self.field} : {self.message_fr}"


@dataclass(frozen=True)
class PersonRow:
    """One valid row: its line, id, home département and profile, kept as compact JSON (about
    0.6 KB instead of about 5 KB for the model): the driver holds the whole caseload, and the
    workers read the profile back (``profile``) for a small fraction of the ranking's cost."""

    line: int
    person_id: str
    department: str
    profile_json: bytes

    @classmethod
    def of(cls, line: int, profile: BeneficiaryProfile, department: str) -> PersonRow:
        return cls(line, profile.id or "", department,
                   profile.model_dump_json(exclude_none=True).encode())

    @property
    def profile(self) -> BeneficiaryProfile:
        return BeneficiaryProfile.model_validate_json(self.profile_json)


@dataclass(frozen=True)
class RawPeople:
    """The rows of a file before validation: (line, {column: value}), in file order, read as
    they are consumed (the file is never held whole in memory)."""

    columns: tuple[str, ...]
    rows: Iterator[tuple[int, dict[str, Any]]]


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def read_people_file(path: Path) -> RawPeople:
    """The rows of a CSV (UTF-8, ``,`` or ``;``) or Parquet file. Raises PeopleFileError."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise PeopleFileError(f"fichier introuvable : {path}")
    if suffix in (".parquet", ".pq"):
        raw = _read_parquet(path)
    elif suffix in (".csv", ".txt"):
        raw = _read_csv(path)
    else:
        raise PeopleFileError(f"format non reconnu pour {path.name} : donnez un fichier .csv "
                              "ou .parquet")
    check_columns(raw.columns)
    return raw


def _read_parquet(path: Path) -> RawPeople:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        handle = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise PeopleFileError(f"fichier Parquet illisible : {path.name} "
                              f"({type(exc).__name__})") from exc

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        n = 0
        try:
            for batch in handle.iter_batches(batch_size=10_000):
                for row in batch.to_pylist():
                    n += 1
                    yield n, row
        except (pa.ArrowException, OSError) as exc:
            raise PeopleFileError(f"fichier Parquet illisible après la ligne {n} : "
                                  f"{path.name} ({type(exc).__name__})") from exc

    return RawPeople(tuple(handle.schema_arrow.names), rows())


def _first_non_utf8_line(path: Path) -> int:
    """The first line of ``path`` that is not UTF-8 (the decoder reads ahead by blocks)."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return 0


def _read_csv(path: Path) -> RawPeople:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            first = handle.readline()
            handle.seek(0)
            header = next(csv.reader(handle, delimiter=";" if first.count(";") > first.count(",")
                                     else ","), None)
    except UnicodeDecodeError as exc:
        raise PeopleFileError(f"le fichier {path.name} n'est pas en UTF-8 (ligne "
                              f"{_first_non_utf8_line(path)})") from exc
    except csv.Error as exc:
        raise PeopleFileError(f"CSV illisible : {path.name} ({exc})") from exc
    if not header:
        raise PeopleFileError(f"fichier CSV vide : {path.name}")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    columns = tuple(h.strip() for h in header)

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        start = 2
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.reader(handle, delimiter=delimiter)
                next(reader)
                start = reader.line_num + 1
                for record in reader:
                    if record and any(cell.strip() for cell in record):
                        if len(record) != len(columns):
                            yield start, {"__width__": len(record)}
                        else:
                            yield start, dict(zip(columns, record, strict=True))
                    start = reader.line_num + 1
        except UnicodeDecodeError as exc:
            raise PeopleFileError(f"le fichier {path.name} n'est pas en UTF-8 (ligne "
                                  f"{_first_non_utf8_line(path)})") from exc
        except csv.Error as exc:
            raise PeopleFileError(f"CSV illisible : {path.name}, ligne {start} ({exc})") from exc

    return RawPeople(columns, rows())


def check_columns(columns: tuple[str, ...]) -> None:
    """Refuse a header the profile cannot read (nothing is ranked then)."""
    problems = []
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        problems.append("colonnes en double : " + ", ".join(duplicates))
    unknown = [c for c in columns if c not in KNOWN_COLUMNS]
    if unknown:
        problems.append("colonnes inconnues : " + ", ".join(f"« {c} »" for c in unknown)
                        + " (voir docs/batch.md pour les colonnes possibles)")
    if "id" not in columns:
        problems.append("colonne « id » manquante (l'identifiant pseudonyme de chaque personne)")
    if not any(c in columns for c in HOME_COLUMNS):
        problems.append("aucune colonne du domicile : home.commune, home.postcode ou home.insee")
    if "freins" in columns and any(c.startswith("freins.") for c in columns):
        problems.append("donnez les freins soit dans la colonne JSON « freins », soit en "
                        "colonnes « freins.<clé> », pas les deux")
    if problems:
        raise PeopleFileError(" ; ".join(problems))


# --------------------------------------------------------------------------------------------
# One row → one profile
# --------------------------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _scalar(column: str, value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if column in _BOOL_COLUMNS:
            low = value.lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
    return value


def _nested(column: str, value: Any) -> Any:
    """A JSON cell (text) or a native Parquet list / struct / map value."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise _CellError(column, f"JSON invalide ({exc.msg}, position {exc.pos})") from exc
    if column == "freins" and isinstance(value, list) and all(
            isinstance(p, (list, tuple)) and len(p) == 2 for p in value):
        value = dict(value)  # a Parquet map column reads as (key, value) pairs
    return value


class _CellError(Exception):
    def __init__(self, field: str, message_fr: str):
        super().__init__(message_fr)
        self.field, self.message_fr = field, message_fr


def profile_document(row: dict[str, Any]) -> dict[str, Any]:
    """The nested profile document (as the API's ``beneficiary``) of one row."""
    doc: dict[str, Any] = {}
    for column, value in row.items():
        if _blank(value):
            continue
        if column in JSON_COLUMNS:
            doc[column] = _nested(column, value)
        elif column.startswith("freins."):
            doc.setdefault("freins", {})[column.split(".", 1)[1]] = _scalar(column, value)
        elif "." in column:
            parent, child = column.split(".", 1)
            doc.setdefault(parent, {})[child] = _scalar(column, value)
        else:
            doc[column] = _scalar(column, value)
    return doc


def parse_row(line: int, row: dict[str, Any]) -> BeneficiaryProfile | list[RowError]:
    """The profile of one row, or its errors (every invalid field, French)."""
    if "__width__" in row:
        return [RowError(line, None, "ligne", f"{row['__width__']} valeurs au lieu du nombre "
                         "de colonnes de l'en-tête")]
    raw_id = row.get("id")
    person_id = None if _blank(raw_id) else str(raw_id).strip()
    try:
        doc = profile_document(row)
    except _CellError as exc:
        return [RowError(line, person_id, exc.field, exc.message_fr)]
    errors: list[RowError] = []
    if person_id is None:
        errors.append(RowError(line, None, "id", "champ obligatoire manquant (identifiant "
                               "pseudonyme de la personne)"))
    if "home" not in doc:
        errors.append(RowError(line, person_id, "home", "domicile manquant : donnez la commune, "
                               "le code postal ou le code INSEE"))
        doc["home"] = {"insee": "00000"}  # placeholder: report the other fields' errors too
    try:
        profile = BeneficiaryProfile.model_validate(doc)
    except ValidationError as exc:
        errors.extend(RowError(line, person_id, e.field, e.message_fr)
                      for e in field_errors(exc.errors(), default="profil"))
        return errors
    return errors or profile


def parse_rows(raw: RawPeople) -> Iterator[tuple[int, BeneficiaryProfile | list[RowError]]]:
    """Every row parsed, in file order; a repeated ``id`` is an error on its later rows."""
    seen: dict[str, int] = {}
    for line, row in raw.rows:
        parsed = parse_row(line, row)
        if isinstance(parsed, BeneficiaryProfile):
            first = seen.setdefault(parsed.id or "", line)
            if first != line:
                parsed = [RowError(line, parsed.id, "id",
                                   f"identifiant en double (déjà ligne {first})")]
        yield line, parsed


# --------------------------------------------------------------------------------------------
# Writing (profiles → a caseload table): for tests, benchmarks and operators' exports
# --------------------------------------------------------------------------------------------


def profile_row(profile: BeneficiaryProfile | dict[str, Any]) -> dict[str, Any]:
    """The row of one profile: flat scalars, JSON text for the nested parts (None = unknown)."""
    if isinstance(profile, BeneficiaryProfile):
        profile = profile.model_dump(mode="json", exclude_none=True)
    row: dict[str, Any] = {}
    for column in FLAT_COLUMNS:
        if "." in column:
            parent, child = column.split(".", 1)
            row[column] = (profile.get(parent) or {}).get(child)
        else:
            row[column] = profile.get(column)
    for column in JSON_COLUMNS:
        value = profile.get(column)
        row[column] = json.dumps(value, ensure_ascii=False) if value else None
    return row


def people_frame(profiles: list[BeneficiaryProfile] | list[dict[str, Any]]):
    """A pandas DataFrame of profiles, one row each, in the batch file's columns."""
    import pandas as pd

    return pd.DataFrame([profile_row(p) for p in profiles],
                        columns=[*FLAT_COLUMNS, *JSON_COLUMNS])
