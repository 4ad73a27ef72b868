"""Map errors onto RFC 9457 problem bodies: field path, English message, French message.

Only this module knows HTTP status codes for domain errors (STYLE 9).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi.responses import JSONResponse

from insertion_match.domain import BeneficiaryProfile
from insertion_match.geo import (
    AmbiguousCommune,
    Commune,
    GeoError,
    NotServed,
    SharedPostcode,
    UnknownCommune,
)
from insertion_match.service.schemas import Problem, ProblemError, Suggestion
from insertion_match.validation import field_errors

PROBLEM_JSON = "application/problem+json"

#: OpenAPI description of the problem answers, for the routes' ``responses=``.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {"model": Problem, "description": "Invalid input, with field paths (and suggestions)"},
    404: {"model": Problem, "description": "Not found"},
    401: {"model": Problem, "description": "API key missing, unknown or revoked"},
    403: {"model": Problem, "description": "Role or territory not allowed"},
    503: {"model": Problem, "description": "Database unavailable; see Retry-After"},
}

def problem_response(problem: Problem,
                     headers: Mapping[str, str] | None = None) -> JSONResponse:
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
UNKNOWN_BENEFICIARY = "personne inconnue"


def ambiguous_problem(exc: Exception) -> Problem:
    """Several people of the caller's territories share the id (ids are scoped per territory)."""
    scopes = getattr(exc, "scopes", ())
    return Problem(
        type="https://insertion-match.example/problems/ambiguous-id", title="Ambiguous id",
        status=409, detail=f"cet identifiant désigne une personne dans plusieurs territoires de "
        f"cette clé ({', '.join(scopes)}) : utilisez une clé d'un seul territoire",
        errors=[ProblemError(path="beneficiary_id", message="ambiguous id",
                             message_fr="identifiant utilisé dans plusieurs de vos territoires "
                             f"({', '.join(scopes)}) : utilisez une clé d'un seul territoire")])


def forbidden_problem(detail: str) -> Problem:
    return Problem(title="Forbidden", status=403, detail=detail)


def outside_detail(home: Commune) -> str:
    """The 403 detail for an inline home outside the caller's territories: it names the commune
    the home was understood as (the caller described it; nothing stored is revealed)."""
    return (f"le domicile de la personne ({home.name}, {home.insee}, département "
            f"{home.department}) est hors des territoires de cette clé")


def validation_problem(errors: Sequence[dict[str, Any]]) -> Problem:
    items = [ProblemError(path=e.field, message=e.message, message_fr=e.message_fr)
             for e in field_errors(errors)]
    return Problem(
        type="https://insertion-match.example/problems/validation",
        title="Invalid request", status=422,
        detail="; ".join(f"{i.path} : {i.message_fr}" for i in items[:10]),
        errors=items,
    )


def home_field(profile: BeneficiaryProfile) -> str:
    """The field of ``home`` a location error is about: the one the gazetteer resolved first
    (INSEE code, then commune name, then postcode)."""
    home = profile.home
    return "insee" if home.insee else "commune" if home.commune else "postcode"


def geo_problem(exc: GeoError, path: str) -> Problem:
    if isinstance(exc, NotServed):
        outside = ", ".join(f"{c.name} ({c.department})" for c in exc.matches)
        suggestions, title = exc.suggestions, "Commune outside the served départements"
        fr = (f"aucune commune « {exc.query} » dans les départements servis "
              f"({', '.join(exc.served)}) ; ce nom ne désigne que {outside}, hors du territoire "
              "du service : vérifiez la commune ou donnez son code postal")
    elif isinstance(exc, UnknownCommune):
        suggestions, fr = exc.suggestions, f"commune inconnue : « {exc.query} »"
        if exc.query[:1].isdigit():
            fr = f"code postal ou code INSEE inconnu : « {exc.query} »"
        title = "Unknown commune"
    elif isinstance(exc, SharedPostcode):
        suggestions, title = exc.candidates, "Postcode shared by several communes"
        fr = (f"le code postal {exc.postcode} est partagé par plusieurs communes : précisez "
              "la commune (son nom avec ce code postal, ou son code INSEE)")
    elif isinstance(exc, AmbiguousCommune):
        suggestions, fr = exc.candidates, f"commune ambiguë : « {exc.query} », précisez le code postal"
        title = "Ambiguous commune"
    else:
        suggestions, fr, title = [], "localisation invalide", "Invalid location"
    return Problem(
        type="https://insertion-match.example/problems/commune",
        title=title, status=422, detail=fr,
        errors=[ProblemError(path=path, message=str(exc), message_fr=fr)],
        suggestions=[
            Suggestion(insee=s.commune.insee, name=s.commune.name,
                       postcodes=list(s.commune.postcodes), department=s.commune.department,
                       score=round(float(s.score), 1))
            for s in suggestions
        ],
    )
