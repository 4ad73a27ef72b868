"""`insertion-match recommend` and `catalogue validate`: output, and clear errors with exit 1."""

from __future__ import annotations

import json
import re

import pytest

from insertion_match.service.cli import main
from tests.conftest import REPO


@pytest.fixture
def cli_env(monkeypatch, tmp_path, database_url):
    monkeypatch.setenv("IM_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("IM_DATABASE_URL", database_url)
    monkeypatch.setenv("IM_SEED_DEMO_OFFERS_ON_START", "false")
    monkeypatch.delenv("IM_MODEL_PATH", raising=False)


def test_recommend_prints_the_ranked_explained_list(cli_env, capsys):
    assert main(["recommend", str(REPO / "examples" / "newcomer_flers.json")]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if re.match(r"^\s*\d+\. ", line)]
    assert len(lines) == 5  # the request body's limit
    assert "Français et intégration" in lines[0]  # the course made for newcomers leads
    assert "20 min en transports en commun" in lines[0]  # French, not a mode code
    assert "Répond au frein langue française (bloquant)" in out
    assert "Conçue pour son public : les personnes étrangères primo-arrivantes" in out


def test_recommend_json_is_the_api_response(cli_env, capsys):
    assert main(["recommend", str(REPO / "examples" / "independent_alencon.json"), "--json",
                 "--limit", "3"]) == 0
    body = json.loads(capsys.readouterr().out)
    # at most 3; only the actions that work on the person's freins are listed
    assert [i["rank"] for i in body["items"]] == list(range(1, len(body["items"]) + 1))
    assert 1 <= len(body["items"]) <= 3
    assert body["items"][0]["id"] == "orne-aden-travailleurs-independants"


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "impossible de lire le profil"),
    (json.dumps({"home": {"commune": "Flers"}, "age": "old"}), "profil invalide"),
    (json.dumps({"home": {"commune": "Flerzzzq"}}), "commune inconnue"),
])
def test_recommend_bad_input_exits_1_with_a_message(cli_env, tmp_path, capsys, content, message):
    path = tmp_path / "p.json"
    path.write_text(content, encoding="utf-8")
    assert main(["recommend", str(path)]) == 1
    assert message in capsys.readouterr().err


def test_catalogue_validate_reports_counts_and_problems(cli_env, tmp_path, capsys):
    assert main(["catalogue", "validate"]) == 0
    assert "catalogue valide : 119 actions" in capsys.readouterr().out
    (tmp_path / "bad.json").write_text(json.dumps({"source_document": "x", "title": "x",
                                                   "actions": [{"id": "Bad Id"}]}),
                                       encoding="utf-8")
    assert main(["catalogue", "validate", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "bad.json" in err and "catalogue invalide : " in err
