"""The transparent scorer: contributions add up, needs dominate, re-ranking diversifies."""

from __future__ import annotations

import math

import numpy as np

from insertion_match.matcher.engine import MatchingEngine
from insertion_match.matcher.ranking import diversify
from tests.conftest import make_action, make_profile


def test_reasons_sum_to_score_on_real_catalogue(engine):
    profile = make_profile(freins={"mobilite": 3, "isolement_confiance": 2, "sante": 1},
                           orientation="sociale", age=40,
                           mobility={"driving_licence": "none", "vehicle": "none",
                                     "public_transport": True})
    res = engine.recommend(profile, limit=20)
    assert len(res.items) >= 5
    for item in res.items:
        total = sum(r.contribution for r in item.reasons)
        assert math.isclose(total, item.score, abs_tol=1e-9), item.id
        assert all(r.label and not r.label.startswith(("frein.", "reach")) for r in item.reasons)
        assert all(w.label for w in item.warnings)


def test_need_fit_ranks_the_action_that_addresses_the_blocking_frein_first(gazetteer, territories):
    mob = make_action(id="mob", category="mobilite", freins=["mobilite"])
    lang = make_action(id="lang", category="langue", freins=["langue_francaise"])
    engine = MatchingEngine.build([lang, mob], gazetteer, territories)
    res = engine.recommend(make_profile(freins={"mobilite": 3, "langue_francaise": 1}))
    assert [i.id for i in res.items] == ["mob", "lang"]
    top = res.items[0].reasons[0]
    assert top.code == "frein.mobilite" and "bloquant" in top.label
    assert math.isclose(top.contribution, 0.30)


def test_distance_is_a_cost_not_a_wall(gazetteer, territories):
    near = make_action(id="near", sites=[{"commune": "Flers", "insee": "61169"}])
    far = make_action(id="far", sites=[{"commune": "Mortagne-au-Perche", "insee": "61293"}])
    engine = MatchingEngine.build([far, near], gazetteer, territories)
    res = engine.recommend(make_profile(freins={"isolement_confiance": 2},
                                        mobility={"driving_licence": "b", "vehicle": "car"}))
    assert [i.id for i in res.items] == ["near", "far"]
    assert res.items[0].distance_km < res.items[1].distance_km


def test_refused_before_is_penalised(gazetteer, territories):
    a = make_action(id="a")
    b = make_action(id="b")
    engine = MatchingEngine.build([a, b], gazetteer, territories)
    res = engine.recommend(make_profile(history=[{"item_id": "a", "status": "refused"}]))
    assert [i.id for i in res.items] == ["b", "a"]
    assert "history.refused" in {w.code for w in res.items[1].warnings}


def test_full_action_gets_a_capacity_warning_and_lower_score(gazetteer, territories):
    full = make_action(id="full", places=9, participants=46, participants_year=2021)
    free = make_action(id="free", places=20, participants=10)
    engine = MatchingEngine.build([full, free], gazetteer, territories)
    res = engine.recommend(make_profile())
    assert [i.id for i in res.items] == ["free", "full"]
    warn = [w for w in res.items[1].warnings if w.code == "capacity"]
    assert warn and "46 participants pour 9 places" in warn[0].label


def test_diversify_spreads_main_freins():
    scores = np.array([0.9, 0.89, 0.88, 0.70])
    main = np.array([1, 1, 1, 2])
    cat = np.array(["a", "a", "a", "b"])
    order = diversify(scores, main, cat, k=4)
    # 0.89 × 0.85 × 0.95 = 0.72 > 0.70: the second variant still comes second;
    # 0.88 × 0.85² × 0.95² = 0.57 < 0.70: the different frein climbs above the third variant.
    assert order.tolist() == [0, 1, 3, 2]


def test_diversify_never_lifts_a_weak_item_far_above_a_strong_one():
    scores = np.array([0.5, 0.5, 0.5, 0.05])
    order = diversify(scores, np.array([1, 1, 1, 2]), np.array(["a", "a", "a", "b"]), k=4)
    assert order.tolist() == [0, 1, 2, 3]


def test_diversify_pushes_negative_scores_down_not_up():
    scores = np.array([0.2, -0.1, -0.1])
    order = diversify(scores, np.array([1, 1, 2]), np.array(["a", "a", "b"]), k=3)
    assert order.tolist() == [0, 2, 1]


def test_diversify_is_identity_without_redundancy():
    scores = np.array([0.3, 0.9, 0.5])
    order = diversify(scores, np.array([0, 1, 2]), np.array(["a", "b", "c"]), k=3)
    assert order.tolist() == [1, 2, 0]


def test_levers_count_actions_opened_by_a_car(gazetteer, territories):
    far = make_action(id="far", sites=[{"commune": "Argentan", "insee": "61006"}])
    rental = make_action(id="rental", category="mobilite", freins=["mobilite"],
                         eligibility={"driving_licence_required": "b"})
    permis = make_action(id="permis", category="mobilite", freins=["mobilite"],
                         eligibility={"no_driving_licence_required": True})
    engine = MatchingEngine.build([far, rental, permis], gazetteer, territories)
    res = engine.recommend(make_profile(
        freins={"mobilite": 3},
        mobility={"driving_licence": "none", "vehicle": "none", "public_transport": False,
                  "max_travel_minutes": 60}))
    assert len(res.levers) == 1
    lever = res.levers[0]
    assert lever.frein == "mobilite"
    # 'far' becomes reachable by car; 'rental' becomes eligible with a licence.
    assert lever.unlocks == 2
    assert "permis" in lever.actions
