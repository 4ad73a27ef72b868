"""Who is calling, and what they may see: API keys, roles, territories.

Every router but ``ops`` is included with ``Depends(authenticate)`` (``app.py``), so a router
added later needs a key without doing anything; ``create_app`` refuses to build an app with an
unauthenticated route outside :data:`PUBLIC_PATHS`.

Roles (DESIGN §9):

- ``coach``: one or more territories (never ``*``); stored people and recommendations there;
- ``platform``: a backend (job platform); as a coach on its granted territories, plus batch;
- ``evaluator``: aggregates only — an endpoint must be marked :func:`aggregates_only` to
  serve it (deny by default), and no such endpoint returns personal data;
- ``admin``: everything, every territory;
- ``manager``: a coaches' manager (web app): the aggregates of their territories (recommendations
  shown, proposals, entries, capacity); no API route serves it, no personal data.

Territory grants are written ``61`` (the whole département), ``61:Flers`` (one Commission RSA
of the Orne, spelt as ``geo.territories.COMMISSIONS``) or ``*`` (every territory; platform and
evaluator only). A person outside the caller's territories does not exist for the caller: the
routes answer exactly as for an unknown id.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from insertion_match.geo.territories import COMMISSIONS
from insertion_match.service import db
from insertion_match.service.deps import StateDep
from insertion_match.service.state import ServiceState

#: Paths served without a key (the OpenAPI documentation and the probes).
PUBLIC_PATHS = frozenset({
    "/healthz", "/readyz", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json",
})


class Role(StrEnum):
    coach = "coach"
    platform = "platform"
    evaluator = "evaluator"
    admin = "admin"
    manager = "manager"


_DEPARTMENT = re.compile(r"^(\d[\dAB]|\d{3})$")


class InvalidGrant(ValueError):
    """A territory grant that is malformed, unknown, or not allowed for the role."""


@dataclass(frozen=True)
class Grant:
    """A territory: a whole département (``commission`` None), one commission, or everything."""

    department: str | None  # None: every territory ("*")
    commission: str | None = None

    @classmethod
    def parse(cls, text: str) -> Grant:
        text = text.strip()
        if text == "*":
            return cls(None)
        department, colon, commission = text.partition(":")
        if not _DEPARTMENT.match(department) or (colon and not commission):
            raise InvalidGrant(f"{text!r} : attendu « 61 », « 61:Flers » ou « * »")
        if not commission:
            return cls(department)
        known = COMMISSIONS.get(department, ())
        if commission not in known:
            raise InvalidGrant(f"{text!r} : commission inconnue dans le {department} ; "
                               f"connues : {', '.join(known) or 'aucune'}")
        return cls(department, commission)

    def covers(self, department: str, commission: str | None) -> bool:
        if self.department is None:
            return True
        if self.department != department:
            return False
        return self.commission is None or self.commission == commission

    def __str__(self) -> str:
        if self.department is None:
            return "*"
        return self.department + (f":{self.commission}" if self.commission else "")


def parse_grants(role: Role, texts: Iterable[str]) -> tuple[Grant, ...]:
    """Validate the grants of a new key for ``role``; raise :class:`InvalidGrant`."""
    grants = tuple(dict.fromkeys(Grant.parse(t) for t in texts))
    if role is Role.admin:
        if grants:
            raise InvalidGrant("une clé admin couvre tous les territoires : ne donnez pas de "
                               "--territory")
        return ()
    if role in (Role.coach, Role.platform, Role.manager) and not grants:
        raise InvalidGrant(f"une clé {role} demande au moins un --territory")
    if role is Role.coach and any(g.department is None for g in grants):
        raise InvalidGrant("une clé coach est limitée à des territoires nommés, pas « * »")
    return grants


@dataclass(frozen=True)
class Principal:
    """The caller: an active API key, its role and territories."""

    key_id: str
    name: str
    role: Role
    grants: tuple[Grant, ...]

    def covers(self, department: str | None, commission: str | None) -> bool:
        """May the caller see a person (or place) of this département and commission?"""
        if self.role is Role.admin:
            return True
        if department is None:
            return False
        return any(g.covers(department, commission) for g in self.grants)

    def territory_filter(self) -> list[tuple[str, str | None]] | None:
        """(département, commission or None) pairs for queries; None means everywhere."""
        if self.role is Role.admin or any(g.department is None for g in self.grants):
            return None
        return [(g.department, g.commission) for g in self.grants if g.department is not None]

    def home_territories(self) -> tuple[tuple[str, str | None], ...]:
        """The caller's territories where a home given by name or postcode is looked for
        first; empty (no preference: the served départements) for admin and ``*``."""
        return tuple(self.territory_filter() or ())

    def audit_fields(self) -> dict[str, str]:
        return {"actor": self.key_id, "actor_name": self.name, "actor_role": self.role.value}


class AuthFailures:
    """Failed authentications per client address and per key id, in a sliding window.

    Past ``limit`` failures within ``window`` seconds, the client (or anyone presenting that
    key id) is answered 429 with ``Retry-After`` *before* the key is checked, so guessing costs
    nothing to the database. In memory, per worker process; at most ``max_tracked`` buckets
    (the oldest are forgotten first).
    """

    def __init__(self, limit: int, window: float, max_tracked: int = 10_000) -> None:
        self.limit, self.window, self.max_tracked = limit, window, max_tracked
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, buckets: Iterable[str], now: float | None = None) -> int:
        """Seconds until every bucket is under the limit again (0: not limited)."""
        now = time.monotonic() if now is None else now
        wait = 0.0
        with self._lock:
            for bucket in buckets:
                times = self._failures.get(bucket)
                if not times:
                    continue
                while times and times[0] <= now - self.window:
                    times.popleft()
                if len(times) >= self.limit:
                    wait = max(wait, times[len(times) - self.limit] + self.window - now)
        return int(wait) + 1 if wait > 0 else 0

    def failed(self, buckets: Iterable[str], now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            for bucket in buckets:
                times = self._failures.pop(bucket, None) or deque(maxlen=self.limit + 1)
                times.append(now)
                self._failures[bucket] = times  # re-inserted: most recent last
            while len(self._failures) > self.max_tracked:
                self._failures.pop(next(iter(self._failures)))


def _buckets(request: Request, key: str | None) -> list[str]:
    return failure_buckets(request.client.host if request.client else None, key)


def failure_buckets(client: str | None, key: str | None) -> list[str]:
    """The :class:`AuthFailures` buckets of a request: its client address, and the key id."""
    buckets = [f"client:{client or 'unknown'}"]
    if key:
        parts = key.split("_", 2)
        if len(parts) == 3 and len(parts[1]) == 12:
            buckets.append(f"key:{parts[1]}")
    return buckets


_api_key = APIKeyHeader(name="X-API-Key", auto_error=False,
                        description="An API key (`insertion-match keys create`)")
_bearer = HTTPBearer(auto_error=False, description="The same API key as a bearer token")

_UNAUTHENTICATED = HTTPException(
    status_code=401, detail="clé d'API absente, inconnue ou révoquée",
    headers={"WWW-Authenticate": 'ApiKey header="X-API-Key", Bearer'},
)

F = TypeVar("F", bound=Callable[..., Any])


def aggregates_only(endpoint: F) -> F:
    """Mark a route as returning no personal data, so the evaluator role may call it."""
    endpoint.__im_aggregates_only__ = True  # type: ignore[attr-defined]
    return endpoint


async def authenticate(
    request: Request,
    state: StateDep,
    api_key: Annotated[str | None, Security(_api_key)] = None,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
) -> Principal:
    """Resolve the caller from ``X-API-Key`` or ``Authorization: Bearer``; 401 otherwise.

    On the event loop: a key verified less than ``IM_API_KEY_CACHE_SECONDS`` ago is answered
    from memory (``db.ApiKeyCache``), unless the database is known to be unavailable (an
    outage must answer 503, not be hidden by the cache); otherwise one indexed read on a pooled
    connection, in the thread pool.
    """
    key = api_key or (bearer.credentials if bearer is not None else None)
    failures: AuthFailures | None = getattr(request.app.state, "auth_failures", None)
    if failures is not None:
        buckets = _buckets(request, key)
        wait = failures.retry_after(buckets)
        if wait:
            raise HTTPException(status_code=429, detail="trop d'authentifications échouées : "
                                f"réessayez dans {wait} s", headers={"Retry-After": str(wait)})
    principal: Principal | None = None
    if key and len(key) <= 200:
        cache = state.key_cache
        if cache is not None and state.db_health.usable():
            principal = cache.get(key)  # type: ignore[assignment]
        if principal is None:
            principal = await run_in_threadpool(_lookup, state, key)
    if principal is None:
        if failures is not None:
            failures.failed(buckets)
        raise _UNAUTHENTICATED
    if principal.role is Role.evaluator:
        route = request.scope.get("route")
        endpoint = getattr(route, "endpoint", None)
        if not getattr(endpoint, "__im_aggregates_only__", False):
            raise HTTPException(status_code=403,
                                detail="le rôle evaluator n'a accès qu'aux agrégats")
    return principal


def _lookup(state: ServiceState, key: str) -> Principal | None:
    """Verify ``key`` in the database; cache the principal of an active key."""
    row = db.verify_api_key(state.sessions, key)
    state.db_health.connected()  # the database answered
    if row is None:
        return None
    principal = Principal(key_id=row.key_id, name=row.name, role=Role(row.role),
                          grants=tuple(Grant.parse(t) for t in row.territories))
    if state.key_cache is not None:
        state.key_cache.put(row, principal)
    return principal


PrincipalDep = Annotated[Principal, Depends(authenticate)]


def allow(*roles: Role) -> Any:
    """A route dependency: only these roles may call it (403 for the others)."""
    allowed = frozenset(roles)

    async def _check(principal: PrincipalDep) -> None:
        if principal.role not in allowed:
            raise HTTPException(status_code=403,
                                detail=f"le rôle {principal.role} n'a pas accès à ce point d'accès")

    return Depends(_check)


#: Roles that work with stored people and per-person recommendations.
PERSONAL_ROLES: Sequence[Role] = (Role.coach, Role.platform, Role.admin)


def outside_territory() -> HTTPException:
    """For a person the caller describes (inline profile) outside the caller's territories."""
    return HTTPException(status_code=403,
                         detail="le domicile de la personne est hors des territoires de cette clé")


def unauthenticated_routes(app: Any) -> list[str]:
    """Operations of ``app`` outside :data:`PUBLIC_PATHS` that need no API key.

    Read from the OpenAPI schema, where every operation depending on :func:`authenticate`
    carries its security schemes (whatever way its router was included).
    """
    paths = app.openapi().get("paths", {})
    return [
        f"{method.upper()} {path}" for path, operations in paths.items()
        if path not in PUBLIC_PATHS
        for method, operation in operations.items() if not operation.get("security")
    ]
