"""Map errors onto RFC 9457 problem bodies: field path, English message, French message.

Only this module knows HTTP status codes for domain errors (STYLE 9).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.responses import JSONResponse

from insertion_match.geo import AmbiguousCommune, GeoError, UnknownCommune
from insertion_match.service.schemas import Problem, ProblemError, Suggestion

PROBLEM_JSON = "application/problem+json"

#: OpenAPI description of the problem answers, for the routes' ``responses=``.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {"model": Problem, "description": "Invalid input, with field paths (and suggestions)"},
    404: {"model": Problem, "description": "Not found"},
    401: {"model": Problem, "description": "API key missing, unknown or revoked"},
    403: {"model": Problem, "description": "Role or territory not allowed"},
    503: {"model": Problem, "description": "Database unavailable; see Retry-After"},
}

_FR_BY_TYPE = {
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
}


def _path(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _fr(err: dict[str, Any]) -> str:
    base = _FR_BY_TYPE.get(err.get("type", ""), "valeur invalide")
    ctx = err.get("ctx") or {}
    if "expected" in ctx:
        return f"{base} : valeurs possibles {ctx['expected']}"
    for key in ("ge", "gt", "le", "lt", "min_length", "max_length", "pattern"):
        if key in ctx:
            return f"{base} ({key} = {ctx[key]})"
    if err.get("type") == "value_error" and "msg" in err:
        return f"{base} : {err['msg'].removeprefix('Value error, ')}"
    return base


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        problem.model_dump(mode="json"), status_code=problem.status,
        media_type=PROBLEM_JSON, headers=headers,
    )


def not_found_problem(detail: str) -> Problem:
    return Problem(title="Not found", status=404, detail=detail)


def not_found(detail: str) -> JSONResponse:
    return problem_response(not_found_problem(detail))


#: The one answer for a stored person who does not exist *or* lies outside the caller's
#: territories: the two must be indistinguishable (same status, same body).
UNKNOWN_BENEFICIARY = "unknown beneficiary"


def forbidden_problem(detail: str) -> Problem:
    return Problem(title="Forbidden", status=403, detail=detail)


def validation_problem(errors: Sequence[dict[str, Any]]) -> Problem:
    items = [
        ProblemError(path=_path(e.get("loc", ())), message=str(e.get("msg", "invalid")),
                     message_fr=_fr(dict(e)))
        for e in errors
    ]
    return Problem(
        type="https://insertion-match.example/problems/validation",
        title="Invalid request", status=422,
        detail="; ".join(f"{i.path}: {i.message}" for i in items[:10]),
        errors=items,
    )


def geo_problem(exc: GeoError, path: str) -> Problem:
    if isinstance(exc, UnknownCommune):
        suggestions, fr = exc.suggestions, f"commune inconnue : « {exc.query} »"
        title = "Unknown commune"
    elif isinstance(exc, AmbiguousCommune):
        suggestions, fr = exc.candidates, f"commune ambiguë : « {exc.query} », précisez le code postal"
        title = "Ambiguous commune"
    else:
        suggestions, fr, title = [], "localisation invalide", "Invalid location"
    return Problem(
        type="https://insertion-match.example/problems/commune",
        title=title, status=422, detail=str(exc),
        errors=[ProblemError(path=path, message=str(exc), message_fr=fr)],
        suggestions=[
            Suggestion(insee=s.commune.insee, name=s.commune.name,
                       postcodes=list(s.commune.postcodes), department=s.commune.department,
                       score=round(float(s.score), 1))
            for s in suggestions
        ],
    )
