"""The FastAPI application: routers, start-up, problem+json errors, access log."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from insertion_match import __version__
from insertion_match.service.problems import problem_response, validation_problem
from insertion_match.service.routes import actions, beneficiaries, ops, recommendations
from insertion_match.service.schemas import Problem
from insertion_match.service.settings import Settings
from insertion_match.service.state import ServiceState, build_state

log = logging.getLogger("insertion_match.service")


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
    for module in (ops, recommendations, actions, beneficiaries):
        app.include_router(module.router)

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
        # Method, path and status only: never bodies or query strings (personal data).
        log.info("request", extra={"method": request.method, "path": request.url.path,
                                   "status": response.status_code,
                                   "ms": round((time.perf_counter() - start) * 1000, 1)})
        return response

    return app
