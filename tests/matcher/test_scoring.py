"""The transparent scorer: contributions add up, needs dominate, re-ranking diversifies."""

from __future__ import annotations

import math

import numpy as np

from insertion_match.matcher.engine import MatchingEngine
from insertion_match.matcher.ranking import diversify, diversify_additive
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
    scores = np.array([0.9, 0.89, 0.88, 0.84])
    main = np.array([1, 1, 1, 2])
    cat = np.array(["a", "a", "a", "b"])
    div = diversify_additive(scores, main, cat, k=4)
    # 0.89 − 0.03 − 0.01 = 0.85 > 0.84: the second variant still comes second;
    # 0.88 − 0.06 − 0.02 = 0.80 < 0.84: the different frein climbs above the third variant.
    assert div.order.tolist() == [0, 1, 3, 2]
    assert div.same_frein.tolist() == [0, 1, 0, 2]
    np.testing.assert_allclose(div.frein_penalty, [0, -0.03, 0, -0.06])
    np.testing.assert_allclose(div.category_penalty, [0, -0.01, 0, -0.02])


def test_diversified_scores_are_in_the_order_shown():
    rng = np.random.default_rng(0)
    for _ in range(50):
        scores = rng.uniform(-0.2, 0.8, 30)
        main, cat = rng.integers(0, 4, 30), rng.integers(0, 3, 30)
        div = diversify_additive(scores, main, cat, k=15)
        shown = scores[div.order] + div.frein_penalty + div.category_penalty
        assert np.all(np.diff(shown) <= 1e-12)


def test_diversify_never_lifts_a_weak_item_far_above_a_strong_one():
    scores = np.array([0.5, 0.5, 0.5, 0.05])
    order = diversify(scores, np.array([1, 1, 1, 2]), np.array(["a", "a", "a", "b"]), k=4)
    assert order.tolist() == [0, 1, 2, 3]


def test_diversify_is_identity_without_redundancy():
    scores = np.array([0.3, 0.9, 0.5])
    div = diversify_additive(scores, np.array([0, 1, 2]), np.array(["a", "b", "c"]), k=3)
    assert div.order.tolist() == [1, 2, 0]
    assert not div.frein_penalty.any() and not div.category_penalty.any()


def test_diversity_is_an_explained_term_and_the_list_is_in_score_order(engine):
    profile = make_profile(freins={"mobilite": 3}, mobility={"driving_licence": "none",
                                                              "vehicle": "none"})
    res = engine.recommend(profile, limit=10)
    scores = [i.score for i in res.items]
    assert scores == sorted(scores, reverse=True)
    penalised = [i for i in res.items if any(r.code == "diversity.frein" for r in i.reasons)]
    assert penalised, "several mobility actions: later ones carry the diversity term"
    for item in res.items:
        assert abs(sum(r.contribution for r in item.reasons) - item.score) < 1e-9
    label = next(r.label for r in penalised[0].reasons if r.code == "diversity.frein")
    assert label == "Une action sur le frein mobilité figure déjà plus haut"


def test_levers_count_actions_opened_by_a_car(gazetteer, territories):
    far = make_action(id="far", sites=[{"commune": "Argentan", "insee": "61006"}])
    rental = make_action(id="rental", category="mobilite", freins=["mobilite"],
                         eligibility={"driving_licence_required": "b"})
    permis = make_action(id="permis", category="mobilite", freins=["mobilite"],
                         eligibility={"no_driving_licence_required": True})
    engine = MatchingEngine.build([far, rental, permis], gazetteer, territories)
    res = engine.recommend(make_profile(
        freins={"mobilite": 3, "isolement_confiance": 2},
        mobility={"driving_licence": "none", "vehicle": "none", "public_transport": False,
                  "max_travel_minutes": 60}))
    assert len(res.levers) == 1
    lever = res.levers[0]
    assert lever.frein == "mobilite"
    # 'far' becomes reachable by car; 'rental' becomes eligible with a licence.
    assert lever.unlocks == 2
    assert "permis" in lever.actions
    assert set(lever.items) == {"far", "rental"}  # exactly the items that become reachable


def test_levers_count_only_what_would_be_listed(gazetteer, territories):
    far = make_action(id="far", sites=[{"commune": "Argentan", "insee": "61006"}])
    engine = MatchingEngine.build([far], gazetteer, territories)
    mobility = {"driving_licence": "none", "vehicle": "none", "public_transport": False,
                "max_travel_minutes": 60}
    # 'far' works on isolation: it opens with a car only for a person with that frein
    assert engine.recommend(make_profile(freins={"mobilite": 3}, mobility=mobility)).levers == ()
    lever = engine.recommend(make_profile(freins={"mobilite": 3, "isolement_confiance": 2},
                                          mobility=mobility)).levers[0]
    assert lever.items == ("far",)


