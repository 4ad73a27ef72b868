"""The coach's pages about people: caseload, diagnostic, ranked list, proposal, follow-up.

Each view checks the form, calls the function the API calls (``people.store_profile``,
``recommending.recommend_for``, ``proposals.tie_to_recommendation``, ``db``) and renders.
A person outside the user's territories answers exactly as an unknown one (404 page).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from insertion_match.domain import ItemKind, OutcomeRecord
from insertion_match.geo import GeoError
from insertion_match.service import db
from insertion_match.service.db.caseload import caseload, recommendations_of
from insertion_match.service.people import Stored, store_profile, visible_person
from insertion_match.service.proposals import NotShown, tie_to_recommendation
from insertion_match.service.recommending import recommend_for
from insertion_match.service.schemas import Problem, RecommendationRequest
from insertion_match.service.web import mapsvg
from insertion_match.service.web.context import (
    CsrfDep,
    PageError,
    PeopleUserDep,
    WebUser,
    not_found,
    redirect,
    render,
)
from insertion_match.service.web.forms import FIELD_LABELS, form_to_profile, profile_to_form
from insertion_match.service.web.sheets import action_sheet, document_titles, item_sheet

router = APIRouter(prefix="/personnes")

PersonId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"
LIST_LIMIT = 10


def _state(request: Request):
    return request.app.state.im


def _person(request: Request, user: WebUser, person_id: str) -> db.BeneficiaryRow:
    row = visible_person(_state(request), user.principal, person_id)
    if row is None:
        raise not_found()
    return row


def _commune_name(request: Request, insee: str) -> str:
    try:
        return _state(request).engine.gazetteer.by_insee(insee).name
    except GeoError:  # a commune merged since: show its code
        return insee


@router.get("")
def people(request: Request, user: PeopleUserDep,
           q: Annotated[str, Query(max_length=64)] = "") -> Response:
    total, lines = caseload(_state(request).sessions, user.principal.territory_filter(), q)
    names = {line.home_insee: _commune_name(request, line.home_insee) for line in lines}
    return render(request, "people.html", {"title": "Personnes accompagnées", "lines": lines,
                                           "total": total, "q": q, "names": names})


def _diagnostic(request: Request, user: WebUser, values: dict, errors: dict, *,
                person_id: str | None, status: int = 200, suggestions: list | None = None
                ) -> Response:
    title = "Nouveau diagnostic" if person_id is None else f"Diagnostic de {person_id}"
    return render(request, "diagnostic.html", {
        "title": title, "values": values, "errors": errors, "person_id": person_id,
        "suggestions": suggestions or [], "territories": user.territories_label,
        "field_labels": FIELD_LABELS},
        status_code=status)


@router.get("/nouvelle")
def new_person(request: Request, user: PeopleUserDep) -> Response:
    return _diagnostic(request, user, {}, {}, person_id=None)


@router.get("/{person_id}/diagnostic")
def diagnostic(request: Request, user: PeopleUserDep, person_id: PersonId) -> Response:
    row = _person(request, user, person_id)
    return _diagnostic(request, user, profile_to_form(db.profile_of(row)), {},
                       person_id=person_id)


def _save(request: Request, user: WebUser, form: dict, person_id: str | None) -> Response:
    new = person_id is None
    errors: dict[str, str] = {}
    history = None
    if new:
        person_id = (form.get("id") or "").strip()
        import re

        if not person_id or len(person_id) > 64 or not re.match(ID_PATTERN, person_id):
            errors["id"] = ("Saisissez un identifiant pseudonyme : lettres sans accent, "
                            "chiffres, tirets, points (jamais un nom ni un numéro CAF).")
        elif visible_person(_state(request), user.principal, person_id) is not None:
            errors["id"] = "Cet identifiant est déjà utilisé : choisissez-en un autre."
    else:
        assert person_id is not None  # not new: the person's id is in the path
        history = db.profile_of(_person(request, user, person_id)).model_dump(
            mode="json")["history"]
    profile, form_errors = form_to_profile(form, person_id or "x", history)
    errors.update(form_errors)
    if errors or profile is None:
        return _diagnostic(request, user, form, errors, person_id=None if new else person_id,
                           status=422)
    stored = store_profile(_state(request), user.principal, profile)
    if isinstance(stored, Problem):
        return _diagnostic(request, user, form, _problem_errors(stored),
                           person_id=None if new else person_id, status=422,
                           suggestions=[s for s in stored.suggestions if _covers_commune(
                               request, user, s.department, s.insee)])
    assert isinstance(stored, Stored)
    return redirect(request, f"/personnes/{stored.row.id}/recommandation")


def _covers_commune(request: Request, user: WebUser, department: str, insee: str) -> bool:
    commission = _state(request).engine.territories.commission_of(insee)
    return user.principal.covers(department, commission)


def _problem_errors(problem: Problem) -> dict[str, str]:
    if problem.status == 403:
        return {"home.commune": "Cette commune est hors de vos territoires : la personne relève "
                "d'un autre référent."}
    if problem.status == 404:
        return {"id": "Cet identifiant est déjà utilisé : choisissez-en un autre."}
    messages = {}
    for error in problem.errors:
        name = error.path.removeprefix("beneficiary.")
        name = "home.commune" if name.startswith("home.") else name
        messages[name] = error.message_fr[:1].upper() + error.message_fr[1:] + "."
    return messages or {"form": "Le diagnostic n'a pas pu être enregistré."}


@router.post("/nouvelle", dependencies=[CsrfDep])
async def create_person(request: Request, user: PeopleUserDep) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    return _save(request, user, form, None)


@router.post("/{person_id}/diagnostic", dependencies=[CsrfDep])
async def save_diagnostic(request: Request, user: PeopleUserDep,
                          person_id: PersonId) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    return _save(request, user, form, person_id)


@router.get("/{person_id}")
def person(request: Request, user: PeopleUserDep, person_id: PersonId) -> Response:
    state = _state(request)
    row = _person(request, user, person_id)
    db.log_access(state.sessions, beneficiary_id=person_id, action="read", subject=row.subject,
                  **user.principal.audit_fields())
    _, events = db.list_outcomes(state.sessions, person_id, limit=500, subject=row.subject)
    current: dict[str, db.OutcomeRow] = {}
    for event in events:
        current[event.item_id] = event
    titles = {e.item_id: _title(request, e.item_kind, e.item_id) for e in events}
    kinds = {e.item_id: e.item_kind for e in events}
    return render(request, "person.html", {
        "title": f"Personne {person_id}", "row": row, "profile": db.profile_of(row),
        "commune": _commune_name(request, row.home_insee), "events": events,
        "current": current, "titles": titles, "kinds": kinds,
        "recommendations": recommendations_of(state.sessions, row.subject),
        "today": date.today().isoformat()})


def _title(request: Request, item_kind: str, item_id: str) -> str:
    sheet = item_sheet(_state(request).engine, item_kind, item_id)
    return sheet.title if sheet else item_id


@router.get("/{person_id}/recommandation")
def recommendation(request: Request, user: PeopleUserDep, person_id: PersonId) -> Response:
    state = _state(request)
    row = _person(request, user, person_id)
    answer = recommend_for(state, user.principal, RecommendationRequest(
        beneficiary_id=person_id, kinds=[ItemKind.action], limit=LIST_LIMIT,
        include_excluded=True))
    if isinstance(answer, Problem):
        raise PageError(answer.status, "Liste impossible à établir",
                        "La commune de la personne n'a pas pu être localisée : corrigez le "
                        "diagnostic.")
    actions = {item.id: state.engine.action(item.id) for item in answer.items}
    sheets = {item.id: action_sheet(state.engine, item.id) for item in answer.items}
    points = mapsvg.sites_of(state.engine, [(item.rank, actions[item.id]) for item in answer.items
                                            if actions[item.id] is not None])
    svg = mapsvg.render(state.settings.data_dir, state.engine.gazetteer, row.department,
                        answer.home.insee, points)
    return render(request, "recommendation.html", {
        "title": f"Actions pour {person_id}", "person_id": person_id, "answer": answer,
        "actions": actions, "sheets": sheets, "map_svg": svg})


OFFER_KINDS = {"emploi": ItemKind.job, "immersion": ItemKind.immersion,
               "benevolat": ItemKind.volunteering, "stage": ItemKind.internship}


@router.get("/{person_id}/offres")
def offers(request: Request, user: PeopleUserDep, person_id: PersonId,
           type: Annotated[str, Query(max_length=20)] = "emploi") -> Response:
    """The offers of one kind ranked for the person; ticked ones are proposed as actions are."""
    state = _state(request)
    _person(request, user, person_id)
    kind = OFFER_KINDS.get(type, ItemKind.job)
    answer = recommend_for(state, user.principal, RecommendationRequest(
        beneficiary_id=person_id, kinds=[kind], limit=LIST_LIMIT))
    if isinstance(answer, Problem):
        raise PageError(answer.status, "Liste impossible à établir",
                        "Les offres ne sont pas servies pour cette personne.")
    return render(request, "offers.html", {
        "title": f"Offres pour {person_id}", "person_id": person_id, "answer": answer,
        "kinds": OFFER_KINDS, "current": type if type in OFFER_KINDS else "emploi"})


@router.post("/{person_id}/propositions", dependencies=[CsrfDep])
async def propose(request: Request, user: PeopleUserDep, person_id: PersonId) -> Response:
    state = _state(request)
    row = _person(request, user, person_id)
    form = await request.form()
    items = [v for v in form.getlist("items") if isinstance(v, str)]
    kind = str(form.get("item_kind", "action"))
    if kind not in {k.value for k in ItemKind}:
        raise PageError(400, "Proposition incomplète", "Type d'élément inconnu.")
    try:
        recommendation_id = int(str(form.get("recommendation_id", "")))
    except ValueError:
        raise PageError(400, "Proposition incomplète", "La liste d'origine manque.") from None
    if not items:
        raise PageError(422, "Aucune action cochée", "Cochez au moins une action à proposer, "
                        "puis validez la proposition.")
    records = []
    for item_id in dict.fromkeys(items):
        try:
            record = OutcomeRecord(beneficiary_id=person_id, item_id=item_id[:200],
                                   item_kind=kind, status="proposed", occurred_on=date.today(),
                                   recommendation_id=recommendation_id)
        except ValidationError:
            raise not_found() from None
        tied = tie_to_recommendation(state, record, row.subject)
        if isinstance(tied, NotShown):
            raise PageError(422, "Proposition impossible", tied.message_fr[:1].upper()
                            + tied.message_fr[1:] + ".")
        records.append(tied)
    db.add_outcomes(state.sessions, records, source="web", subjects=[row.subject] * len(records))
    return redirect(request, f"/personnes/{person_id}/propositions/{recommendation_id}")


def _proposal(request: Request, user: WebUser, person_id: str, recommendation_id: int):
    state = _state(request)
    row = _person(request, user, person_id)
    _, events = db.list_outcomes(state.sessions, person_id, limit=1000, subject=row.subject)
    proposed = [e for e in events if e.status == "proposed"
                and e.recommendation_id == recommendation_id]
    if not proposed:
        raise not_found()
    proposed.sort(key=lambda e: (e.rank or 999, e.id))
    db.log_access(state.sessions, beneficiary_id=person_id, action="read", subject=row.subject,
                  **user.principal.audit_fields())
    titles = document_titles(state.settings.catalogue_dir)
    sheets = [item_sheet(state.engine, e.item_kind, e.item_id, titles) for e in proposed]
    return row, [s for s in sheets if s is not None], proposed[0].occurred_on


@router.get("/{person_id}/propositions/{recommendation_id}")
def proposal(request: Request, user: PeopleUserDep, person_id: PersonId,
             recommendation_id: int) -> Response:
    row, sheets, day = _proposal(request, user, person_id, recommendation_id)
    return render(request, "proposal.html", {
        "title": f"Proposition pour {person_id}", "person_id": person_id, "sheets": sheets,
        "day": day, "recommendation_id": recommendation_id,
        "commune": _commune_name(request, row.home_insee)})


@router.get("/{person_id}/propositions/{recommendation_id}/pdf")
def proposal_pdf(request: Request, user: PeopleUserDep, person_id: PersonId,
                 recommendation_id: int) -> Response:
    from insertion_match.service.web.pdf import proposal_pdf as build

    _, sheets, day = _proposal(request, user, person_id, recommendation_id)
    content = build(sheets, day, person_id)
    return Response(content, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="proposition-{recommendation_id}.pdf"',
        "Cache-Control": "no-store"})


@router.post("/{person_id}/suivi", dependencies=[CsrfDep])
def follow_up(request: Request, user: PeopleUserDep, person_id: PersonId,
              item_id: Annotated[str, Form(max_length=200)],
              status: Annotated[str, Form(max_length=20)],
              occurred_on: Annotated[str, Form(max_length=10)] = "",
              refusal_reason: Annotated[str, Form(max_length=32)] = "",
              exit_kind: Annotated[str, Form(max_length=32)] = "") -> Response:
    state = _state(request)
    row = _person(request, user, person_id)
    _, events = db.list_outcomes(state.sessions, person_id, limit=1000, subject=row.subject)
    proposals = [e for e in events if e.item_id == item_id]
    if not proposals:
        raise not_found()
    try:
        record = OutcomeRecord(
            beneficiary_id=person_id, item_id=item_id, item_kind=proposals[-1].item_kind,
            status=status,
            occurred_on=occurred_on or date.today(),
            refusal_reason=(refusal_reason or None) if status == "refused" else None,
            exit_kind=(exit_kind or None) if status == "exited" else None)
    except ValidationError:
        raise PageError(422, "Suivi incomplet", "Pour un refus, choisissez la raison ; pour une "
                        "sortie, choisissez le type de sortie ; la date doit être valide.") from None
    if record.status.value == "proposed":
        raise PageError(422, "Suivi invalide", "Une proposition se fait depuis la liste.")
    db.add_outcomes(state.sessions, [record], source="web", subjects=[row.subject])
    return redirect(request, f"/personnes/{person_id}#suivi")
