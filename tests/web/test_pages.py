"""The web app over HTTP (TestClient): sign-in, sessions, CSRF, territory isolation, the
diagnostic form, proposals tied to the recommendation shown; and ``recommendation_id`` in
the API. Runs on SQLite and on PostgreSQL (IM_TEST_DATABASE_URL)."""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from insertion_match.domain import BeneficiaryProfile
from insertion_match.service import db
from insertion_match.service.web.sessions import COOKIE, secret_key

PASSWORD = "un-mot-de-passe-de-test"


@pytest.fixture(scope="module")
def web_app(client):
    """The shared test app, with web accounts and three stored people."""
    sessions = client.app.state.im.sessions
    for email, role, territories in (
            ("web.flers@example.fr", "coach", ["61:Flers"]),
            ("web.alencon@example.fr", "coach", ["61:Alençon"]),
            ("web.manager@example.fr", "manager", ["61:Flers"])):
        if db.verify_user(sessions, email, PASSWORD) is None:
            db.create_user(sessions, email, role, territories, PASSWORD)
    for person_id, insee, commission in (("web-flers-1", "61169", "Flers"),
                                         ("web-flers-2", "61169", "Flers"),
                                         ("web-alencon-1", "61001", "Alençon")):
        profile = BeneficiaryProfile.model_validate(
            {"id": person_id, "home": {"insee": insee}, "age": 30,
             "freins": {"langue_francaise": 3}, "status": {"foreign_newcomer": True}})
        db.upsert_beneficiary(sessions, profile, "61", commission, insee)
    return client.app


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def signed_in(app, email: str) -> tuple[TestClient, str]:
    browser = TestClient(app)
    page = browser.get("/connexion")
    response = browser.post("/connexion", data={"email": email, "password": PASSWORD,
                                                "csrf_token": csrf_of(page.text)})
    assert response.status_code == 200, response.text[:500]
    return browser, csrf_of(response.text)



def _subject(sessions, beneficiary_id: str) -> str:
    """The stored person's internal key (ids are scoped per territory: issue 9)."""
    with sessions() as session:
        rows = db.find_beneficiaries(session, beneficiary_id)
    assert len(rows) == 1
    return rows[0].subject

