"""``insertion-match train | evaluate | synthetic calibration``, and serving the trained model."""

from __future__ import annotations

import json
import math
import re

import pytest
from fastapi.testclient import TestClient

from insertion_match.matcher.learning.scorer import LearnedScorer
from insertion_match.service.cli import main
from insertion_match.service.cli_learning import EXIT_REGRESSION
from tests.conftest import add_key, fresh_database, make_settings

WORLD = ["--people", "1500", "--seed", "3", "--no-progress"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("models")
    assert main(["train", *WORLD, "--out", str(out)]) == 0
    return out / "action-ranker.joblib"


def test_train_writes_the_artefact_and_its_cards(trained, capsys):
    card = json.loads(trained.with_name("action-ranker.card.json").read_text(encoding="utf-8"))
    assert card["format_version"] == 1 and card["synthetic"] is True
    assert card["data"]["world"]["n_people"] == 1500 and card["data"]["holdout_from_month"] == 18
    assert {"training window (in-sample)"} <= set(card["metrics"])
    ranking = next(v for k, v in card["metrics"].items() if k.startswith("hold-out ranking"))
    low, high = ranking["learned - distance 95% CI"]
    assert low < high and high > 0 and 0 < ranking["learned / oracle"] <= 1.05
    assert trained.with_name("action-ranker.md").read_text(encoding="utf-8").count("SYNTHETIC")


def test_evaluate_stores_runs_shows_a_trend_and_fails_on_a_regression(trained, tmp_path, capsys):
    runs = tmp_path / "runs"
    args = ["evaluate", *WORLD, "--model", str(trained), "--runs-dir", str(runs),
            "--bootstrap", "100", "--fail-on-regression", "learned.ndcg@10", "--threshold", "0.01"]
    assert main(args) == 0
    first = capsys.readouterr()
    assert "modèle : artefact action-ranker.joblib" in first.err
    assert re.search(r"learned − distance NDCG@10 : [+−-]0\.\d+ \[[+−-]0\.\d+", first.out)
    assert main([*args, "--report", str(tmp_path / "second.html")]) == 0
    stored = sorted(runs.glob("*.json"))
    assert len(stored) == 2
    page = (tmp_path / "second.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 5
    # The judged test collection runs with every evaluation: in the run, the report and stdout.
    judged = json.loads(stored[-1].read_text(encoding="utf-8"))["judged"]
    assert {"random", "distance", "directory", "transparent", "learned"} == set(judged["methods"])
    assert "Collection jugée" in page and "Personas les moins bien servies" in page
    assert "Collection jugée" in first.out
    assert page.count("<tr><td class='l'>") == 2  # the trend table: one row per stored run
    # Force a regression: the previous run claims a much better learned NDCG@10.
    last = json.loads(stored[-1].read_text(encoding="utf-8"))
    last["methods"]["learned"]["ndcg@10"]["mean"] += 0.2
    stored[-1].write_text(json.dumps(last), encoding="utf-8")
    assert main(args) == EXIT_REGRESSION
    assert "RÉGRESSION : learned.ndcg@10 a baissé" in capsys.readouterr().err
    assert main([*args[:-4], "--fail-on-regression", "learned.nope"]) == 2
    assert "métrique inconnue 'learned.nope'" in capsys.readouterr().err


def test_a_model_trained_on_another_world_is_not_evaluated_on_this_one(trained, tmp_path, capsys):
    assert main(["evaluate", "--people", "1200", "--seed", "4", "--no-progress", "--model",
                 str(trained), "--runs-dir", str(tmp_path), "--bootstrap", "50",
                 "--no-store", "--no-judged"]) == 0
    err = capsys.readouterr().err
    assert "entraîné en mémoire (l'artefact a été entraîné sur un autre monde" in err


def test_the_service_serves_the_learned_model_with_exact_french_reasons(trained, tmp_path):
    with fresh_database(tmp_path) as url:
        settings = make_settings(tmp_path, url, model_path=trained)
        from insertion_match.service.app import create_app

        with TestClient(create_app(settings)) as client:
            assert isinstance(client.app.state.im.engine.scorer, LearnedScorer)
            client.headers["X-API-Key"] = add_key(client.app, "admin")
            res = client.post("/v1/recommendations", json={"beneficiary": {
                "home": {"commune": "Flers", "postcode": "61100"}, "freins": {"mobilite": 3},
                "mobility": {"driving_licence": "none", "vehicle": "none"}}, "limit": 5})
            assert res.status_code == 200, res.text
            body = res.json()
            assert body["model"]["name"] == "learned-additive-logit"
            assert body["model"]["version"].startswith("1.0.0+")
            for item in body["items"]:
                total = sum(r["contribution"] for r in item["reasons"])
                assert math.isclose(total, item["score"], abs_tol=1e-9)
                assert not any(r["label"][0].islower() for r in item["reasons"]), item["reasons"]


def test_settings_none_serves_the_transparent_scorer(monkeypatch):
    from insertion_match.service.settings import Settings

    monkeypatch.setenv("IM_MODEL_PATH", "none")
    assert Settings().model_path is None


def test_default_serves_the_transparent_scorer_even_with_a_shipped_model(monkeypatch):
    # The shipped model was trained on synthetic outcomes: it is served only when configured.
    from insertion_match.service.settings import SHIPPED_MODEL, Settings

    monkeypatch.delenv("IM_MODEL_PATH", raising=False)
    assert SHIPPED_MODEL.is_file()
    assert Settings().model_path is None
