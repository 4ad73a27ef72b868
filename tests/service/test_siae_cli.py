"""``insertion-match offers import-siae FILE`` end to end: the CLI writes IAE positions into the
database, the HTTP API proposes the open ones to a person of the Orne, with their reasons."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from insertion_match.service.cli import main as cli_main
from tests.conftest import add_key, make_settings
from tests.features.siae_records import orne_page

ACI_OPEN = "emplois-inclusion:12345678900011-101"
PERSON = {
    "id": "siae-flers-1", "home": {"commune": "Flers", "postcode": "61100"},
    "orientation": "socioprofessionnelle", "rsa_months": 30, "training_level": "infra3",
    "mobility": {"driving_licence": "none", "vehicle": "none", "public_transport": True,
                 "max_travel_minutes": 45},
    "freins": {"recherche_emploi": 2, "experience_professionnelle": 2},
    "target_jobs": ["agent d'entretien des espaces verts"],
}


@pytest.fixture
def env(database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("IM_DATABASE_URL", database_url)
    monkeypatch.setenv("IM_VAR_DIR", str(tmp_path))
    logger = logging.getLogger("insertion_match")
    saved = (logger.handlers[:], logger.propagate, logger.level)
    yield tmp_path, database_url
    logger.handlers[:], logger.propagate, logger.level = saved


def _recommend(tmp_path, url) -> dict:
    from insertion_match.service.app import create_app

    with TestClient(create_app(make_settings(tmp_path, url))) as client:
        client.headers["X-API-Key"] = add_key(client.app, "admin")
        res = client.post("/v1/recommendations", json={
            "beneficiary": PERSON, "kinds": ["job"], "limit": 10, "include_excluded": True})
        assert res.status_code == 200, res.text
        data = res.json()
        data["_closed"] = client.get(
            "/v1/opportunities/emplois-inclusion:12345678900011-102").status_code
        data["_stored"] = client.get("/v1/opportunities", params={
            "limit": 50, "q": "Chantier test"}).json()
        return data


def test_an_orne_person_gets_the_open_iae_position_with_its_reasons(env, capsys):
    tmp_path, url = env
    path = tmp_path / "siaes.json"
    path.write_text(json.dumps(orne_page(), ensure_ascii=False), encoding="utf-8")

    assert cli_main(["offers", "import-siae", str(path)]) == 0
    out = capsys.readouterr().out
    assert "5 structure(s), 3 poste(s) ouvert(s) valide(s), 3 ignoré(s), 0 rejeté(s)" in out
    assert "recrutement fermé" in out and "hors IAE" in out
    assert "3 créé(s), 0 mis à jour, 0 inchangé(s)" in out

    data = _recommend(tmp_path, url)
    assert data["_closed"] == 404  # a closed position is not imported
    assert {o["siae_kind"] for o in data["_stored"]["items"]} == {"ACI", "EI", "ETTI"}
    item = next(i for i in data["items"] if i["id"] == ACI_OPEN)
    assert item["rank"] == 1 and item["commune"] == "Flers"
    assert item["opportunity"]["iae"] is True and item["opportunity"]["siae_kind"] == "ACI"
    assert item["opportunity"]["contract_type"] == "DDI"
    labels = {r["code"]: r["label"] for r in item["reasons"]}
    assert labels["iae"] == "Poste en insertion (SIAE : ACI) : accompagnement sur le poste"
    assert labels["rome"].startswith("Correspond au métier visé")
    assert labels["readiness"].startswith("Contrat d'insertion")
    assert sum(r["contribution"] for r in item["reasons"]) == pytest.approx(item["score"],
                                                                            abs=1e-6)

    # Idempotent: the same file again changes no offer.
    assert cli_main(["offers", "import-siae", str(path)]) == 0
    assert "0 créé(s), 0 mis à jour, 3 inchangé(s)" in capsys.readouterr().out

    # The position is closed since: it expires and is no longer proposed.
    doc = orne_page()
    doc["results"][0]["postes"][0]["recrutement_ouvert"] = "False"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert cli_main(["offers", "import-siae", str(path)]) == 0
    out = capsys.readouterr().out
    assert "1 poste(s) fermé(s) depuis l'import précédent" in out
    assert "0 créé(s), 1 mis à jour, 2 inchangé(s)" in out
    after = _recommend(tmp_path, url)
    assert ACI_OPEN not in {i["id"] for i in after["items"]}


def test_a_rejected_position_writes_nothing_unless_skip_invalid(env, capsys):
    tmp_path, url = env
    doc = orne_page()
    doc["results"][0]["postes"][0]["rome"] = "Inconnu (A9999)"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert cli_main(["offers", "import-siae", str(path)]) == 1
    captured = capsys.readouterr()
    assert "results[0].postes[0].rome : code ROME inconnu : « A9999 »" in captured.err
    assert "rien n'a été importé" in captured.err
    assert _recommend(tmp_path, url)["_stored"]["total"] == 0
    assert cli_main(["offers", "import-siae", str(path), "--skip-invalid"]) == 0
    assert "2 créé(s)" in capsys.readouterr().out


def test_an_unreadable_file_is_a_french_error(env, capsys):
    tmp_path, _ = env
    path = tmp_path / "x.json"
    path.write_text('{"count": 0}', encoding="utf-8")
    assert cli_main(["offers", "import-siae", str(path)]) == 1
    assert "fichier SIAE illisible" in capsys.readouterr().err
    assert cli_main(["offers", "import-siae", str(tmp_path / "absent.json")]) == 1
    assert "impossible de lire" in capsys.readouterr().err
    path.write_text("[]", encoding="utf-8")
    assert cli_main(["offers", "import-siae", str(path), "--today", "01/12/2026"]) == 1
    assert "date ISO attendue" in capsys.readouterr().err
