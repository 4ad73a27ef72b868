"""The design matrix and the additive scorers built on it."""

from __future__ import annotations

import numpy as np
import pytest

from insertion_match.features.action_features import action_features
from insertion_match.features.profile import person_context
from insertion_match.matcher.scoring import (
    BASE_COLUMNS,
    CATEGORIES,
    TERMS,
    ScorerWeights,
    TransparentScorer,
    additive_score,
    design_layout,
    term_features,
)
from tests.conftest import make_profile


@pytest.fixture(scope="module")
def feats(engine, gazetteer, territories):
    profile = make_profile(freins={"mobilite": 3, "isolement_confiance": 2}, orientation="sociale",
                           mobility={"driving_licence": "none", "vehicle": "none",
                                     "public_transport": True, "max_travel_minutes": 40},
                           history=[{"item_id": "flers-mobylis-permis-b", "status": "refused"}])
    ctx = person_context(profile, gazetteer, territories)
    return action_features(engine.indexes["61"], ctx), ctx


def test_transparent_score_is_the_weighted_design_grouped_by_term(feats):
    f, ctx = feats
    design = term_features(f, ctx.max_travel_minutes)
    scored = TransparentScorer().score(f, ctx.max_travel_minutes)
    assert scored.terms == TERMS and design.terms == TERMS
    assert np.allclose(scored.scores, design.values @ ScorerWeights().vector(), atol=1e-12)
    assert np.array_equal(scored.scores, scored.contributions.sum(axis=1))
    # readiness and history each group two columns
    assert design.columns.count("readiness.alignment") == 1
    assert design.grouping()[:, TERMS.index("history")].sum() == 2


def test_design_values_follow_the_documented_definitions(feats):
    f, ctx = feats
    design = term_features(f, ctx.max_travel_minutes)
    col = {c: design.values[:, j] for j, c in enumerate(design.columns)}
    refused = np.flatnonzero(f.history == 1)
    assert refused.size == 1 and col["history.refused"][refused[0]] == 1.0
    assert col["history.refused"].sum() == 1.0
    assert np.all(col["reach"][f.itinerant] == 1.0)
    assert col["reach"].min() >= -2 / 3 - 1e-12
    assert np.allclose(design.values[:, :18], f.need)


def test_extended_design_appends_documented_columns(feats):
    f, ctx = feats
    columns, terms, _ = design_layout(extended=True)
    design = term_features(f, ctx.max_travel_minutes, extended=True)
    assert design.columns == columns and terms[-2:] == ("fit_reach", "category")
    onehot = design.values[:, [columns.index(f"category.{c}") for c in CATEGORIES]]
    assert np.all(onehot.sum(axis=1) == 1.0)
    reach = design.values[:, columns.index("reach")]
    assert np.allclose(design.values[:, columns.index("fit_reach")], f.need.sum(axis=1) * reach)


def test_additive_score_with_a_base_term_adds_up_exactly(feats):
    f, ctx = feats
    design = term_features(f, ctx.max_travel_minutes, extended=True)
    weights = np.linspace(-1, 1, len(design.columns))
    scored = additive_score(design, weights, base=-0.5)
    assert scored.terms[-1] == "base"
    assert np.all(scored.contributions[:, -1] == -0.5)
    assert np.allclose(scored.scores, design.values @ weights - 0.5)


def test_custom_weights_keep_their_reach_floor(feats):
    f, ctx = feats
    weights = ScorerWeights(reach_weight=0.2, unreachable_penalty=-0.05)
    scored = TransparentScorer(weights).score(f, ctx.max_travel_minutes)
    reach = scored.contributions[:, TERMS.index("reach")]
    assert reach.min() >= -0.05 - 1e-12 and reach.max() <= 0.2 + 1e-12
    assert len(weights.vector()) == len(BASE_COLUMNS)
