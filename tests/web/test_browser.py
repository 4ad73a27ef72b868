"""The coach's web app in a real browser (Debian's chromium through Playwright).

One journey from sign-in to sign-out (the README's first example, with a misspelt commune),
territory isolation, CSRF and session expiry, a keyboard-only journey and the manager's page;
axe-core runs on every page (no serious or critical violation) and each page is captured at
1280 and 390 px wide under var/screenshots/.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from itsdangerous import URLSafeSerializer

from tests.conftest import REPO
from tests.web.conftest import PASSWORD, SCREENSHOTS, SECRET

pytestmark = pytest.mark.browser

EXAMPLE = json.loads((REPO / "examples" / "newcomer_flers.json").read_text())["beneficiary"]


def sign_in(page, email: str) -> None:
    page.goto("/")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#se-connecter")
    page.wait_for_load_state()


def fill_newcomer(page, commune: str) -> None:
    """The diagnostic of examples/newcomer_flers.json, with the commune as typed."""
    p = EXAMPLE
    page.fill("#home-commune", commune)
    page.fill("#age", str(p["age"]))
    page.select_option("#family-situation", p["family"]["situation"])
    page.fill("#family-children_under_3", str(p["family"]["children_under_3"]))
    page.fill("#family-children_3_to_11", str(p["family"]["children_3_to_11"]))
    page.fill("#family-children_12_plus", str(p["family"]["children_12_plus"]))
    page.select_option("#orientation", p["orientation"])
    page.fill("#rsa_months", str(p["rsa_months"]))
    page.select_option("#training_level", p["training_level"])
    page.select_option("#mobility-driving_licence", p["mobility"]["driving_licence"])
    page.select_option("#mobility-vehicle", p["mobility"]["vehicle"])
    page.select_option("#mobility-public_transport", "oui")
    page.fill("#mobility-max_travel_minutes", str(p["mobility"]["max_travel_minutes"]))
    for key, severity in p["freins"].items():
        page.select_option(f"#frein-{key}", str(severity))
    for key, value in p["status"].items():
        page.select_option(f"#status-{key}", "oui" if value else "non")


def test_the_whole_journey(page, check_page, web_server):
    page.add_init_script("window.print = () => { window.__printed = true; };")
    page.goto("/")
    assert page.url.endswith("/connexion")
    check_page(page, "01-connexion")
    sign_in(page, "coach.flers@example.fr")
    assert page.url.endswith("/personnes")
    check_page(page, "02-personnes")

    # find a person: the list narrows as the id is typed (HTMX), or on submit
    page.fill("#q", "0002")
    page.wait_for_function("!document.querySelector('#resultats').innerText.includes"
                           "('flers-0001')")
    assert "flers-0002" in page.inner_text("#resultats")
    page.fill("#q", "0001")
    page.click("#recherche button")
    page.wait_for_load_state()
    assert "flers-0001" in page.inner_text("main")
    assert "alencon" not in page.inner_text("main")
    page.click("text=flers-0001")
    page.wait_for_url("**/personnes/flers-0001")
    check_page(page, "03-personne")

    # the diagnostic: first an invalid one (errors next to the fields, in French)
    page.click("text=Modifier le diagnostic")
    started = time.perf_counter()
    page.wait_for_url("**/diagnostic")
    page.fill("#home-commune", "Fle")  # HTMX autocompletion, within the coach's territories
    page.wait_for_selector("#communes-liste option[value='Flers']", state="attached")
    page.fill("#target_job_1", "aide soign")  # ROME 4.0 titles
    page.wait_for_selector("#metiers-liste-1 option[value='Aide-soignant / Aide-soignante']",
                           state="attached")
    page.fill("#target_job_1", "")
    fill_newcomer(page, "Fler")  # misspelt: read as Flers within the coach's territory
    page.fill("#age", "12")
    page.click("#enregistrer-diagnostic")
    page.wait_for_load_state()
    assert page.is_visible("#age-erreur")
    assert "au moins 16" in page.inner_text("#age-erreur")
    checking = check_page(page, "04-diagnostic-erreurs")
    page.fill("#age", str(EXAMPLE["age"]))
    page.click("#enregistrer-diagnostic")
    page.wait_for_url("**/personnes/flers-0001/recommandation")

    # the list
    main = page.inner_text("main")
    assert "Flers" in main
    assert "Fler" in page.inner_text("#hypotheses")  # how the commune was understood
    assert page.locator(".im-item").count() >= 5
    assert page.locator(".im-bar").count() > 10  # each reason drawn as a bar
    assert page.locator("svg.im-map path").count() > 300  # the Orne's communes
    assert "Atelier d'apprentissage de la langue française" in main
    page.click("#pourquoi-pas summary")
    assert page.is_visible("text=Réservée au territoire de la commission RSA d'Alençon")
    checking += check_page(page, "05-liste")

    # the offers ranked for the person
    page.click("#voir-offres")
    page.wait_for_url("**/offres")
    checking += check_page(page, "05b-offres")
    page.go_back()

    # the action page, from the list
    page.click(".im-item h2 a >> nth=0")
    page.wait_for_url("**/actions/**")
    assert page.is_visible("#document-ancien")
    checking += check_page(page, "06-action")
    page.go_back()

    # propose two actions, then print
    labels = page.locator(".im-item .fr-checkbox-group label")  # what a coach clicks
    labels.nth(0).click()
    labels.nth(1).click()
    assert page.locator("input[name=items]:checked").count() == 2
    page.click("#valider-proposition")
    page.wait_for_url(re.compile(r".*/personnes/flers-0001/propositions/\d+$"))
    assert page.locator(".im-sheet").count() == 2
    assert "Qui appeler" in page.inner_text("main")
    page.click("#imprimer")
    assert page.evaluate("window.__printed") is True
    page.emulate_media(media="print")
    printed = page.pdf(format="A4")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    elapsed = time.perf_counter() - started - checking  # axe and screenshots left out
    page.screenshot(path=str(SCREENSHOTS / "07-proposition-impression-1280.png"), full_page=True)
    page.emulate_media(media="screen")
    assert printed[:4] == b"%PDF"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "proposition-imprimee.pdf").write_bytes(printed)
    print(f"\nfrom opening the diagnostic form to the printed proposal: {elapsed:.1f} s "
          "(newcomer_flers.json by Playwright, one invalid submission and visits to the offers and an action's page "
          "included, axe and screenshots left out)")
    with page.expect_download() as download:
        page.click("#telecharger-pdf")
    assert download.value.suggested_filename.endswith(".pdf")
    check_page(page, "07-proposition")

    # record an outcome from the person's page
    page.goto("/personnes/flers-0001")
    form = page.locator("form.im-follow").first
    form.locator("select[name=status]").select_option("refused")
    form.locator("select[name=refusal_reason]").select_option("not_mobile")
    form.locator("button").click()
    page.wait_for_url("**/personnes/flers-0001*")
    assert "refusée (pas de moyen de s'y rendre)" in page.inner_text("#historique")
    check_page(page, "08-suivi")

    # on a phone, the menu button opens the navigation and the sign-out button
    page.set_viewport_size({"width": 390, "height": 844})
    page.click("#bouton-menu")
    page.wait_for_selector("#menu-principal .fr-header__menu-links button", state="visible")
    page.set_viewport_size({"width": 1280, "height": 900})

    # sign out: the pages are closed again
    page.click("#se-deconnecter")
    page.wait_for_url("**/connexion*")
    page.goto("/personnes/flers-0001")
    assert "/connexion" in page.url


def test_a_flers_coach_never_sees_an_alencon_person(page, check_page):
    sign_in(page, "coach.flers@example.fr")
    assert "alencon-0001" not in page.content()
    page.goto("/personnes?q=alencon")
    assert "alencon-0001" not in page.inner_text("main")
    assert "0 personne" in page.inner_text("#nombre-personnes")
    for path in ("/personnes/alencon-0001", "/personnes/alencon-0001/diagnostic",
                 "/personnes/alencon-0001/recommandation"):
        response = page.goto(path)
        assert response.status == 404, path
        assert "alencon-0001" not in page.inner_text("main")
    check_page(page, "09-introuvable")
    # a home typed in Alençon is refused
    page.goto("/personnes/nouvelle")
    page.fill("#id", "essai-alencon")
    page.fill("#home-commune", "Alençon")
    page.click("#enregistrer-diagnostic")
    page.wait_for_load_state()
    assert "hors de vos territoires" in page.inner_text("#home-commune-erreur")
    check_page(page, "10-nouveau-diagnostic-hors-territoire")


def test_too_many_failed_sign_ins(page, check_page, web_server):
    """Five wrong passwords for an address, then the sixth attempt is refused with the wait,
    in French (counted in the database: the same whatever worker answers)."""
    messages = []
    for _ in range(6):
        page.goto("/connexion")
        page.fill("#email", "personne.inconnue@example.fr")
        page.fill("#password", "pas-le-bon")
        page.click("#se-connecter")
        page.wait_for_load_state()
        messages.append(page.inner_text("main"))
    assert all("Adresse électronique ou mot de passe incorrect" in m for m in messages[:5])
    assert re.search(r"Trop de tentatives de connexion\. Réessayez dans \d+ minute\(s\)\.",
                     messages[5])
    check_page(page, "03-connexion-trop-de-tentatives")


def test_csrf_and_session_expiry(page, web_server):
    sign_in(page, "coach.flers@example.fr")
    page.goto("/personnes/flers-0002/diagnostic")
    page.evaluate("document.querySelector('#diagnostic input[name=csrf_token]').value = 'x'")
    page.click("#enregistrer-diagnostic")
    page.wait_for_load_state()
    assert "Formulaire expiré" in page.inner_text("main")
    # an idle session: the cookie says it was last used an hour ago
    cookie = next(c for c in page.context.cookies() if c["name"] == "im_session")
    serializer = URLSafeSerializer(SECRET, salt="im-web-session")
    data = serializer.loads(cookie["value"])
    data["t"] = time.time() - 3600
    page.context.add_cookies([{**cookie, "value": serializer.dumps(data)}])
    page.goto("/personnes")
    assert "/connexion" in page.url
    assert "expiré" in page.inner_text("main")


def _tab_to(page, selector: str, limit: int = 120) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)",
                         selector):
            return
    raise AssertionError(f"{selector} not reachable with the keyboard")


def test_keyboard_only_journey(page):
    page.goto("/")
    _tab_to(page, "#email")
    page.keyboard.type("coach.flers@example.fr")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/personnes")
    _tab_to(page, "a[href='/personnes/flers-0002']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/personnes/flers-0002")
    _tab_to(page, "#voir-actions")
    page.keyboard.press("Enter")
    page.wait_for_url("**/recommandation")
    _tab_to(page, "input[name=items]")
    page.keyboard.press("Space")
    _tab_to(page, "#valider-proposition", limit=400)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/propositions/\d+$"))
    assert page.locator(".im-sheet").count() == 1


def test_the_manager_page(page, check_page):
    sign_in(page, "responsable.orne@example.fr")
    assert page.url.endswith("/pilotage")
    assert page.locator("#par-territoire tbody tr").count() >= 1
    check_page(page, "11-pilotage")
    response = page.goto("/personnes")
    assert response.status == 403


def test_docs_render_offline(page, check_page):
    page.route("**/*", lambda route: route.abort() if "127.0.0.1" not in route.request.url
               else route.continue_())
    page.goto("/docs")
    page.wait_for_selector(".swagger-ui .information-container", timeout=20_000)
    assert "insertion-match" in page.inner_text(".swagger-ui")
    page.goto("/redoc")
    page.wait_for_selector("redoc h1, [role=main] h1, .api-content h1", timeout=30_000)


CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
       "base-uri 'none'; object-src 'none'")


def test_the_pages_work_under_a_strict_content_security_policy(strict_page):
    """What the server sends (service/middleware.py PAGE_CSP), and stricter still: no
    'unsafe-inline', nothing from elsewhere. The pages (not /docs, whose Swagger UI starts with
    an inline script) report no violation and HTMX still works."""
    page = strict_page
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text)
            if "Content Security Policy" in m.text or "Refused to" in m.text else None)

    def with_csp(route):
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers,
                                                  "content-security-policy": CSP})

    page.route("**/*", with_csp)
    sign_in(page, "coach.flers@example.fr")
    for path in ("/personnes", "/personnes/flers-0002", "/personnes/flers-0002/diagnostic",
                 "/personnes/flers-0002/recommandation", "/actions/flers-asti-langue-francaise"):
        page.goto(path)
    page.goto("/personnes/flers-0002/diagnostic")
    page.fill("#home-commune", "Fle")
    page.wait_for_selector("#communes-liste option[value='Flers']", state="attached")
    assert violations == []
    # the policy is really applied: an inline script is refused
    page.evaluate("document.head.appendChild(Object.assign(document.createElement('script'), "
                  "{textContent: 'window.__inline = 1'}))")
    page.wait_for_timeout(200)
    assert page.evaluate("window.__inline") is None and violations
