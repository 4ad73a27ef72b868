"""The FastAPI application: thin routes over `MatchingEngine`, problem+json errors."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from insertion_match import __version__
from insertion_match.domain import ActionCategory, Frein
from insertion_match.geo import GeoError
from insertion_match.matcher.errors import UnsupportedKind
from insertion_match.service import storage
from insertion_match.service.mapping import filter_actions, to_response
from insertion_match.service.problems import (
    geo_problem,
    problem_response,
    validation_problem,
)
from insertion_match.service.schemas import (
    ActionsPage,
    Problem,
    RecommendationRequest,
    RecommendationResponse,
)
from insertion_match.service.settings import Settings
from insertion_match.service.state import ServiceState, build_state

log = logging.getLogger("insertion_match.service")

PROBLEM_RESPONSES = {422: {"model": Problem, "description": "Invalid input, with field paths"}}


def get_state(request: Request) -> ServiceState:
    return request.app.state.im


StateDep = Annotated[ServiceState, Depends(get_state)]


def create_app(settings: Settings | None = None, state: ServiceState | None = None) -> FastAPI:
    """Build the app. ``state`` may be given (tests share one); otherwise built at start-up."""
    settings = settings or (state.settings if state else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.im = state or build_state(settings)
        yield

    app = FastAPI(
        title="insertion-match",
        version=__version__,
        summary="Eligible, explained rankings of insertion actions for RSA beneficiaries",
        description="Suggestions only: the référent decides and prescribes. Every item says why "
        "(reasons whose contributions add up to the score), with warnings and levers, in French.",
        lifespan=lifespan,
    )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(validation_problem(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(Problem(title=str(exc.detail), status=exc.status_code,
                                        detail=str(exc.detail)))

    @app.exception_handler(SQLAlchemyError)
    async def _database(_: Request, exc: SQLAlchemyError) -> JSONResponse:
        log.error("database error", extra={"error": type(exc).__name__})
        return problem_response(
            Problem(title="Database unavailable", status=503, detail="retry later"),
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", extra={"error": type(exc).__name__})
        return problem_response(Problem(title="Internal error", status=500,
                                        detail="unexpected error; it has been logged"))

    @app.middleware("http")
    async def _access_log(request: Request, call_next):
        start = time.perf_counter()
        response = await call_next(request)
        # Method, route and status only: never bodies or query strings (personal data).
        log.info("request", extra={"method": request.method, "path": request.url.path,
                                   "status": response.status_code,
                                   "ms": round((time.perf_counter() - start) * 1000, 1)})
        return response

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"])
    def readyz(state: StateDep) -> JSONResponse:
        try:
            with state.sessions() as session:
                session.execute(text("SELECT 1"))
            db = "ok"
        except SQLAlchemyError:
            db = "unavailable"
        body = {"database": db, "actions": len(state.engine.actions),
                "model": {"name": state.engine.scorer.name, "version": state.engine.scorer.version}}
        return JSONResponse(body, status_code=200 if db == "ok" else 503)

    @app.post("/v1/recommendations", response_model=RecommendationResponse, tags=["matching"],
              responses=PROBLEM_RESPONSES)
    def recommendations(body: RecommendationRequest, state: StateDep) -> RecommendationResponse | JSONResponse:
        """Rank the eligible actions for one person, each with reasons, warnings and levers."""
        if body.beneficiary is None:
            return problem_response(validation_problem([{
                "loc": ("body", "beneficiary_id"), "type": "value_error",
                "msg": "Value error, stored beneficiaries are not available yet: send 'beneficiary'",
            }]))
        limit = min(body.limit, state.settings.max_limit)
        try:
            result = state.engine.recommend(
                body.beneficiary, [k.value for k in body.kinds], limit, body.include_excluded
            )
        except GeoError as exc:
            home = body.beneficiary.home
            field = "insee" if home.insee else "commune" if home.commune else "postcode"
            return problem_response(geo_problem(exc, f"beneficiary.home.{field}"))
        except UnsupportedKind as exc:
            return problem_response(validation_problem([{
                "loc": ("body", "kinds"), "type": "value_error",
                "msg": f"Value error, not served yet: {', '.join(exc.kinds)} (only 'action')",
            }]))
        storage.log_recommendation(
            state.sessions, actor="anonymous", beneficiary_id=result.beneficiary_id,
            model_name=result.model_name, model_version=result.model_version,
            item_ids=[i.id for i in result.items],
        )
        return to_response(result)

    @app.get("/v1/actions", response_model=ActionsPage, tags=["catalogue"],
             responses=PROBLEM_RESPONSES)
    def list_actions(
        state: StateDep,
        department: Annotated[str | None, Query(pattern=r"^\d[\dAB]$|^\d{3}$")] = None,
        commission: Annotated[str | None, Query(max_length=60)] = None,
        insee: Annotated[str | None, Query(pattern=r"^\d[\dAB]\d{3}$",
                                           description="Actions serving this commune")] = None,
        category: ActionCategory | None = None,
        frein: Frein | None = None,
        q: Annotated[str | None, Query(max_length=100, description="Text in title/operator")] = None,
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

    @app.get("/v1/actions/{action_id}", tags=["catalogue"],
             responses={404: {"model": Problem}})
    def get_action(action_id: str, state: StateDep):
        for action in state.engine.actions:
            if action.id == action_id:
                return action
        return problem_response(Problem(title="Not found", status=404,
                                        detail=f"no action {action_id!r}"))

    return app
