"""Who is signed in, and how a page is answered (template, session cookie, CSRF)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from insertion_match.service import db
from insertion_match.service.auth import Grant, Principal, Role
from insertion_match.service.settings import Settings
from insertion_match.service.web import labels
from insertion_match.service.web.sessions import (
    CSRF_FIELD,
    SessionCodec,
    WebSession,
    csrf_ok,
    sign_in_key,
)

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
labels.register(TEMPLATES.env)

#: Roles that work with people (caseload, diagnostic, proposals).
PEOPLE_ROLES = frozenset({Role.coach, Role.admin})
#: Roles that read the territory aggregates.
MANAGER_ROLES = frozenset({Role.manager, Role.admin})


@dataclass
class WebApp:
    settings: Settings
    codec: SessionCodec
    limiter: db.SignInLimiter  # failed sign-ins, in the database: shared by every worker


def setup(app: FastAPI, settings: Settings) -> None:
    app.state.web = WebApp(settings, SessionCodec(settings),
                           db.SignInLimiter(sign_in_key(settings)))
    db.users.dummy_hash()  # the unknown-address hash of the sign-in, made before any request

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        target = "/connexion"
        if request.method == "GET" and request.url.path not in ("/", "/connexion"):
            target += f"?suite={request.url.path}"
        response = RedirectResponse(target, status_code=303)
        return web(request).codec.write(response, exc.session)

    @app.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError) -> Response:
        return render(request, "error.html", {"title": exc.title, "message": exc.message},
                      status_code=exc.status)


def web(request: Request) -> WebApp:
    return request.app.state.web


class SignInRequired(Exception):
    def __init__(self, session: WebSession) -> None:
        self.session = session


class PageError(Exception):
    """An answer as a page: status, French title and message."""

    def __init__(self, status: int, title: str, message: str) -> None:
        self.status, self.title, self.message = status, title, message


NOT_FOUND = ("Page introuvable", ("Cette page n'existe pas, ou elle concerne une personne hors "
             "de vos territoires."))


def not_found() -> PageError:
    return PageError(404, *NOT_FOUND)


@dataclass(frozen=True)
class WebUser:
    id: int
    email: str
    role: Role
    principal: Principal

    @property
    def territories_label(self) -> str:
        grants = self.principal.grants
        if self.role is Role.admin or not grants:
            return "tous les territoires"
        return ", ".join(labels.grant_label(str(g)) for g in grants)


def session_of(request: Request) -> WebSession:
    session = getattr(request.state, "web_session", None)
    if session is None:
        session = web(request).codec.read(request)
        request.state.web_session = session
    return session


def current_user(request: Request) -> WebUser:
    """The signed-in user; otherwise a redirect to the sign-in page."""
    session = session_of(request)
    row = None if session.user_id is None else db.get_user(
        request.app.state.im.sessions, int(session.user_id))
    if row is None or db.session_ended(row, session.started):
        raise SignInRequired(session if session.user_id is None else web(request).codec.new())
    role = Role(row.role)
    principal = Principal(key_id=f"web-{row.id}", name=row.email, role=role,
                          grants=tuple(Grant.parse(t) for t in row.territories))
    user = WebUser(row.id, row.email, role, principal)
    request.state.web_user = user
    return user


def people_user(user: Annotated[WebUser, Depends(current_user)]) -> WebUser:
    if user.role not in PEOPLE_ROLES:
        raise PageError(403, "Accès réservé", "Ces pages sont réservées aux référents.")
    return user


def manager_user(user: Annotated[WebUser, Depends(current_user)]) -> WebUser:
    if user.role not in MANAGER_ROLES:
        raise PageError(403, "Accès réservé", "Le pilotage est réservé aux responsables.")
    return user


UserDep = Annotated[WebUser, Depends(current_user)]
PeopleUserDep = Annotated[WebUser, Depends(people_user)]
ManagerDep = Annotated[WebUser, Depends(manager_user)]


async def require_csrf(request: Request) -> None:
    """Every form POST carries the session's CSRF token (hidden field ``csrf_token``)."""
    form = await request.form()
    token = form.get(CSRF_FIELD)
    if not csrf_ok(session_of(request), token if isinstance(token, str) else None):
        raise PageError(403, "Formulaire expiré", "Ce formulaire a expiré ou ne vient pas de "
                        "cette application. Rechargez la page et recommencez.")


CsrfDep = Depends(require_csrf)


def render(request: Request, template: str, context: dict[str, Any] | None = None,
           status_code: int = 200) -> HTMLResponse:
    """The page, with the common context; re-issues the session cookie (sliding expiry)."""
    session = session_of(request)
    settings = web(request).settings
    base = {"request": request, "user": getattr(request.state, "web_user", None),
            "csrf_token": session.csrf, "csrf_field": CSRF_FIELD,
            "source_url": settings.web_source_url, "path": request.url.path}
    response = TEMPLATES.TemplateResponse(request, template, {**base, **(context or {})},
                                          status_code=status_code)
    web(request).codec.write(response, session)
    response.headers["Cache-Control"] = "no-store"
    return response


def redirect(request: Request, url: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    web(request).codec.write(response, session_of(request))
    return response
