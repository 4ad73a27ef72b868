"""Read prescriptions and outcomes from CSV (the ``POST /v1/outcomes/import`` format).

One event per line, UTF-8, comma-separated, with a header naming the columns of
:data:`CSV_COLUMNS` (any order; ``item_kind`` defaults to ``action``; empty cells are unknown)::

    beneficiary_id,item_id,item_kind,status,occurred_on,refusal_reason,exit_kind,rank,model_name,model_version
    b-0042,flers-mobylis-permis-b,action,proposed,2024-03-01,,,1,transparent-additive,1.0.0
    b-0042,flers-mobylis-permis-b,action,refused,2024-03-08,not_mobile,,,,

:func:`parse_outcomes_csv` validates every line and reports every problem of every rejected
line (line number, field, message in English and French), so a whole file can be fixed in one
go; storing is then all or nothing (the route's job).

Orientation hand-off (DORA): optional columns ``di_service_id`` (the data·inclusion service id),
``orientation_status`` (``ouverte`` / ``validée`` / ``refusée``, any case, accents optional) and
``orientation_refusal_reasons`` (DORA's values separated by ``|``). With ``orientation_status``
the ``status`` column may be left empty or omitted: it is derived (ouverte → proposed,
validée → accepted, refusée → refused, with ``refusal_reason`` derived from DORA's reasons)::

    beneficiary_id,item_id,occurred_on,di_service_id,orientation_status,orientation_refusal_reasons
    b-0042,flers-mobylis-permis-b,2024-03-08,dora:a1b2c3,refusée,bénéficiaire-non-mobile
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import ValidationError

from insertion_match.domain import OutcomeRecord
from insertion_match.features.errors import FeaturesError
from insertion_match.validation import FieldError, field_errors

CSV_COLUMNS: tuple[str, ...] = (
    "beneficiary_id", "item_id", "item_kind", "status", "occurred_on", "refusal_reason",
    "exit_kind", "rank", "model_name", "model_version", "di_service_id", "orientation_status",
    "orientation_refusal_reasons",
)
REQUIRED_COLUMNS: tuple[str, ...] = ("beneficiary_id", "item_id", "status", "occurred_on")
#: A column that may stand for a required one (the status is derived from DORA's).
STANDS_FOR: dict[str, str] = {"status": "orientation_status"}
MAX_ROWS = 100_000


class OutcomesCsvError(FeaturesError):
    """The file as a whole cannot be read (encoding, header, size)."""


#: One invalid field of a row (the same type as the offers import and the 422 answers use).
RowProblem = FieldError


@dataclass(frozen=True)
class RejectedRow:
    line: int  # 1-based line number in the file (the header is line 1)
    problems: tuple[RowProblem, ...]


@dataclass(frozen=True)
class ParsedOutcomes:
    records: tuple[OutcomeRecord, ...]
    rejected: tuple[RejectedRow, ...]
    lines: tuple[int, ...] = ()  # line number of each record


def _problems(exc: ValidationError) -> tuple[RowProblem, ...]:
    return tuple(field_errors(exc.errors(), default="row"))


def parse_outcomes_csv(
    data: bytes | str, known_item: Callable[[str, str], bool] | None = None,
    max_rows: int = MAX_ROWS,
) -> ParsedOutcomes:
    """Validate every line; ``known_item(kind, id)`` may reject ids the service does not know.

    Raises :class:`OutcomesCsvError` for an unreadable file (not UTF-8, no header, unknown or
    missing columns, more than ``max_rows`` lines).
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise OutcomesCsvError(f"the file is not UTF-8: {exc.reason}") from exc
    reader = csv.DictReader(io.StringIO(data, newline=""))  # \n, \r\n and \r line ends
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise OutcomesCsvError(f"unreadable CSV header: {exc}") from exc
    if not header:
        raise OutcomesCsvError("empty file: a header line is needed")
    unknown = sorted(set(header) - set(CSV_COLUMNS))
    missing = [c for c in REQUIRED_COLUMNS if c not in header
               and STANDS_FOR.get(c, c) not in header]
    if unknown or missing:
        raise OutcomesCsvError(
            (f"unknown column(s): {', '.join(unknown)}; " if unknown else "")
            + (f"missing column(s): {', '.join(missing)}; " if missing else "")
            + f"expected columns: {', '.join(CSV_COLUMNS)}")
    reader.fieldnames = header
    records: list[OutcomeRecord] = []
    lines: list[int] = []
    rejected: list[RejectedRow] = []
    try:
        rows = []
        for count, row in enumerate(reader, start=1):
            if count > max_rows:
                raise OutcomesCsvError(f"more than {max_rows} lines: split the file")
            rows.append((reader.line_num, row))
    except csv.Error as exc:  # a field over the size limit, a NUL byte, a stray quote...
        raise OutcomesCsvError(f"unreadable CSV at line {reader.line_num}: {exc}") from exc
    for line, row in rows:
        if None in row:
            rejected.append(RejectedRow(line, (RowProblem(
                "row", "more cells than columns", "plus de cellules que de colonnes"),)))
            continue
        values: dict[str, object] = {k: v.strip() for k, v in row.items()
                                     if v is not None and v.strip() != ""}
        if "orientation_refusal_reasons" in values:
            values["orientation_refusal_reasons"] = [
                r.strip() for r in str(values["orientation_refusal_reasons"]).split("|")
                if r.strip()]
        try:
            record = OutcomeRecord.model_validate(values)
        except ValidationError as exc:
            rejected.append(RejectedRow(line, _problems(exc)))
            continue
        if known_item is not None and not known_item(record.item_kind.value, record.item_id):
            rejected.append(RejectedRow(line, (RowProblem(
                "item_id", f"unknown {record.item_kind.value} {record.item_id!r}",
                "élément inconnu du catalogue"),)))
            continue
        records.append(record)
        lines.append(line)
    return ParsedOutcomes(records=tuple(records), rejected=tuple(rejected), lines=tuple(lines))
