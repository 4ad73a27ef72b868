"""The FastAPI application: routers, start-up, problem+json errors, access log."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from insertion_match import __version__
from insertion_match.service import web
from insertion_match.service.auth import authenticate, unauthenticated_routes
from insertion_match.service.middleware import BodySizeLimit
from insertion_match.service.problems import problem_response, validation_problem
from insertion_match.service.routes import (
    actions,
    beneficiaries,
    opportunities,
    ops,
    outcomes,
    recommendations,
    stats,
)
from insertion_match.service.schemas import Problem
from insertion_match.service.settings import Settings
from insertion_match.service.state import ServiceState, build_state

log = logging.getLogger("insertion_match.service")

#: ``detail`` of the problems Starlette raises itself, in French (a person reads them).
DEFAULT_DETAILS_FR = {404: "ressource introuvable", 405: "méthode non autorisée pour ce chemin"}


def create_app(settings: Settings | None = None, state: ServiceState | None = None) -> FastAPI:
    """Build the app. ``state`` may be given (tests share one); otherwise built at start-up."""
    settings = settings or (state.settings if state else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        current = state or build_state(settings)
        app.state.im = current
        yield
        if state is None:  # a state handed in belongs to the caller
            current.close()

    app = FastAPI(
        title="insertion-match",
        version=__version__,
        summary="Eligible, explained rankings of insertion actions for RSA beneficiaries",
        description="Suggestions only: the référent decides and prescribes. Every item says why "
        "(reasons whose contributions add up to the score), with warnings and levers, in French.",
        lifespan=lifespan,
        docs_url=None, redoc_url=None,  # served from vendored files by the web app (offline)
    )
    app.include_router(ops.router)  # /healthz, /readyz: no key (PUBLIC_PATHS)
    # Every other router needs an API key (service/auth.py): add new routers to this tuple.
    for module in (recommendations, actions, beneficiaries, stats, opportunities, outcomes):
        app.include_router(module.router, dependencies=[Depends(authenticate)])
    # The coach's web app (pages, /static, /docs, /redoc): outside the OpenAPI schema, signed in
    # by session cookie (service/web/).
    web.install(app, settings)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)  # inside the access log

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(validation_problem(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        try:
            title = HTTPStatus(exc.status_code).phrase
        except ValueError:
            title = str(exc.detail)
        detail = str(exc.detail)
        if detail == title:  # Starlette's own answers (unknown path, method): in French
            detail = DEFAULT_DETAILS_FR.get(exc.status_code, detail)
        return problem_response(Problem(title=title, status=exc.status_code,
                                        detail=detail), headers=exc.headers)

    @app.exception_handler(SQLAlchemyError)
    async def _database(_: Request, exc: SQLAlchemyError) -> JSONResponse:
        log.error("database error", extra={"error": type(exc).__name__})
        return problem_response(
            Problem(title="Database unavailable", status=503,
                    detail="base de données indisponible : réessayez plus tard"),
            headers={"Retry-After": str(settings.retry_after_seconds)},
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", extra={"error": type(exc).__name__})
        return problem_response(Problem(title="Internal error", status=500,
                                        detail="erreur inattendue ; elle a été journalisée"))

    @app.middleware("http")
    async def _access_log(request: Request, call_next):
        start = time.perf_counter()
        response = await call_next(request)
        # Method, route template and status only: never bodies, query strings or path values
        # (a beneficiary id in a path could be name-like).
        route = request.scope.get("route")
        log.info("request", extra={"method": request.method,
                                   "path": getattr(route, "path", "<unmatched>"),
                                   "status": response.status_code,
                                   "ms": round((time.perf_counter() - start) * 1000, 1)})
        return response

    unprotected = unauthenticated_routes(app)
    if unprotected:
        raise RuntimeError(f"routes without authentication: {unprotected}; include their "
                           "router with dependencies=[Depends(authenticate)] (service/auth.py)")
    return app
