"""An action's page (address, contact, how to prescribe, cost, places, source document) and
the autocompletion fragments the diagnostic form asks for through HTMX."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import escape

from insertion_match.geo import Commune, Gazetteer, Territories
from insertion_match.geo.names import normalise_name
from insertion_match.service.web.context import PeopleUserDep, UserDep, not_found, render
from insertion_match.service.web.sheets import action_sheet, document_titles

router = APIRouter()


@router.get("/actions/{action_id}")
def action_page(request: Request, user: UserDep,
                action_id: Annotated[str, Path(max_length=200)]) -> Response:
    engine = request.app.state.im.engine
    action = engine.action(action_id)
    if action is None:  # the catalogue is public: no territory check
        raise not_found()
    titles = document_titles(request.app.state.im.settings.catalogue_dir)
    sheet = action_sheet(engine, action_id, titles=titles)
    if sheet is None:
        raise not_found()
    return render(request, "action.html", {"title": sheet.title, "sheet": sheet,
                                           "back": request.query_params.get("retour", "")})


def _options(values: list[tuple[str, str]]) -> HTMLResponse:
    html = "".join(f'<option value="{escape(v)}">{escape(label)}</option>'
                   for v, label in values)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@lru_cache(maxsize=64)
def _communes_of(gazetteer: Gazetteer, territories: Territories,
                 grants: tuple[tuple[str, str | None], ...] | None,
                 served: tuple[str, ...]) -> tuple[tuple[str, Commune], ...]:
    """(normalised name, commune) of the territories (None: the served départements)."""
    departments = {d for d, _ in grants} if grants is not None else set(served)
    found = []
    for commune in gazetteer.communes:
        if commune.department not in departments:
            continue
        if grants is not None and not any(
                d == commune.department and (c is None or c == territories.commission_of(
                    commune.insee)) for d, c in grants):
            continue
        found.append((normalise_name(commune.name), commune))
    return tuple(sorted(found, key=lambda nc: -nc[1].population))


@router.get("/web/communes")
def communes(request: Request, user: PeopleUserDep,
             q: Annotated[str, Query(alias="home.commune", max_length=120)] = "") -> Response:
    """Communes of the user's territories whose name starts with (then resembles) what is
    typed, largest first (datalist options)."""
    engine = request.app.state.im.engine
    key = normalise_name(q)
    if len(key) < 2:
        return _options([])
    grants = user.principal.territory_filter()
    mine = _communes_of(engine.gazetteer, engine.territories,
                        tuple(grants) if grants is not None else None,
                        engine.served_departments)
    found = [c for name, c in mine if name.startswith(key)][:8]
    if len(found) < 8:
        insee = {c.insee for c in found}
        for suggestion in engine.gazetteer.suggest(q, limit=40):
            commune = suggestion.commune
            if commune.insee not in insee and user.principal.covers(
                    commune.department, engine.territories.commission_of(commune.insee)):
                found.append(commune)
                insee.add(commune.insee)
    return _options([(c.name, f"{c.name} ({', '.join(c.postcodes)})") for c in found[:8]])


@router.get("/web/metiers")
def jobs(request: Request, user: PeopleUserDep,
         q: Annotated[str, Query(max_length=200)] = "",
         target_job_1: Annotated[str, Query(max_length=200)] = "",
         target_job_2: Annotated[str, Query(max_length=200)] = "",
         target_job_3: Annotated[str, Query(max_length=200)] = "") -> Response:
    """ROME 4.0 job titles close to what is typed (datalist options)."""
    rome = request.app.state.im.engine.rome
    text = q or target_job_1 or target_job_2 or target_job_3
    if rome is None:
        return _options([])
    return _options([(label, f"{label} ({code})")
                     for label, code in rome.suggest_titles(text, limit=8)])