def test_the_home_page_sends_to_sign_in(web_app):
    browser = TestClient(web_app)
    response = browser.get("/")
    assert response.url.path == "/connexion"
    assert "Se connecter" in response.text
    assert browser.get("/personnes").url.path == "/connexion"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_wrong_password_then_rate_limit(web_app):
    browser = TestClient(web_app)
    token = csrf_of(browser.get("/connexion").text)
    statuses = [browser.post("/connexion", data={
        "email": "web.alencon@example.fr", "password": "faux", "csrf_token": token}).status_code
        for _ in range(6)]
    assert statuses[:5] == [400] * 5 and statuses[5] == 429
    answer = browser.post("/connexion", data={"email": "web.alencon@example.fr",
                                              "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 429 and "Trop de tentatives" in answer.text
    web_app.state.web.limiter.succeeded(web_app.state.im.sessions, "web.alencon@example.fr")


def test_the_sign_in_limit_holds_across_workers(tmp_path):
    """Two apps on one database (two workers): the failures of either count for both, the
    table holds digests (neither the address nor the client), and signing in clears the
    account's failures."""
    from insertion_match.service.app import create_app
    from tests.conftest import fresh_database, make_settings

    with fresh_database(tmp_path) as url:
        settings = make_settings(tmp_path, url, seed_demo_offers_on_start=False,
                                 web_secret_key="k" * 40)
        with TestClient(create_app(settings)) as one, TestClient(create_app(settings)) as two:
            sessions = one.app.state.im.sessions
            db.create_user(sessions, "deux.workers@example.fr", "coach", ["61:Flers"], PASSWORD)

            def attempt(browser: TestClient, password: str) -> int:
                token = csrf_of(browser.get("/connexion").text)
                return browser.post("/connexion", data={
                    "email": "deux.workers@example.fr", "password": password,
                    "csrf_token": token}).status_code

            assert [attempt(b, "faux") for b in (one, two, one, two)] == [400] * 4
            assert attempt(one, PASSWORD) == 200  # under the limit: signs in, clears
            assert [attempt(b, "faux") for b in (two, one, two, one, two)] == [400] * 5
            assert attempt(one, "faux") == 429 and attempt(two, PASSWORD) == 429
            with sessions() as session:
                rows = session.scalars(select(db.SignInFailureRow)).all()
            assert rows and all(len(r.bucket) == 64 for r in rows)
            assert not any("example" in r.bucket or "testclient" in r.bucket for r in rows)


def test_the_sign_in_wait_ends_when_the_oldest_counted_failure_leaves_the_window(tmp_path):
    """The wait is until the count falls under the limit: with 5 failures an account is
    refused until the first of them is 900 s old; the failures of other accounts and older
    than the window do not count; a sign-in clears the account's failures."""
    from datetime import UTC, datetime, timedelta

    from tests.conftest import fresh_database

    with fresh_database(tmp_path) as url:
        engine = db.make_engine(url)
        sessions = db.init_db(engine)
        limiter = db.SignInLimiter(b"k" * 32, per_account=5, per_client=20, window_seconds=900)
        t0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
        limiter.failed(sessions, "autre@example.fr", "10.0.0.9", now=t0)
        for minute in range(5):
            assert limiter.retry_after(sessions, "a@example.fr", "10.0.0.1",
                                       now=t0 + timedelta(minutes=minute)) == 0
            limiter.failed(sessions, "a@example.fr", "10.0.0.1",
                           now=t0 + timedelta(minutes=minute))
        at = t0 + timedelta(minutes=10)
        assert limiter.retry_after(sessions, "a@example.fr", "10.0.0.2", now=at) == 301
        assert limiter.retry_after(sessions, "autre@example.fr", "10.0.0.9", now=at) == 0
        later = t0 + timedelta(seconds=901)  # the first failure has left the window
        assert limiter.retry_after(sessions, "a@example.fr", "10.0.0.1", now=later) == 0
        limiter.succeeded(sessions, "a@example.fr")
        assert limiter.retry_after(sessions, "a@example.fr", "10.0.0.1", now=at) == 0
        engine.dispose()


def test_sign_in_needs_the_csrf_token(web_app):
    browser = TestClient(web_app)
    browser.get("/connexion")
    response = browser.post("/connexion", data={"email": "web.flers@example.fr",
                                                "password": PASSWORD, "csrf_token": "x"})
    assert response.status_code == 403 and "Formulaire expiré" in response.text


def test_every_form_checks_the_csrf_token(web_app):
    browser, token = signed_in(web_app, "web.flers@example.fr")
    for path, data in (("/personnes/web-flers-1/diagnostic", {"home.commune": "Flers"}),
                       ("/personnes/nouvelle", {"id": "x-1", "home.commune": "Flers"}),
                       ("/personnes/web-flers-1/propositions", {"recommendation_id": "1"}),
                       ("/personnes/web-flers-1/suivi", {"item_id": "a", "status": "accepted"}),
                       ("/deconnexion", {})):
        assert browser.post(path, data=data).status_code == 403, path
        assert browser.post(path, data={**data, "csrf_token": token + "x"}).status_code == 403
    assert browser.get("/personnes").status_code == 200  # still signed in


def test_idle_and_old_sessions_expire(web_app):
    browser, _ = signed_in(web_app, "web.flers@example.fr")
    serializer = URLSafeSerializer(secret_key(web_app.state.web.settings), salt="im-web-session")
    data = serializer.loads(browser.cookies[COOKIE])
    for change in ({"t": time.time() - 3 * 3600}, {"s": time.time() - 3 * 86_400}):
        browser.cookies.clear()
        browser.cookies.set(COOKIE, serializer.dumps({**data, **change}))
        response = browser.get("/personnes")
        assert response.url.path == "/connexion" and "expiré" in response.text
    forged = TestClient(web_app)
    forged.cookies.set(COOKIE, URLSafeSerializer("another key", salt="im-web-session").dumps(
        {**data, "t": time.time()}))
    assert forged.get("/personnes").url.path == "/connexion"


def test_sign_out_ends_the_session(web_app):
    browser, token = signed_in(web_app, "web.flers@example.fr")
    old_cookie = browser.cookies[COOKIE]
    time.sleep(0.01)
    assert browser.post("/deconnexion", data={"csrf_token": token}).url.path == "/connexion"
    assert browser.get("/personnes").url.path == "/connexion"
    assert old_cookie != browser.cookies[COOKIE]
    copy = TestClient(web_app)  # a copy of the cookie taken before the sign-out is dead too
    copy.cookies.set(COOKIE, old_cookie)
    assert copy.get("/personnes").url.path == "/connexion"
    again, _ = signed_in(web_app, "web.flers@example.fr")  # a new sign-in works
    assert again.get("/personnes").status_code == 200


def test_territory_isolation(web_app):
    browser, _ = signed_in(web_app, "web.flers@example.fr")
    caseload = browser.get("/personnes").text
    assert "web-flers-1" in caseload and "web-alencon-1" not in caseload
    assert "web-alencon-1" not in browser.get("/personnes", params={"q": "alencon"}).text
    for path in ("/personnes/web-alencon-1", "/personnes/web-alencon-1/diagnostic",
                 "/personnes/web-alencon-1/recommandation",
                 "/personnes/web-alencon-1/propositions/1",
                 "/personnes/web-alencon-1/propositions/1/pdf",
                 "/personnes/unknown-person"):
        response = browser.get(path)
        assert response.status_code == 404, path
        assert "web-alencon-1" not in response.text
    other, _ = signed_in(web_app, "web.alencon@example.fr")
    assert "web-flers-1" not in other.get("/personnes").text
    assert other.get("/personnes/web-flers-1").status_code == 404
    # the commune autocompletion stays within the coach's territories
    assert "Flers" in browser.get("/web/communes", params={"home.commune": "Fler"}).text
    assert "Alençon" not in browser.get("/web/communes", params={"home.commune": "Alenc"}).text


def test_roles(web_app):
    manager, _ = signed_in(web_app, "web.manager@example.fr")
    assert manager.get("/pilotage").status_code == 200
    assert manager.get("/personnes").status_code == 403
    coach, _ = signed_in(web_app, "web.flers@example.fr")
    assert coach.get("/pilotage").status_code == 403


def test_diagnostic_errors_are_french_and_next_to_the_field(web_app):
    browser, token = signed_in(web_app, "web.flers@example.fr")
    response = browser.post("/personnes/web-flers-2/diagnostic", data={
        "csrf_token": token, "home.commune": "Flers", "age": "12", "rsa_months": "beaucoup",
        "family.children_under_3": "2", "family.children_under_6": "1"})
    assert response.status_code == 422
    assert 'id="age-erreur"' in response.text and "au moins 16" in response.text
    assert 'id="rsa_months-erreur"' in response.text and "nombre entier" in response.text
    assert "moins de 6 ans ne peut pas être inférieur" in response.text
    unknown = browser.post("/personnes/web-flers-2/diagnostic", data={
        "csrf_token": token, "home.commune": "Zzyzx-sur-Mer"})
    assert unknown.status_code == 422 and "Commune inconnue" in unknown.text
    outside = browser.post("/personnes/nouvelle", data={
        "csrf_token": token, "id": "web-new-1", "home.commune": "Alençon"})
    assert outside.status_code == 422 and "hors de vos territoires" in outside.text
    assert db.get_beneficiary(web_app.state.im.sessions, "web-new-1") is None


def test_from_diagnostic_to_proposal_and_follow_up(web_app):
    browser, token = signed_in(web_app, "web.flers@example.fr")
    form = {"csrf_token": token, "id": "web-new-2", "home.commune": "Fler", "age": "29",
            "family.children_under_6": "1", "family.children_under_3": "0",
            "family.children_3_to_11": "2", "sex": "f", "status.mdph_known": "non",
            "status.job_takeup": "non", "status.foreign_newcomer": "oui",
            "frein.langue_francaise": "3", "frein.isolement_confiance": "2",
            "target_job_1": "agent d'entretien"}
    listed = browser.post("/personnes/nouvelle", data=form)
    assert listed.url.path == "/personnes/web-new-2/recommandation"
    stored = db.profile_of(db.visible_beneficiary(web_app.state.im.sessions, "web-new-2", None))
    assert stored.family.children_under_6 == 1 and stored.sex == "f"
    assert stored.status.mdph_known is False and stored.target_jobs == ["agent d'entretien"]
    rec_id = int(re.search(r'name="recommendation_id" value="(\d+)"', listed.text).group(1))
    items = re.findall(r'name="items" value="([^"]+)"', listed.text)
    assert len(items) >= 3 and "Pourquoi pas" in listed.text
    shown = db.get_recommendation(web_app.state.im.sessions, rec_id)
    assert shown.beneficiary_id == "web-new-2" and shown.item_ids == items
    # an item that was not in the list is refused
    bad = browser.post("/personnes/web-new-2/propositions", data={
        "csrf_token": token, "recommendation_id": str(rec_id), "items": ["orne-garage-x"]})
    assert bad.status_code == 422
    proposal = browser.post("/personnes/web-new-2/propositions", data={
        "csrf_token": token, "recommendation_id": str(rec_id), "items": [items[2], items[0]]})
    assert proposal.url.path == f"/personnes/web-new-2/propositions/{rec_id}"
    assert proposal.text.count('class="im-sheet"') == 2 and "Qui appeler" in proposal.text
    _, events = db.list_outcomes(web_app.state.im.sessions, "web-new-2",
                                 subject=_subject(web_app.state.im.sessions, "web-new-2"))
    assert [(e.item_id, e.rank, e.recommendation_id) for e in events] == [
        (items[2], 3, rec_id), (items[0], 1, rec_id)]
    pdf = browser.get(f"/personnes/web-new-2/propositions/{rec_id}/pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content[:4] == b"%PDF"
    # the follow-up: a refusal needs its reason
    incomplete = browser.post("/personnes/web-new-2/suivi", data={
        "csrf_token": token, "item_id": items[0], "status": "refused"})
    assert incomplete.status_code == 422
    done = browser.post("/personnes/web-new-2/suivi", data={
        "csrf_token": token, "item_id": items[0], "status": "refused",
        "refusal_reason": "not_interested"})
    assert done.status_code == 200 and "pas intéressée" in done.text
    _, events = db.list_outcomes(web_app.state.im.sessions, "web-new-2",
                                 subject=_subject(web_app.state.im.sessions, "web-new-2"))
    assert (events[-1].status, events[-1].rank, events[-1].recommendation_id) == (
        "refused", 1, rec_id)
    assert browser.post("/personnes/web-new-2/suivi", data={
        "csrf_token": token, "item_id": "never-proposed", "status": "accepted"}
    ).status_code == 404


def test_the_offers_page(web_app):
    sessions = web_app.state.im.sessions
    profile = BeneficiaryProfile.model_validate({
        "id": "web-jobs-1", "home": {"insee": "61169"}, "age": 35,
        "mobility": {"driving_licence": "b", "vehicle": "car", "max_travel_minutes": 40},
        "target_jobs": ["agent d'entretien"]})
    db.upsert_beneficiary(sessions, profile, "61", "Flers", "61169")
    browser, _ = signed_in(web_app, "web.flers@example.fr")
    page = browser.get("/personnes/web-jobs-1/offres")
    assert page.status_code == 200
    assert page.text.count('class="im-card') >= 1 and "synthétique" in page.text
    assert browser.get("/personnes/web-jobs-1/offres", params={"type": "immersion"}
                       ).status_code == 200
    assert browser.get("/personnes/web-alencon-1/offres").status_code == 404
    # an offer is proposed and printed as an action is
    rec_id = int(re.search(r'name="recommendation_id" value="(\d+)"', page.text).group(1))
    offer_id = re.findall(r'name="items" value="([^"]+)"', page.text)[0]
    proposal = browser.post("/personnes/web-jobs-1/propositions", data={
        "csrf_token": csrf_of(page.text), "recommendation_id": str(rec_id),
        "item_kind": "job", "items": [offer_id]})
    assert proposal.url.path == f"/personnes/web-jobs-1/propositions/{rec_id}"
    assert "votre CV" in proposal.text
    _, events = db.list_outcomes(sessions, "web-jobs-1",
                                 subject=_subject(sessions, "web-jobs-1"))
    assert [(e.item_kind, e.item_id, e.rank) for e in events] == [("job", offer_id, 1)]
    pdf = browser.get(f"/personnes/web-jobs-1/propositions/{rec_id}/pdf")
    assert pdf.content[:4] == b"%PDF"
    title = re.search(r'<section class="im-sheet">\s*<h2 class="fr-h4">1\. ([^<]+)</h2>',
                      proposal.text).group(1)
    assert title in browser.get("/personnes/web-jobs-1").text  # follow-up names the offer


def test_pages_have_no_inline_script_or_style(web_app):
    """So that a strict Content-Security-Policy (no 'unsafe-inline') can cover the pages."""
    browser, _ = signed_in(web_app, "web.flers@example.fr")
    pages = [browser.get(path).text for path in (
        "/connexion", "/personnes", "/personnes/web-flers-1", "/personnes/web-flers-1/diagnostic",
        "/personnes/web-flers-1/recommandation", "/personnes/nouvelle",
        "/actions/flers-asti-langue-francaise")]
    for html in pages:
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
        assert " style=" not in html and "<style" not in html and "onclick" not in html


def test_docs_and_assets_are_served_locally(web_app):
    browser = TestClient(web_app)
    docs = browser.get("/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs and "cdn" not in docs
    redoc = browser.get("/redoc").text
    assert "/static/vendor/redoc/redoc.standalone.js" in redoc and "fonts.googleapis" not in redoc
    for path in ("/static/vendor/swagger-ui/swagger-ui-bundle.js",
                 "/static/vendor/redoc/redoc.standalone.js",
                 "/static/vendor/dsfr/dsfr.min.css", "/static/vendor/htmx/htmx.min.js",
                 "/static/app.css"):
        assert browser.get(path).status_code == 200, path
    page = browser.get("/connexion").text
    assert "http://" not in page.replace("http://www.w3.org", "")
    assert 'id="code-source"' in page


def test_outcomes_api_with_recommendation_id(web_app, client_as):
    api = client_as("coach", "61:Flers")
    answer = api.post("/v1/recommendations", json={"beneficiary_id": "web-flers-1", "limit": 5})
    assert answer.status_code == 200
    body = answer.json()
    rec_id, items = body["recommendation_id"], [i["id"] for i in body["items"]]
    assert isinstance(rec_id, int)
    event = {"beneficiary_id": "web-flers-1", "item_id": items[1], "status": "proposed",
             "occurred_on": "2026-11-30", "recommendation_id": rec_id}
    created = api.post("/v1/outcomes", json=event)
    assert created.status_code == 201, created.text
    stored = created.json()
    assert stored["rank"] == 2 and stored["recommendation_id"] == rec_id
    assert stored["model_name"] == body["model"]["name"]
    later = api.post("/v1/outcomes", json={**event, "status": "accepted",
                                            "recommendation_id": None})
    assert later.json()["recommendation_id"] == rec_id and later.json()["rank"] == 2
    for wrong in ({"recommendation_id": rec_id + 10_000},
                  {"item_id": next(a.id for a in web_app.state.im.engine.actions
                                   if a.id not in items)},
                  {"beneficiary_id": "web-flers-2"}):
        refused = api.post("/v1/outcomes", json={**event, **wrong})
        assert refused.status_code == 422, wrong
        assert refused.json()["errors"][0]["path"] == "recommendation_id"


def test_the_default_secret_is_made_once_and_kept(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from insertion_match.service.settings import Settings

    settings = Settings(environment="test", var_dir=tmp_path)
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: secret_key(settings), range(16)))
    assert len(keys) == 1 and len(keys.pop()) >= 32
    assert (tmp_path / "web-secret.key").stat().st_mode & 0o077 == 0
    assert [p.name for p in tmp_path.iterdir()] == ["web-secret.key"]
