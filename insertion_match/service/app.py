"""The FastAPI application: routers, start-up, problem+json errors, access log."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from insertion_match import __version__
from insertion_match.service import db, web
from insertion_match.service.auth import AuthFailures, authenticate, unauthenticated_routes
from insertion_match.service.fastlane import FastLane, ServiceApp
from insertion_match.service.follow import Follower
from insertion_match.service.logging import configure_logging
from insertion_match.service.middleware import AccessLog, BodySizeLimit, SecurityHeaders
from insertion_match.service.openapi import complete_openapi
from insertion_match.service.problems import (
    ambiguous_problem,
    problem_response,
    validation_problem,
)
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


def serve_app() -> FastAPI:
    """The app as each uvicorn worker builds it (``--factory``): settings from the environment
    and the service's JSON logging, without personal data, in every worker."""
    settings = Settings()
    configure_logging(settings.log_level)
    return create_app(settings)


def create_app(settings: Settings | None = None, state: ServiceState | None = None) -> FastAPI:
    """Build the app. ``state`` may be given (tests share one); otherwise built at start-up.

    Called without arguments (``uvicorn --factory ...:create_app``), it configures the JSON
    logging as :func:`serve_app` does."""
    if settings is None and state is None:
        settings = Settings()
        configure_logging(settings.log_level)
    settings = settings or (state.settings if state else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        current = state or build_state(settings)
        app.state.im = current
        if state is None:
            # What start-up loaded (communes, catalogue, offers, models) lives as long as the
            # process: out of the cyclic collector's way, otherwise every full collection walks
            # it — pauses of 100-250 ms measured under load, the tail of every request
            # in flight then (docs/request-path.md)
            gc.collect()
            gc.freeze()
        follower = None
        if state is None and settings.refresh_seconds > 0:
            follower = Follower(current, settings.refresh_seconds)
            follower.start()  # catalogue and offers changed by the CLI or another worker
        app.state.follower = follower
        yield
        if follower is not None:
            follower.stop()
        if state is None:  # a state handed in belongs to the caller
            current.close()

    docs = settings.docs_public if settings.docs_public is not None else (
        settings.environment != "production")
    app = ServiceApp(
        # /docs and /redoc are served from vendored files by the web app (offline), when open
        docs_url=None, redoc_url=None, openapi_url="/openapi.json" if docs else None,
        title="insertion-match",
        version=__version__,
        summary="Eligible, explained rankings of insertion actions for RSA beneficiaries",
        description="Suggestions only: the référent decides and prescribes. Every item says why "
        "(reasons whose contributions add up to the score), with warnings and levers, in French.",
        lifespan=lifespan,
    )
    app.include_router(ops.router)  # /healthz, /readyz: no key (PUBLIC_PATHS)
    # Every other router needs an API key (service/auth.py): add new routers to this tuple.
    for module in (recommendations, actions, beneficiaries, stats, opportunities, outcomes):
        app.include_router(module.router, dependencies=[Depends(authenticate)])
    # The coach's web app (pages, /static, /docs, /redoc): outside the OpenAPI schema, signed in
    # by session cookie (service/web/).
    web.install(app, settings, docs=docs)
    # Outermost last: access log, then security headers, then the body limit and timeout.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes,
                       timeout=settings.body_timeout_seconds)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(AccessLog)
    if settings.fast_lane:  # the ordinary hot requests without the framework (fastlane.py)
        app.fast_lane = FastLane(app, settings.max_body_bytes, settings.body_timeout_seconds)
    app.state.auth_failures = AuthFailures(settings.auth_failures_max,
                                           settings.auth_failures_window_seconds)

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

    @app.exception_handler(db.AmbiguousId)
    async def _ambiguous(_: Request, exc: db.AmbiguousId) -> JSONResponse:
        return problem_response(ambiguous_problem(exc))

    @app.exception_handler(RecursionError)
    async def _too_deep(_: Request, exc: RecursionError) -> JSONResponse:
        return problem_response(validation_problem([{
            "loc": ("body",), "type": "value_error",
            "msg": "Value error, the document is nested too deeply"}]))

    @app.exception_handler(DataError)
    async def _bad_value(_: Request, exc: DataError) -> JSONResponse:
        # The database refused a value (NUL byte, out-of-range number...): bad input, not an
        # outage. The statement and its parameters are never echoed.
        log.warning("value refused by the database", extra={"error": type(exc.orig).__name__})
        return problem_response(validation_problem([{
            "loc": ("body",), "type": "value_error",
            "msg": "Value error, a value cannot be stored (control character or out of range)"}]))

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

    # every status, errors as problem+json; replacing the method is FastAPI's documented way
    app.openapi = lambda: complete_openapi(app)  # type: ignore[method-assign]
    unprotected = unauthenticated_routes(app)
    if unprotected:
        raise RuntimeError(f"routes without authentication: {unprotected}; include their "
                           "router with dependencies=[Depends(authenticate)] (service/auth.py)")
    return app
