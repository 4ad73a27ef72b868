"""Communes as a coach means them, through the real app: the key's territories first, then the
served départements, then population; the answer's assumptions say how (issue 8)."""

from __future__ import annotations

import json

import pytest

from insertion_match.service.cli import main

CALLERS = {
    "flers": ("coach", "61:Flers"),
    "argentan": ("coach", "61:Argentan"),
    "orne": ("coach", "61"),
    "essonne": ("coach", "91"),
}


@pytest.fixture(scope="module")
def callers(client, client_as):
    made = {who: client_as(role, territory) for who, (role, territory) in CALLERS.items()}
    return {**made, "admin": client}


def _recommend(http, **home):
    return http.post("/v1/recommendations", json={"beneficiary": {"home": home}, "limit": 5})


def _assumptions(res) -> str:
    return " | ".join(res.json()["assumptions"])


@pytest.mark.parametrize(("who", "where"), [("orne", "vos territoires"),
                                            ("admin", "les départements servis (61, 72, 91)")])
def test_mortagne_is_mortagne_au_perche_with_an_assumption(callers, who, where):
    res = _recommend(callers[who], commune="Mortagne")
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["home"]["insee"] == "61293"
    assert body["items"]
    assert ("Commune « Mortagne » comprise comme Mortagne-au-Perche (61) : seule commune de ce "
            f"nom dans {where}") in body["assumptions"]


@pytest.mark.parametrize("who", ["flers", "essonne"])
def test_mortagne_outside_the_callers_territory_is_named_in_the_403(callers, who):
    res = _recommend(callers[who], commune="Mortagne")
    assert res.status_code == 403
    assert "Mortagne-au-Perche" in res.json()["detail"]  # not the Vosges


@pytest.mark.parametrize("who", ["essonne", "admin"])
def test_corbeil_is_corbeil_essonnes(callers, who):
    res = _recommend(callers[who], commune="Corbeil")
    assert res.status_code == 200, res.text
    assert res.json()["home"]["insee"] == "91174"
    assert res.json()["items"]
    assert "Corbeil-Essonnes (91)" in _assumptions(res)


def test_corbeil_for_an_orne_coach_is_still_corbeil_essonnes_not_the_marne(callers):
    res = _recommend(callers["orne"], commune="Corbeil")
    assert res.status_code == 403
    assert "Corbeil-Essonnes" in res.json()["detail"]


@pytest.mark.parametrize(("name", "insee", "who"), [
    ("Flers", "61169", "flers"), ("Flers", "61169", "orne"),
    ("Domfront", "61145", "flers"), ("Domfront", "61145", "orne"),
    ("Massy", "91377", "essonne"), ("Massy", "91377", "admin"),
])
def test_names_with_homonyms_elsewhere_answer_their_coach(callers, name, insee, who):
    res = _recommend(callers[who], commune=name)
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["home"]["insee"] == insee
    assert body["items"], "the person gets actions of their territory"
    assert f"Commune « {name} » comprise comme" in _assumptions(res)


@pytest.mark.parametrize("who", ["orne", "admin"])
@pytest.mark.parametrize("field", ["commune", "postcode"])
def test_61000_is_alencon(callers, who, field):
    res = _recommend(callers[who], **{field: "61000"})
    assert res.status_code == 200, res.text
    assert res.json()["home"]["insee"] == "61001"
    assert res.json()["items"]
    assert "Code postal 61000 compris comme Alençon (61) : la plus peuplée" in _assumptions(res)


def test_an_insee_code_given_as_the_commune_is_understood(callers):
    res = _recommend(callers["flers"], commune="61169")
    assert res.status_code == 200, res.text
    assert res.json()["home"]["insee"] == "61169"
    assert "« 61169 » lu comme un code INSEE : Flers (61)" in res.json()["assumptions"]


def test_a_shared_postcode_resolves_to_the_one_commune_of_the_coachs_territory(callers):
    # 61390: nine communes of the Mortagne commission, one of the Argentan commission.
    res = _recommend(callers["argentan"], postcode="61390")
    assert res.status_code == 200, res.text
    assert res.json()["home"]["insee"] == "61416"
    assert "seule de ses 10 communes dans vos territoires" in _assumptions(res)


@pytest.mark.parametrize("who", ["orne", "admin", "flers"])
@pytest.mark.parametrize("field", ["commune", "postcode"])
def test_a_shared_postcode_the_territory_cannot_settle_asks_for_the_commune(callers, who, field):
    res = _recommend(callers[who], **{field: "61390"})
    assert res.status_code == 422, res.text
    problem = res.json()
    error = problem["errors"][0]
    assert error["path"] == f"beneficiary.home.{field}"
    assert "précisez la commune" in error["message_fr"]
    assert "précisez le code postal" not in error["message_fr"]
    assert "commune" in error["message"]
    suggestions = problem["suggestions"]
    assert len(suggestions) == (11 if field == "commune" else 10)
    assert all("61390" in s["postcodes"] for s in suggestions[:10])
    if field == "commune":  # the code is also Saint-Georges-d'Annebecq's INSEE code
        assert suggestions[10]["insee"] == "61390"


@pytest.mark.parametrize("who", ["flers", "orne", "essonne", "admin"])
def test_a_name_only_outside_the_served_departements_is_422_with_suggestions(callers, who):
    res = _recommend(callers[who], commune="Lens")
    assert res.status_code == 422, res.text
    problem = res.json()
    assert problem["errors"][0]["path"] == "beneficiary.home.commune"
    assert "départements servis (61, 72, 91)" in problem["errors"][0]["message_fr"]
    assert problem["suggestions"]
    assert "62498" in [s["insee"] for s in problem["suggestions"]]


@pytest.mark.parametrize("who", ["flers", "orne", "essonne", "admin"])
def test_alenson_suggests_alencon_first(callers, who):
    res = _recommend(callers[who], commune="Alenson")
    assert res.status_code == 422, res.text
    assert res.json()["suggestions"][0]["insee"] == "61001"


def test_a_stored_person_is_recommended_where_the_home_was_understood(callers):
    orne = callers["orne"]
    assert orne.put("/v1/beneficiaries/communes-mortagne",
                    json={"home": {"commune": "Mortagne"}}).status_code in (200, 201)
    res = orne.post("/v1/recommendations", json={"beneficiary_id": "communes-mortagne"})
    assert res.status_code == 200, res.text
    assert res.json()["home"]["insee"] == "61293"
    assert res.json()["items"]


def test_the_command_line_uses_the_served_departements(monkeypatch, tmp_path, database_url,
                                                        capsys):
    monkeypatch.setenv("IM_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("IM_DATABASE_URL", database_url)
    monkeypatch.setenv("IM_SEED_DEMO_OFFERS_ON_START", "false")
    monkeypatch.delenv("IM_MODEL_PATH", raising=False)
    profile = tmp_path / "p.json"
    profile.write_text(json.dumps({"home": {"commune": "Corbeil"}}), encoding="utf-8")
    assert main(["recommend", str(profile), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["home"]["insee"] == "91174"
    assert any("Corbeil-Essonnes (91)" in a for a in body["assumptions"])
