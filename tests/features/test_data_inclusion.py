"""data·inclusion v1 export: required fields and constraints of the service schema hold."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date

import pytest

from insertion_match.features.data_inclusion import export_services
from insertion_match.features.freins_mapping import FreinsMapping
from tests.conftest import DATA, REPO

REQUIRED = ("source", "structure_id", "id", "nom", "description", "date_maj")
PUBLICS = {"actifs", "beneficiaires-des-minimas-sociaux", "demandeurs-emploi", "etudiants",
           "familles", "femmes", "jeunes", "personnes-en-situation-de-handicap",
           "personnes-en-situation-durgence", "personnes-en-situation-juridique-specifique",
           "personnes-exilees", "residents-qpv-frr", "seniors"}


@pytest.fixture(scope="module")
def services(catalogue, gazetteer, territories):
    return export_services(catalogue, FreinsMapping.load(DATA), gazetteer, territories,
                           date_maj=date(2026, 11, 23))


def test_every_active_action_is_exported_with_the_required_fields(services, catalogue):
    assert len(services) == sum(a.active for a in catalogue)
    known = {r.code for r in FreinsMapping.load(DATA).rows
             if r.referential == "data_inclusion_thematique"}
    for s in services:
        assert all(s[k] for k in REQUIRED), s["id"]
        assert 50 <= len(s["description"]) <= 2000
        assert 3 <= len(s["nom"]) <= 150 and not s["nom"].endswith(".")
        assert set(s["publics"]) <= PUBLICS
        assert s["thematiques"] and set(s["thematiques"]) <= known
        assert s["code_insee"] and re.fullmatch(r"\w{5}", s["code_insee"])
        assert s["latitude"] is not None and s["zone_eligibilite"]
        assert s["frais"] in (None, "gratuit", "payant")


def test_territory_and_rules_are_carried_over(services):
    by_id = {s["id"]: s for s in services}
    flers = by_id["flers-mobylis-permis-b"]
    assert flers["frais"] == "payant"
    assert "61169" in flers["zone_eligibilite"] and "61001" not in flers["zone_eligibilite"]
    assert "mobilite--preparer-un-permis" in flers["thematiques"] or any(
        t.startswith("mobilite--") for t in flers["thematiques"])
    assert by_id["ess-e2c"]["zone_eligibilite"] == ["91"]
    assert "jeunes" in by_id["ess-e2c"]["publics"]


def test_cli_export_writes_json(tmp_path):
    out = tmp_path / "services.json"
    res = subprocess.run([sys.executable, "-m", "insertion_match.service.cli", "catalogue",
                          "export", str(out)], check=False, cwd=REPO, capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert len(data) > 100 and data[0]["source"] == "insertion-match"
