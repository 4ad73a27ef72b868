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


def install(app: FastAPI, settings: Settings, docs: bool = True) -> None:
    """Mount the static files and include the web routers (outside the OpenAPI schema);
    ``/docs`` and ``/redoc`` only when ``docs`` (closed in production unless IM_DOCS_PUBLIC)."""
    from fastapi.staticfiles import StaticFiles

    from insertion_match.service.web import (
        context,
        pages_actions,
        pages_auth,
        pages_manager,
        pages_people,
    )
    from insertion_match.service.web import docs as docs_pages

    context.setup(app, settings)
    app.mount("/static", StaticFiles(directory=context.STATIC_DIR), name="static")
    routers = (pages_auth, pages_people, pages_actions, pages_manager)
    for module in ((docs_pages, *routers) if docs else routers):
        app.include_router(module.router, include_in_schema=False)
