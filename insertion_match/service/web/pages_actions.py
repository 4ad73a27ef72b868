"""An action's page (address, contact, how to prescribe, cost, places, source document) and
the autocompletion fragments the diagnostic form asks for through HTMX."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import escape

from insertion_match.service.web.context import PeopleUserDep, UserDep, not_found, render
from insertion_match.service.web.sheets import action_sheet

router = APIRouter()


@router.get("/actions/{action_id}")
def action_page(request: Request, user: UserDep,
                action_id: Annotated[str, Path(max_length=200)]) -> Response:
    engine = request.app.state.im.engine
    action = engine.action(action_id)
    if action is None:  # the catalogue is public: no territory check
        raise not_found()
    sheet = action_sheet(engine, action_id)
    return render(request, "action.html", {"title": sheet.title, "sheet": sheet,
                                           "back": request.query_params.get("retour", "")})


def _options(values: list[tuple[str, str]]) -> HTMLResponse:
    html = "".join(f'<option value="{escape(v)}">{escape(label)}</option>'
                   for v, label in values)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@router.get("/web/communes")
def communes(request: Request, user: PeopleUserDep,
             q: Annotated[str, Query(alias="home.commune", max_length=120)] = "") -> Response:
    """Communes of the user's territories close to what is typed (datalist options)."""
    engine = request.app.state.im.engine
    if len(q.strip()) < 2:
        return _options([])
    found = []
    for suggestion in engine.gazetteer.suggest(q, limit=40):
        commune = suggestion.commune
        if user.principal.covers(commune.department,
                                 engine.territories.commission_of(commune.insee)):
            found.append((commune.name, f"{commune.name} ({', '.join(commune.postcodes)})"))
    return _options(found[:8])


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
