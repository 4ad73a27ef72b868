"""Web sessions: a signed, HttpOnly, SameSite=Lax cookie; CSRF tokens; the sign-in limit's key
(the limit itself: ``db/sign_in.py``, shared by every worker).

The cookie holds no personal data: the user id, the CSRF token of the session, when it began
and when it was last used (``itsdangerous`` signature with ``IM_WEB_SECRET_KEY``). A session
ends after ``IM_WEB_IDLE_SECONDS`` without a request and ``IM_WEB_SESSION_MAX_SECONDS`` after
sign-in. Every page answer re-issues the cookie with the new "last used" time (sliding expiry).
Anonymous visitors get a session too (no user), so the sign-in form carries a CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass, replace
from pathlib import Path

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.requests import Request
from starlette.responses import Response

from insertion_match.service.settings import Settings

COOKIE = "im_session"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class WebSession:
    csrf: str
    user_id: int | None = None
    started: float = 0.0
    seen: float = 0.0
    #: why an earlier session ended ("expired"), shown once on the sign-in page
    ended: str | None = None


def sign_in_key(settings: Settings) -> bytes:
    """The key of the failed sign-ins' digests (db/sign_in.py), derived from the secret key:
    the same in every worker and server sharing ``IM_WEB_SECRET_KEY``."""
    return hashlib.sha256(b"im-sign-in-failures:" + secret_key(settings).encode()).digest()


def secret_key(settings: Settings) -> str:
    """IM_WEB_SECRET_KEY, or (outside production) a random key kept in var/web-secret.key."""
    if settings.web_secret_key:
        return settings.web_secret_key
    path = Path(settings.var_dir) / "web-secret.key"
    if not path.exists():
        # Written aside, then linked into place: workers starting together all end up reading
        # the one key that won (a link fails if the file exists), never a half-written file.
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".web-secret.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text(encoding="utf-8").strip()


class SessionCodec:
    """Reads and writes the session cookie of one app."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._serializer = URLSafeSerializer(secret_key(settings), salt="im-web-session")
        self.secure = (settings.web_cookie_secure if settings.web_cookie_secure is not None
                       else settings.environment == "production")

    def new(self, user_id: int | None = None, ended: str | None = None) -> WebSession:
        now = time.time()
        return WebSession(csrf=secrets.token_urlsafe(32), user_id=user_id, started=now,
                          seen=now, ended=ended)

    def dumps(self, session: WebSession) -> str:
        return self._serializer.dumps({"c": session.csrf, "u": session.user_id,
                                       "s": session.started, "t": session.seen,
                                       "e": session.ended})

    def read(self, request: Request) -> WebSession:
        """The request's session: a fresh anonymous one when absent, forged or expired."""
        raw = request.cookies.get(COOKIE)
        if not raw:
            return self.new()
        try:
            data = self._serializer.loads(raw)
            session = WebSession(csrf=str(data["c"]), user_id=data.get("u"),
                                 started=float(data["s"]), seen=float(data["t"]),
                                 ended=data.get("e"))
        except (BadSignature, KeyError, TypeError, ValueError):
            return self.new()
        now = time.time()
        if session.user_id is not None and (
                now - session.seen > self.settings.web_idle_seconds
                or now - session.started > self.settings.web_session_max_seconds):
            return self.new(ended="expired")
        return replace(session, seen=now)

    def write(self, response: Response, session: WebSession) -> Response:
        response.set_cookie(COOKIE, self.dumps(session), httponly=True, samesite="lax",
                            secure=self.secure, path="/",
                            max_age=self.settings.web_session_max_seconds)
        return response


def csrf_ok(session: WebSession, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(session.csrf.encode(), str(token).encode())
