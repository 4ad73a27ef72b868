"""Sign in, sign out, and the home page (which sends each role to its pages).

ProConnect (OpenID Connect) plugs in here: a ``/connexion/proconnect`` route redirecting to the
provider, and a callback that checks the state and nonce, finds the account by e-mail
(``db.users``; the role and territories stay granted locally) and starts the same session as
:func:`sign_in` does (``codec.new(user_id=...)``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from insertion_match.service import db
from insertion_match.service.auth import Role
from insertion_match.service.web.context import (
    CsrfDep,
    redirect,
    render,
    session_of,
    web,
)

router = APIRouter()


def _home_of(role: str) -> str:
    return "/pilotage" if role == Role.manager.value else "/personnes"


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@router.get("/")
def home(request: Request) -> Response:
    session = session_of(request)
    row = None if session.user_id is None else db.get_user(
        request.app.state.im.sessions, int(session.user_id))
    return redirect(request, _home_of(row.role) if row else "/connexion")


@router.get("/connexion")
def sign_in_page(request: Request, suite: str | None = None) -> Response:
    session = session_of(request)
    notice = None
    if session.ended == "expired":
        notice = "Votre session a expiré après une période d'inactivité : reconnectez-vous."
        request.state.web_session = replace(session, ended=None)  # said once
    elif suite is None and request.query_params.get("deconnecte"):
        notice = "Vous êtes déconnecté·e."
    return render(request, "sign_in.html", {"title": "Connexion", "notice": notice,
                                            "suite": _safe_next(suite) or "", "email": ""})


@router.post("/connexion", dependencies=[CsrfDep])
def sign_in(request: Request, email: Annotated[str, Form(max_length=254)] = "",
            password: Annotated[str, Form(max_length=1000)] = "",
            suite: Annotated[str, Form(max_length=500)] = "") -> Response:
    app = web(request)
    client = request.client.host if request.client else "?"
    address = email.strip().lower()
    sessions = request.app.state.im.sessions
    wait = app.limiter.retry_after(sessions, address, client)
    if wait:
        return render(request, "sign_in.html", {
            "title": "Connexion", "suite": _safe_next(suite) or "", "email": email,
            "error": f"Trop de tentatives de connexion. Réessayez dans {wait // 60 + 1} minute(s)."},
            status_code=429)
    row = db.verify_user(sessions, address, password) if address else None
    if row is None:
        app.limiter.failed(sessions, address, client)
        return render(request, "sign_in.html", {
            "title": "Connexion", "suite": _safe_next(suite) or "", "email": email,
            "error": "Adresse électronique ou mot de passe incorrect."}, status_code=400)
    app.limiter.succeeded(sessions, address)
    # A new session (new CSRF token) at sign-in: a token seen before cannot be replayed.
    request.state.web_session = app.codec.new(user_id=row.id)
    return redirect(request, _safe_next(suite) or _home_of(row.role))


@router.post("/deconnexion", dependencies=[CsrfDep])
def sign_out(request: Request) -> Response:
    """Ends this session and every other session of the account (a copied cookie too)."""
    user_id = session_of(request).user_id
    if user_id is not None:
        db.end_sessions(request.app.state.im.sessions, int(user_id))
    request.state.web_session = web(request).codec.new()
    response = redirect(request, "/connexion?deconnecte=1")
    return response
