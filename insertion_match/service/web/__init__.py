"""The coach's web app (DESIGN §8b): server-rendered pages in French, in the API's process.

Jinja2 templates and HTMX over the same functions the API routes call (``recommending``,
``proposals``, ``db``): the views validate a form, call one function and render its result.
DSFR (the French State design system), HTMX, Swagger UI and Redoc are vendored under
``static/vendor`` and served locally; nothing is fetched from a CDN.

Modules: ``sessions`` (signed cookie, CSRF, sign-in limit), ``context`` (who is signed in,
rendering), ``pages_auth``, ``pages_people`` (caseload, diagnostic, list, proposal, follow-up),
``pages_actions`` (action page, autocompletion), ``pages_manager`` (aggregates), ``forms``
(diagnostic form ↔ profile), ``labels`` (French wording of codes), ``mapsvg`` (the
département's map as inline SVG), ``pdf`` (the proposal as PDF), ``docs`` (offline /docs).
"""

from __future__ import annotations

from fastapi import FastAPI

from insertion_match.service.settings import Settings


def install(app: FastAPI, settings: Settings) -> None:
    """Mount the static files and include the web routers (outside the OpenAPI schema)."""
    from fastapi.staticfiles import StaticFiles

    from insertion_match.service.web import (
        context,
        docs,
        pages_actions,
        pages_auth,
        pages_manager,
        pages_people,
    )

    context.setup(app, settings)
    app.mount("/static", StaticFiles(directory=context.STATIC_DIR), name="static")
    for module in (docs, pages_auth, pages_people, pages_actions, pages_manager):
        app.include_router(module.router, include_in_schema=False)
