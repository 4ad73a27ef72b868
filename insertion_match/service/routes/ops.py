"""Health and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from insertion_match.service.deps import StateDep

router = APIRouter(tags=["ops"])


_HEALTHY = b'{"status":"ok"}'


@router.get("/healthz", response_model=dict[str, str])
async def healthz() -> Response:
    """The process is up (no dependency checked). On the event loop, no thread hand-off."""
    return Response(_HEALTHY, media_type="application/json")


@router.get("/readyz")
def readyz(state: StateDep) -> JSONResponse:
    """Ready to serve: database reachable, catalogue and model loaded (503 without database).

    ``model.fallback`` is true when a configured learned model was refused at start-up and the
    transparent scorer serves: still ready, but flagged.
    """
    try:
        with state.sessions() as session:
            session.execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError:
        database = "unavailable"
    status = state.model_status
    body = {"database": database, "actions": len(state.engine.actions),
            "model": {"name": state.engine.scorer.name, "version": state.engine.scorer.version,
                      "fallback": status.fallback, "fallback_reason": status.reason}}
    return JSONResponse(body, status_code=200 if database == "ok" else 503)
