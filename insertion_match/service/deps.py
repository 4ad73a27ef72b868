"""Typed dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from insertion_match.service.state import ServiceState


async def get_state(request: Request) -> ServiceState:
    """Async: a plain attribute read, no thread-pool hand-off."""
    return request.app.state.im


StateDep = Annotated[ServiceState, Depends(get_state)]
