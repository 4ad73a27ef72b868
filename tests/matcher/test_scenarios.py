"""The README's example profiles, and a few more, on the real catalogue."""

from __future__ import annotations

import json
from pathlib import Path

from insertion_match.domain import BeneficiaryProfile

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _example(name: str) -> BeneficiaryProfile:
    body = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return BeneficiaryProfile.model_validate(body["beneficiary"])


def _excluded(res, action_id):
    return {r.code for ex in res.excluded if ex.id == action_id for r in ex.reasons}


def test_newcomer_in_flers_gets_french_courses_first(engine):
    res = engine.recommend(_example("newcomer_flers.json"), limit=5, include_excluded=True)
    top2 = res.items[:2]
    assert all("langue_francaise" in i.freins_addressed for i in top2)
    assert {i.id for i in top2} == {"flers-asti-langue-francaise",
                                     "flers-infrep-francais-integration"}
    # Alençon's French workshops are for Alençon residents only.
    assert "eligibility.territory" in _excluded(res, "alencon-ape-familiarisation-langue-francaise")


def test_rural_person_without_licence_gets_mobility_help_and_a_lever(engine):
    res = engine.recommend(_example("no_licence_rural.json"), limit=10, include_excluded=True)
    assert res.home_insee == "61486"
    assert res.items[0].id == "flers-mobylis-garage-itinerant"
    ids = [i.id for i in res.items]
    assert "flers-mobylis-permis-b" in ids
    # Not reachable by own means, yet proposed (a cost, not a wall), with a warning.
    permis = res.items[ids.index("flers-mobylis-permis-b")]
    assert "travel.none" in {w.code for w in permis.warnings}
    assert "cost" in {w.code for w in permis.warnings}
    # Car rental needs a licence: excluded for this person, whatever the territory.
    assert "eligibility.driving_licence" in _excluded(res, "alencon-bonnem-location-voitures")
    assert res.levers and res.levers[0].frein == "mobilite" and res.levers[0].unlocks > 0
    assert "flers-mobylis-permis-b" in res.levers[0].actions


def test_independent_worker_in_alencon_gets_aden_but_a_farmer_does_not(engine):
    profile = _example("independent_alencon.json")
    res = engine.recommend(profile, limit=5, include_excluded=True)
    assert res.items[0].id == "orne-aden-travailleurs-independants"
    assert res.items[0].reasons[0].code == "frein.activite_independante"
    farmer = profile.model_copy(update={"status": profile.status.model_copy(update={"farmer": True})})
    res_f = engine.recommend(farmer, limit=50, include_excluded=True)
    assert "orne-aden-travailleurs-independants" not in {i.id for i in res_f.items}
    assert "eligibility.farmer" in _excluded(res_f, "orne-aden-travailleurs-independants")


def test_youth_fund_is_not_offered_to_a_47_year_old(engine):
    res = engine.recommend(_example("independent_alencon.json"), limit=100, include_excluded=True)
    assert "orne-fajd" not in {i.id for i in res.items}
    assert "eligibility.age" in _excluded(res, "orne-fajd")


def test_essonne_resident_only_gets_essonne_actions(engine):
    profile = BeneficiaryProfile.model_validate({
        "home": {"commune": "Évry-Courcouronnes", "postcode": "91000"}, "age": 20,
        "rsa_months": 4, "freins": {"qualification": 3, "projet_professionnel": 2}})
    res = engine.recommend(profile, limit=100, include_excluded=True)
    assert res.items and all(i.id.startswith("ess-") for i in res.items)
    assert all(e.id.startswith("ess-") for e in res.excluded)
    ids = {i.id for i in res.items}
    assert "ess-e2c" in ids  # 16-34
    older = profile.model_copy(update={"age": 40})
    res_old = engine.recommend(older, limit=100, include_excluded=True)
    assert "eligibility.age" in _excluded(res_old, "ess-e2c")
    assert "eligibility.age" in _excluded(res_old, "ess-accompagnement-intensif-moins-36-ans")


def test_new_entrant_coaching_needs_less_than_a_year_in_rsa(engine):
    base = {"home": {"insee": "91228"}, "age": 30, "freins": {"recherche_emploi": 3}}
    recent = engine.recommend(BeneficiaryProfile.model_validate({**base, "rsa_months": 6}),
                              limit=100, include_excluded=True)
    assert "ess-accompagnement-intensif-moins-36-ans" in {i.id for i in recent.items}
    old = engine.recommend(BeneficiaryProfile.model_validate({**base, "rsa_months": 30}),
                           limit=100, include_excluded=True)
    assert "eligibility.rsa_months" in _excluded(old, "ess-accompagnement-intensif-moins-36-ans")


def test_minimal_profile_says_what_it_could_not_check(engine):
    res = engine.recommend(BeneficiaryProfile.model_validate({"home": {"insee": "61169"}}))
    assert res.items
    assert res.unchecked  # orientation, age, statuses... unknown
    assert any("Temps de trajet maximum" in a for a in res.assumptions)
