"""Field errors in English and French, from pydantic's error dicts: one wording everywhere.

Used by the HTTP 422 answers (``service/problems.py``) and by the record-by-record import
reports (offers, outcomes), so that a coach reads the same French message for the same mistake
whether it came through the API or in a file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One invalid field: dotted path, English message, French message."""

    field: str
    message: str
    message_fr: str


FR_BY_TYPE: dict[str, str] = {
    "missing": "champ obligatoire manquant",
    "extra_forbidden": "champ inconnu",
    "int_parsing": "nombre entier attendu",
    "int_type": "nombre entier attendu",
    "int_from_float": "nombre entier attendu",
    "float_parsing": "nombre attendu",
    "float_type": "nombre attendu",
    "bool_parsing": "booléen attendu (true ou false)",
    "bool_type": "booléen attendu (true ou false)",
    "string_type": "texte attendu",
    "string_too_short": "texte trop court",
    "string_too_long": "texte trop long",
    "string_pattern_mismatch": "format invalide",
    "enum": "valeur non autorisée",
    "literal_error": "valeur non autorisée",
    "greater_than_equal": "valeur trop petite",
    "greater_than": "valeur trop petite",
    "less_than_equal": "valeur trop grande",
    "less_than": "valeur trop grande",
    "too_short": "liste trop courte",
    "too_long": "liste trop longue",
    "list_type": "liste attendue",
    "dict_type": "objet attendu",
    "model_type": "objet attendu",
    "model_attributes_type": "objet attendu",
    "json_invalid": "JSON invalide",
    "value_error": "valeur invalide",
    "finite_number": "nombre fini attendu",
    "date_parsing": "date attendue (AAAA-MM-JJ)",
    "date_from_datetime_parsing": "date attendue (AAAA-MM-JJ)",
    "datetime_parsing": "date et heure attendues (ISO 8601)",
    "control_characters": "caractères de contrôle interdits (NUL, saut de ligne, tabulation)",
}

_LOCATIONS = frozenset({"body", "query", "path"})


def field_path(loc: Sequence[Any], default: str = "body") -> str:
    """Dotted path of a pydantic ``loc``, without FastAPI's leading body/query/path part."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in _LOCATIONS:
        parts = parts[1:]
    return ".".join(parts) or default


def french_message(err: dict[str, Any]) -> str:
    """The French message of one pydantic error dict (type, ctx and msg)."""
    base = FR_BY_TYPE.get(err.get("type", ""), "valeur invalide")
    ctx = err.get("ctx") or {}
    if "expected" in ctx:  # pydantic lists them "'a', 'b' or 'c'": the last one with « ou »
        head, sep, last = str(ctx["expected"]).rpartition("' or '")
        expected = f"{head}' ou '{last}" if sep else last
        return f"{base} : valeurs possibles {expected}"
    for key in ("ge", "gt", "le", "lt", "min_length", "max_length", "pattern"):
        if key in ctx:
            return f"{base} ({key} = {ctx[key]})"
    if err.get("type") == "value_error" and "msg" in err:
        return f"{base} : {err['msg'].removeprefix('Value error, ')}"
    return base


def field_errors(errors: Iterable[Mapping[str, Any]], default: str = "body") -> list[FieldError]:
    """Every pydantic error dict as a :class:`FieldError` (path, English, French)."""
    return [
        FieldError(field_path(e.get("loc", ()), default),
                   str(e.get("msg", "invalid")).removeprefix("Value error, "),
                   french_message(dict(e)))
        for e in errors
    ]
