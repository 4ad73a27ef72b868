"""Ranking offers for one person: walls (travel, licence, hours, childcare), reasons, levers."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date

import pytest

from insertion_match.geo import MODE_LABELS_FR, Mode, travel_minutes
from insertion_match.geo.travel import MAX_MINUTES
from tests.conftest import make_profile

FLERS = {"commune": "Flers", "postcode": "61100"}
NO_LICENCE = {"driving_licence": "none", "vehicle": "none", "public_transport": True,
              "max_travel_minutes": 45}


def _recommend(engine, kinds=("job",), limit=100, **profile):
    return engine.recommend(make_profile(**profile), kinds=list(kinds), limit=limit,
                            include_excluded=True)


def _opportunity(engine, item_id):
    index, pos = engine.opportunity(item_id)
    return index.opportunities[pos]


@pytest.mark.parametrize("licence", ["none", "code"])
def test_no_offer_requiring_a_licence_for_a_person_without_one(offers_engine, licence):
    for home in (FLERS, {"commune": "Évry-Courcouronnes"}):
        res = _recommend(offers_engine, kinds=["job", "immersion", "volunteering"], home=home,
                         mobility={**NO_LICENCE, "driving_licence": licence})
        assert res.items
        for item in res.items:
            opp = _opportunity(offers_engine, item.id)
            assert not any(lic.required for lic in opp.licences), item.title
        excluded = [e for e in res.excluded
                    if any(r.code == "eligibility.driving_licence" for r in e.reasons)]
        assert excluded, "the demo offers include offers that require a licence"
        for e in excluded:
            opp = _opportunity(offers_engine, e.id)
            assert any(lic.required for lic in opp.licences)
            label = next(r.label for r in e.reasons if r.code == "eligibility.driving_licence")
            assert label.startswith("Permis ") and label.endswith(" exigé")


@pytest.mark.parametrize("mobility", [
    NO_LICENCE,
    {"driving_licence": "none", "vehicle": "bike", "public_transport": False,
     "max_travel_minutes": 30},
    {"driving_licence": "none", "vehicle": "none", "public_transport": False,
     "max_travel_minutes": 20},
    {"driving_licence": "b", "vehicle": "car", "public_transport": False,
     "max_travel_minutes": 25},
])
def test_no_offer_beyond_the_maximum_travel_time_by_own_modes(offers_engine, gazetteer,
                                                              mobility):
    res = _recommend(offers_engine, kinds=["job", "immersion", "volunteering"], home=FLERS,
                     mobility=mobility, limit=100)
    own = {Mode.walk} | ({Mode.public_transport} if mobility["public_transport"] else set())
    own |= {Mode.bike} if mobility["vehicle"] == "bike" else set()
    own |= {Mode.car} if mobility["vehicle"] == "car" else set()
    home = gazetteer.by_insee("61169")
    for item in res.items:
        assert item.travel.mode in {m.value for m in own}
        assert item.travel.minutes <= mobility["max_travel_minutes"]
        # Recomputed independently from the distance: the fastest own mode is within reach.
        opp = _opportunity(offers_engine, item.id)
        from insertion_match.geo import haversine_km

        km = max(float(haversine_km(home.lat, home.lon, opp.location.lat, opp.location.lon)), 1.5)
        best = min(float(travel_minutes(km, m)) for m in own
                   if float(travel_minutes(km, m)) <= MAX_MINUTES.get(m, math.inf))
        assert best <= mobility["max_travel_minutes"] + 1e-9
    far = [e for e in res.excluded if any(r.code == "eligibility.travel" for r in e.reasons)]
    assert far
    label = next(r.label for r in far[0].reasons if r.code == "eligibility.travel")
    assert "au-delà des" in label or "Hors de portée" in label


def test_reasons_add_up_and_ranks_restart_per_kind(offers_engine):
    res = _recommend(offers_engine, kinds=["immersion", "action", "job"], limit=5,
                     home=FLERS, target_jobs=["agent d'entretien"], mobility=NO_LICENCE,
                     freins={"mobilite": 3, "recherche_emploi": 2})
    kinds = [i.kind for i in res.items]
    assert kinds == sorted(kinds, key=["immersion", "action", "job"].index)
    for kind in ("immersion", "action", "job"):
        ranks = [i.rank for i in res.items if i.kind == kind]
        assert ranks == list(range(1, len(ranks) + 1)) and len(ranks) <= 5
    assert [c.kind for c in res.counts] == ["immersion", "action", "job"]
    assert res.candidates == sum(c.candidates for c in res.counts)
    for item in res.items:
        assert math.isclose(sum(r.contribution for r in item.reasons), item.score,
                            abs_tol=1e-6)
        assert all(r.label for r in item.reasons)


def test_target_job_drives_the_ranking_and_is_explained(offers_engine):
    res = _recommend(offers_engine, limit=5, home=FLERS, target_jobs=["agent d'entretien"],
                     mobility={**NO_LICENCE, "max_travel_minutes": 60})
    top = res.items[0]
    assert _opportunity(offers_engine, top.id).rome_code in {"K2204", "K2205"}
    rome = next(r for r in top.reasons if r.code == "rome")
    assert "« agent d'entretien »" in rome.label
    reach = next(r for r in top.reasons if r.code == "reach")
    assert reach.label.startswith("À ") and MODE_LABELS_FR[Mode.public_transport] in reach.label
    without = _recommend(offers_engine, limit=5, home=FLERS, mobility=NO_LICENCE)
    assert any("métiers visés non renseignés" in u for u in without.unchecked)


def test_unknown_fields_never_exclude(offers_engine):
    known = _recommend(offers_engine, home=FLERS, mobility={**NO_LICENCE},
                       availability={"atypical_hours": False})
    unknown = _recommend(offers_engine, home=FLERS)
    codes = {r.code for e in unknown.excluded for r in e.reasons}
    assert "eligibility.driving_licence" not in codes and "eligibility.hours" not in codes
    assert unknown.counts[0].eligible > known.counts[0].eligible
    warned = [w.code for i in unknown.items for w in i.warnings]
    assert "unchecked.driving_licence" in warned or "unchecked.travel" in warned
    assert any("non renseign" in u for u in unknown.unchecked)


def test_childcare_and_atypical_hours(offers_engine):
    base = {"home": FLERS, "mobility": {**NO_LICENCE, "max_travel_minutes": 60},
            "family": {"situation": "isole", "children_under_3": 1, "children_3_to_11": 0}}
    res = _recommend(offers_engine, freins={"garde_enfants": 3}, **base)
    childcare = [r.label for e in res.excluded for r in e.reasons
                 if r.code == "eligibility.childcare"]
    assert "Horaires décalés incompatibles avec la garde d'un enfant de moins de 3 ans" in childcare
    for item in res.items:
        assert not _opportunity(offers_engine, item.id).atypical_hours
    # Without a childcare frein: atypical hours stay, with a cost and an explanation.
    res = _recommend(offers_engine, **base)
    atypical = [i for i in res.items if _opportunity(offers_engine, i.id).atypical_hours]
    assert atypical
    assert any("garde à organiser" in r.label for i in atypical for r in i.reasons)
    # A person who cannot work atypical hours.
    res = _recommend(offers_engine, availability={"atypical_hours": False}, **base)
    assert all(not _opportunity(offers_engine, i.id).atypical_hours for i in res.items)
    assert any(r.code == "eligibility.hours" for e in res.excluded for r in e.reasons)


def test_levers_count_exactly_what_the_change_opens(offers_engine):
    profile = {"home": FLERS, "mobility": NO_LICENCE, "target_jobs": ["agent d'entretien"],
               "family": {"children_under_3": 1}, "freins": {"garde_enfants": 3, "mobilite": 3}}
    now = _recommend(offers_engine, **profile)
    levers = {lv.change: lv for lv in now.levers if lv.unlocks_kind == "job"}
    assert {"licence", "licence_vehicle", "childcare"} <= levers.keys()
    car = _recommend(offers_engine, **{**profile, "mobility": {
        **NO_LICENCE, "driving_licence": "b", "vehicle": "car"}})
    assert levers["licence_vehicle"].unlocks == car.counts[0].eligible - now.counts[0].eligible
    licence = _recommend(offers_engine, **{**profile, "mobility": {
        **NO_LICENCE, "driving_licence": "b"}})
    assert levers["licence"].unlocks == licence.counts[0].eligible - now.counts[0].eligible
    care = _recommend(offers_engine, **{**profile, "freins": {"mobilite": 3}})
    assert levers["childcare"].unlocks == care.counts[0].eligible - now.counts[0].eligible
    lv = levers["licence_vehicle"]
    assert lv.label.startswith("Avec le permis B et un véhicule : +")
    assert lv.label.endswith("offre(s) d'emploi à moins de 45 min")
    # The bridge to the catalogue: the licence course is proposed for the licence lever.
    assert "flers-mobylis-permis-b" in levers["licence"].actions
    childcare = set(levers["childcare"].actions)
    assert childcare and childcare <= {a.id for a in offers_engine.actions
                                       if "garde_enfants" in a.freins}


def test_expired_and_done_offers_are_not_proposed(offers_engine):
    first = _recommend(offers_engine, home=FLERS, mobility=NO_LICENCE, limit=1).items[0]
    done = _recommend(offers_engine, home=FLERS, mobility=NO_LICENCE, limit=100,
                      history=[{"item_id": first.id, "status": "done"}])
    assert first.id not in {i.id for i in done.items}
    assert any(e.id == first.id and e.reasons[0].code == "history.done" for e in done.excluded)
    opp = _opportunity(offers_engine, first.id)
    expired = replace(offers_engine).with_opportunities(
        [o if o.id != opp.id else o.model_copy(update={"expires_at": date(2026, 1, 1)})
         for o in offers_engine.opportunities])
    res = expired.recommend(make_profile(home=FLERS, mobility=NO_LICENCE), kinds=["job"],
                            limit=100, include_excluded=True, today=date(2026, 11, 23))
    assert first.id not in {i.id for i in res.items} | {e.id for e in res.excluded}


def test_action_only_answer_is_unchanged_by_the_offers(engine, offers_engine):
    profile = make_profile(home=FLERS, mobility=NO_LICENCE, freins={"mobilite": 3})
    assert engine.recommend(profile) == offers_engine.recommend(profile)


def test_engine_without_offers_answers_empty_kinds(engine):
    res = engine.recommend(make_profile(home=FLERS), kinds=["action", "job"])
    assert [c.kind for c in res.counts] == ["action", "job"]
    assert res.counts[1].candidates == 0 and all(i.kind == "action" for i in res.items)


def test_hours_reason_names_only_what_applies(offers_engine):
    res = _recommend(offers_engine, home=FLERS, mobility={**NO_LICENCE, "max_travel_minutes": 60},
                     availability={"hours_per_week": 15, "atypical_hours": True},
                     family={"children_under_3": 0, "children_3_to_11": 0})
    labels = [r.label for i in res.items for r in i.reasons if r.code == "hours"]
    assert labels and all("h disponibles" in lb and "enfants" not in lb for lb in labels)
