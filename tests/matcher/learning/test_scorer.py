"""The learned scorer served by the engine: exact French explanations, model cards."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from insertion_match.matcher.learning.card import build_card, save_model
from insertion_match.matcher.learning.scorer import DESIGN_COLUMNS, IncompatibleModel
from insertion_match.matcher.learning.training import fit_learned_scorer
from insertion_match.service.model_loading import load_model
from tests.conftest import make_profile


def toy_logs(seed: int = 0, n: int = 600) -> pd.DataFrame:
    """Random design rows whose label depends on the mobility need and the reach."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(0.0, index=range(n), columns=list(DESIGN_COLUMNS))
    frame["frein.mobilite"] = rng.random(n) * (rng.random(n) < 0.5)
    frame["reach"] = rng.uniform(-2 / 3, 1, n)
    frame["category.mobilite"] = (rng.random(n) < 0.4) * 1.0
    frame["category.insertion_sociale"] = 1.0 - frame["category.mobilite"]
    logit = 2.5 * frame["frein.mobilite"] + 1.2 * frame["reach"] - 1.0
    frame["success"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame


@pytest.fixture(scope="module")
def scorer():
    return fit_learned_scorer(toy_logs(), C=1.0)


def test_fit_learns_the_signs_of_the_effects(scorer):
    weights = scorer.weights()
    assert weights["frein.mobilite"] > 0.5 and weights["reach"] > 0.3
    assert scorer.version.startswith("1.0.0+") and len(scorer.version) == 14


def test_recommendations_with_the_learned_scorer_add_up_and_speak_french(engine, scorer):
    learned = engine.with_scorer(scorer)
    profile = make_profile(freins={"mobilite": 3}, mobility={"driving_licence": "none",
                                                             "vehicle": "none"})
    res = learned.recommend(profile, limit=8)
    assert (res.model_name, res.model_version) == (scorer.name, scorer.version)
    assert res.items
    for item in res.items:
        assert math.isclose(sum(r.contribution for r in item.reasons), item.score, abs_tol=1e-9)
        codes = {r.code for r in item.reasons}
        assert "base" in codes
        assert all(r.label and not r.label.startswith(("frein.", "category", "base"))
                   for r in item.reasons)
    base = next(r for r in res.items[0].reasons if r.code == "base")
    assert "modèle appris" in base.label and math.isclose(base.contribution,
                                                          round(scorer.intercept, 4))


def test_saved_artefact_loads_through_the_start_up_guard(tmp_path, scorer):
    card = build_card(scorer, data={"synthetic": True, "rows": 600}, metrics={},
                      hyper_parameters={"C": 1.0})
    files = save_model(scorer, card, tmp_path, "toy")
    assert files.artefact.stat().st_size < 1_000_000
    stored = json.loads(files.card.read_text(encoding="utf-8"))
    assert stored["sha256"] and stored["synthetic"] is True
    assert "SYNTHETIC" in files.markdown.read_text(encoding="utf-8")
    loaded = load_model(files.artefact, validate=lambda m, c: m.check_card(c))
    assert loaded.ok, loaded.refused
    assert loaded.model.version == scorer.version


def test_a_card_for_another_design_is_refused(tmp_path, scorer):
    card = build_card(scorer, data={}, metrics={}, hyper_parameters={})
    with pytest.raises(IncompatibleModel, match="design version"):
        scorer.check_card({**card, "design_version": "0"})
    with pytest.raises(IncompatibleModel, match="describes"):
        scorer.check_card({**card, "version": "9.9.9"})
    files = save_model(scorer, {**card, "columns": ["reach"]}, tmp_path, "bad")
    loaded = load_model(files.artefact, validate=lambda m, c: m.check_card(c))
    assert not loaded.ok and "columns" in loaded.refused
