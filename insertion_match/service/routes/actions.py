"""The action catalogue: listing with filters, one action."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from insertion_match.domain import Action, ActionCategory, Frein
from insertion_match.matcher.catalogue_search import filter_actions
from insertion_match.service.auth import aggregates_only
from insertion_match.service.deps import StateDep
from insertion_match.service.problems import PROBLEM_RESPONSES, not_found
from insertion_match.service.schemas import ActionsPage

router = APIRouter(prefix="/v1/actions", tags=["catalogue"])


@router.get("", response_model=ActionsPage, responses=PROBLEM_RESPONSES)
@aggregates_only  # the public catalogue: no personal data
def list_actions(
    state: StateDep,
    department: Annotated[str | None, Query(pattern=r"^\d[\dAB]$|^\d{3}$")] = None,
    commission: Annotated[str | None, Query(max_length=60)] = None,
    insee: Annotated[str | None, Query(pattern=r"^\d[\dAB]\d{3}$",
                                       description="Actions serving this commune")] = None,
    category: ActionCategory | None = None,
    frein: Frein | None = None,
    q: Annotated[str | None, Query(
        max_length=100, description="Words to find (all of them, accents and case ignored) "
        "in title, operator and description")] = None,
    active: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ActionsPage:
    """The catalogue, filtered. ``insee`` keeps the actions whose territory serves it."""
    matches = filter_actions(
        state.engine, department=department, commission=commission, insee=insee,
        category=category, frein=frein, q=q, active=active,
    )
    return ActionsPage(total=len(matches), limit=limit, offset=offset,
                       items=matches[offset: offset + limit])


@router.get("/{action_id}", response_model=Action, responses={404: PROBLEM_RESPONSES[404]})
@aggregates_only
def get_action(action_id: str, state: StateDep) -> Action | JSONResponse:
    action = state.engine.action(action_id)
    return action if action is not None else not_found(f"aucune action « {action_id} »")
