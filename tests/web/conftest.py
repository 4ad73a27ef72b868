"""Fixtures of the web app's tests: accounts and people on a fresh database; the real server
(uvicorn in a subprocess on a free loopback port) and Debian's chromium driven by Playwright.

Browser tests need ``/usr/bin/chromium`` (``apt-get install -y chromium``): without it they
are skipped with the reason, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, on_postgresql

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
SCREENSHOTS = REPO / "var" / "screenshots"
SECRET = "test-secret-key-for-the-web-app-0123456789abcdef"
PASSWORD = "un-mot-de-passe-de-test"

#: Accounts created on every test database: e-mail -> (role, territories).
ACCOUNTS = {
    "coach.flers@example.fr": ("coach", ["61:Flers"]),
    "coach.alencon@example.fr": ("coach", ["61:Alençon"]),
    "responsable.orne@example.fr": ("manager", ["61"]),
    "admin@example.fr": ("admin", []),
}
#: Stored people: id -> (commune, INSEE, département, commission).
PEOPLE = {
    "flers-0001": ("Flers", "61169", "61", "Flers"),
    "flers-0002": ("La Ferrière-aux-Étangs", "61163", "61", "Flers"),
    "alencon-0001": ("Alençon", "61001", "61", "Alençon"),
}


def seed(database_url: str) -> None:
    """Create the accounts and people on a migrated database."""
    from insertion_match.domain import BeneficiaryProfile
    from insertion_match.service import db

    sessions = db.init_db(db.make_engine(database_url))
    try:
        for email, (role, territories) in ACCOUNTS.items():
            db.create_user(sessions, email, role, territories, PASSWORD)
        for person_id, (commune, insee, department, commission) in PEOPLE.items():
            profile = BeneficiaryProfile.model_validate(
                {"id": person_id, "home": {"commune": commune}, "age": 40})
            db.upsert_beneficiary(sessions, profile, department, commission, insee)
    finally:
        sessions.kw["bind"].dispose()


@dataclass
class Server:
    base: str
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def web_server(tmp_path_factory) -> Iterator[Server]:
    """The real app served by uvicorn on loopback, on a fresh SQLite database."""
    var = tmp_path_factory.mktemp("web-var")
    url = f"sqlite:///{var / 'web.sqlite3'}"
    seed(url)
    port = _free_port()
    env = {**os.environ, "IM_DATABASE_URL": url, "IM_VAR_DIR": str(var),
           "IM_WEB_SECRET_KEY": SECRET,
           "IM_ENVIRONMENT": "test", "IM_LOG_LEVEL": "WARNING"}
    log = var / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "insertion_match.service.cli", "serve", "--host",
             "127.0.0.1", "--port", str(port)], cwd=REPO, env=env, stdout=out,
            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.25)
        else:
            pytest.fail(f"the server did not start: {log.read_text()[-2000:]}")
        yield Server(base, log)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _need_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("CI=true but /usr/bin/chromium is missing: .ci/run must "
                    "`apt-get install -y chromium` before `make test`")
    pytest.skip("browser tests need Debian's chromium at /usr/bin/chromium "
                "(apt-get install -y chromium)")


@pytest.fixture(scope="session")
def browser():
    _need_chromium()
    if on_postgresql():
        pytest.skip("browser tests run in the SQLite pass only: the pages call the same "
                    "storage functions whose PostgreSQL behaviour the HTTP tests cover")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def _page(browser, web_server, bypass_csp: bool):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR",
                                  base_url=web_server.base, bypass_csp=bypass_csp)
    context.set_default_timeout(15_000)
    return context, context.new_page()


@pytest.fixture
def page(browser, web_server):
    """A tab whose test helpers may evaluate strings (Playwright's wait_for_function, axe):
    the server's Content-Security-Policy is bypassed here; ``strict_page`` keeps it."""
    context, tab = _page(browser, web_server, bypass_csp=True)
    yield tab
    context.close()


@pytest.fixture
def strict_page(browser, web_server):
    """A tab under the Content-Security-Policy the server sends (issue 9's headers)."""
    context, tab = _page(browser, web_server, bypass_csp=False)
    yield tab
    context.close()


@pytest.fixture(scope="session")
def axe_report() -> Iterator[dict]:
    """Every page checked by axe: page name -> violations (all impacts); printed at the end."""
    report: dict[str, list] = {}
    yield report
    if report:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / "axe.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
        lines = [f"{name}: {len(v)} violation(s) "
                 f"{sorted({x['id'] + ':' + str(x['impact']) for x in v})}"
                 for name, v in report.items()]
        print("\naxe-core results per page:\n  " + "\n  ".join(lines))


@pytest.fixture
def check_page(axe_report) -> Callable:
    """``check_page(page, name)``: axe-core in the page (no serious or critical violation
    allowed) and screenshots at 1280 and 390 px wide under var/screenshots/."""

    def check(page, name: str) -> float:
        """Returns the seconds it took (left out of the journey's measured time)."""
        began = time.perf_counter()
        # evaluated through the DevTools protocol: not an inline <script>, so the pages' strict
        # Content-Security-Policy stays in force while axe runs
        page.evaluate(AXE.read_text(encoding="utf-8"))
        result = page.evaluate("async () => await axe.run(document, {resultTypes: "
                               "['violations']})")
        violations = [{"id": v["id"], "impact": v["impact"], "help": v["help"],
                       "nodes": [n["target"] for n in v["nodes"]][:5]}
                      for v in result["violations"]]
        axe_report[name] = violations
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        size = page.viewport_size
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
        page.set_viewport_size(size)
        serious = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert not serious, f"{name}: {serious}"
        return time.perf_counter() - began

    return check