def test_levers_offer_only_what_the_person_lacks(gazetteer, territories):
    far = make_action(id="far", sites=[{"commune": "Argentan", "insee": "61006"}])
    engine = MatchingEngine.build([far], gazetteer, territories)
    mobility = {"public_transport": False, "max_travel_minutes": 60}
    with_licence = engine.recommend(make_profile(
        mobility={**mobility, "driving_licence": "b", "vehicle": "none"}))
    assert [lv.label.split(" :")[0] for lv in with_licence.levers] == ["Avec un véhicule"]
    assert with_licence.levers[0].change == "vehicle"
    with_car = engine.recommend(make_profile(
        mobility={**mobility, "driving_licence": "none", "vehicle": "car"}))
    assert [lv.label.split(" :")[0] for lv in with_car.levers] == ["Avec le permis B"]
    both = engine.recommend(make_profile(
        mobility={**mobility, "driving_licence": "b", "vehicle": "car"}))
    assert both.levers == ()


def _reach(item):
    return next(r for r in item.reasons if r.code == "reach")


def test_coming_to_the_person_counts_only_when_reaching_a_site_is_hard(gazetteer, territories):
    home = make_action(id="home", itinerant=True, freins=["isolement_confiance"])
    near = make_action(id="near", freins=["isolement_confiance"])  # in Flers, like the person
    engine = MatchingEngine.build([home, near], gazetteer, territories)
    easy = engine.recommend(make_profile(
        freins={"isolement_confiance": 1},
        mobility={"driving_licence": "b", "vehicle": "car", "max_travel_minutes": 45}))
    assert easy.items[0].id == "near"  # no isolation nor mobility need: no bonus for home visits
    hard = engine.recommend(make_profile(
        freins={"isolement_confiance": 3},
        mobility={"driving_licence": "none", "vehicle": "none", "public_transport": False,
                  "max_travel_minutes": 30}))
    assert hard.items[0].id == "home"
    assert "difficultés pour se déplacer" in _reach(hard.items[0]).label
    assert _reach(hard.items[0]).contribution > _reach(easy.items[1]).contribution


def test_funds_by_dossier_and_unspecified_sites_invent_no_trip(gazetteer, territories):
    fund = make_action(id="fund", by_dossier=True, freins=["finances"],
                       sites=[{"commune": "Alençon", "insee": "61001",
                               "precision": "department_seat"}])
    spread = make_action(id="spread", freins=["finances"],
                         sites=[{"commune": "Alençon", "insee": "61001",
                                 "precision": "unspecified"}])
    engine = MatchingEngine.build([fund, spread], gazetteer, territories)
    res = engine.recommend(make_profile(
        home={"commune": "Tinchebray-Bocage", "postcode": "61800"}, freins={"finances": 2},
        mobility={"driving_licence": "none", "vehicle": "none", "public_transport": False,
                  "max_travel_minutes": 20}))
    by_id = {i.id: i for i in res.items}
    assert by_id["fund"].travel.mode == "dossier" and by_id["fund"].distance_km is None
    assert by_id["spread"].travel.mode is None and by_id["spread"].distance_km is None
    for item in res.items:
        codes = {w.code for w in item.warnings}
        assert not codes & {"travel.far", "travel.none"}  # no "Trajet estimé à 214 min"
        assert _reach(item).contribution > 0
    assert "sites.unspecified" in {w.code for w in by_id["spread"].warnings}


def test_a_stand_in_site_beside_real_places_is_never_the_nearest(gazetteer, territories):
    action = make_action(sites=[{"commune": "Flers", "insee": "61169", "precision": "unspecified"},
                                {"commune": "Argentan", "insee": "61006"}])
    engine = MatchingEngine.build([action], gazetteer, territories)
    res = engine.recommend(make_profile())
    assert res.items[0].commune == "Argentan" and res.items[0].distance_km > 20


def test_remote_only_is_no_easier_than_a_far_site_for_a_blocking_digital_frein(
        gazetteer, territories):
    """A service given only at a distance (data·inclusion « à distance ») spares the trip: a
    plus for a person who travels with difficulty, but not for one whose digital frein is real
    or blocking — there it counts like a site at the limit of their time, and says why."""
    remote = make_action(id="remote", freins=["isolement_confiance"], remote=True)
    site = make_action(id="site", freins=["isolement_confiance"],
                       sites=[{"commune": "Flers", "insee": "61169"}])
    engine = MatchingEngine.build([remote, site], gazetteer, territories)
    no_car = {"driving_licence": "none", "vehicle": "none", "public_transport": False}
    digital = engine.recommend(make_profile(
        freins={"isolement_confiance": 2, "numerique": 3}, mobility=no_car))
    easy = engine.recommend(make_profile(freins={"isolement_confiance": 2}, mobility=no_car))

    def item(res, item_id):
        return next(i for i in res.items if i.id == item_id)

    def reach(res, item_id):
        return sum(r.contribution for r in item(res, item_id).reasons if r.code == "reach")

    easy_reach = next(r for r in item(easy, "remote").reasons if r.code == "reach")
    assert easy_reach.contribution > 0 and "sans déplacement" in easy_reach.label
    assert reach(digital, "remote") <= 0 < reach(easy, "remote")
    warning = next(w for w in item(digital, "remote").warnings if w.code == "remote.digital")
    assert "frein numérique" in warning.label
    assert "remote.digital" not in {w.code for w in item(easy, "remote").warnings}
