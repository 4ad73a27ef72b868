"""Each hard rule keeps an ineligible action out of ``items`` and says why in ``excluded``."""

from __future__ import annotations

import pytest

from insertion_match.matcher.engine import MatchingEngine
from tests.conftest import make_action, make_profile


def _run(gazetteer, territories, actions, **profile):
    engine = MatchingEngine.build(actions, gazetteer, territories)
    return engine.recommend(make_profile(**profile), limit=50, include_excluded=True)


def _ids(items):
    return {i.id for i in items}


def _excluded_codes(result, action_id):
    for ex in result.excluded:
        if ex.id == action_id:
            return {r.code for r in ex.reasons}
    return set()


CASES = [
    # (rule code, action eligibility/overrides, profile that fails, profile that passes)
    ("eligibility.foreign_newcomer", {"eligibility": {"foreign_newcomer_required": True}},
     {"status": {"foreign_newcomer": False}}, {"status": {"foreign_newcomer": True}}),
    ("eligibility.independent_worker", {"eligibility": {"independent_worker_required": True}},
     {"status": {"independent_worker": False}}, {"status": {"independent_worker": True, "farmer": False}}),
    ("eligibility.farmer",
     {"eligibility": {"independent_worker_required": True, "farmers_excluded": True}},
     {"status": {"independent_worker": True, "farmer": True}},
     {"status": {"independent_worker": True, "farmer": False}}),
    ("eligibility.qpv", {"eligibility": {"qpv_required": True}},
     {"status": {"qpv": False}}, {"status": {"qpv": True}}),
    ("eligibility.age", {"eligibility": {"age_min": 16, "age_max": 25}}, {"age": 26}, {"age": 25}),
    ("eligibility.age", {"eligibility": {"age_min": 18}}, {"age": 17}, {"age": 18}),
    ("eligibility.rsa_months", {"eligibility": {"rsa_months_max": 12}},
     {"rsa_months": 13}, {"rsa_months": 12}),
    ("eligibility.orientation", {"eligibility": {"orientations": ["sociale"]}},
     {"orientation": "professionnelle"}, {"orientation": "sociale"}),
    ("eligibility.territory",
     {"territory": {"department": "61", "scope": "commissions", "commissions": ["Alençon"]},
      "sites": [{"commune": "Alençon", "insee": "61001"}]},
     {"home": {"commune": "Flers", "postcode": "61100"}},
     {"home": {"commune": "Alençon", "postcode": "61000"}}),
    ("eligibility.territory",
     {"territory": {"department": "61", "scope": "communes", "communes": ["61169"]}},
     {"home": {"commune": "Argentan", "postcode": "61200"}},
     {"home": {"commune": "Flers", "postcode": "61100"}}),
    ("eligibility.driving_licence", {"eligibility": {"driving_licence_required": "b"}},
     {"mobility": {"driving_licence": "code"}}, {"mobility": {"driving_licence": "b"}}),
    ("eligibility.has_licence", {"eligibility": {"no_driving_licence_required": True}},
     {"mobility": {"driving_licence": "b"}}, {"mobility": {"driving_licence": "none"}}),
    ("eligibility.rqth", {"eligibility": {"rqth_required": True}},
     {"status": {"rqth": False}}, {"status": {"rqth": True}}),
    ("history.done", {}, {"history": [{"item_id": "test-action", "status": "done"}]},
     {"history": [{"item_id": "test-action", "status": "refused"}]}),
    ("history.ongoing", {}, {"history": [{"item_id": "test-action", "status": "ongoing"}]},
     {"history": [{"item_id": "other", "status": "ongoing"}]}),
    ("eligibility.inactive", {"active": False}, {}, None),
    # Conditions as data (issue 8): every condition a document states, one rule each.
    ("eligibility.age", {"eligibility": {"age_min": 16, "age_max": 25}}, {"age": 41}, {"age": 19}),
    ("eligibility.rsa_months", {"eligibility": {"rsa_months_min": 24}},
     {"rsa_months": 6}, {"rsa_months": 30}),
    ("eligibility.sex", {"eligibility": {"sex": "f"}}, {"sex": "m"}, {"sex": "f"}),
    ("eligibility.training_level", {"eligibility": {"training_level_max": "4"}},
     {"training_level": "6"}, {"training_level": "4"}),
    ("eligibility.training_level", {"eligibility": {"training_level_max": "infra3"}},
     {"training_level": "3"}, {"training_level": "infra3"}),
    ("eligibility.training_level", {"eligibility": {"training_level_min": "5"}},
     {"training_level": "4"}, {"training_level": "7"}),
    ("eligibility.family", {"eligibility": {"family_situation": "isole"}},
     {"family": {"situation": "couple"}}, {"family": {"situation": "isole"}}),
    ("eligibility.children", {"eligibility": {"children": "none"}},
     {"family": {"children_under_3": 0, "children_3_to_11": 2, "children_12_plus": 0}},
     {"family": {"children_under_3": 0, "children_3_to_11": 0, "children_12_plus": 0}}),
    ("eligibility.children", {"eligibility": {"children": "under_3"}},
     {"family": {"children_under_3": 0, "children_3_to_11": 1, "children_12_plus": 0}},
     {"family": {"children_under_3": 1}}),
    ("eligibility.children", {"eligibility": {"children": "under_6"}},
     {"family": {"children_under_3": 0, "children_3_to_11": 0, "children_12_plus": 1}},
     {"family": {"children_under_3": 0, "children_3_to_11": 1, "children_under_6": 1}}),
    ("eligibility.children", {"eligibility": {"children": "any"}},
     {"family": {"children_under_3": 0, "children_3_to_11": 0, "children_12_plus": 0}},
     {"family": {"children_12_plus": 2}}),
    ("eligibility.mdph_unknown", {"eligibility": {"mdph_unknown_required": True}},
     {"status": {"rqth": True}}, {"status": {"rqth": False, "mdph_known": False}}),
    ("eligibility.mdph_unknown", {"eligibility": {"mdph_unknown_required": True}},
     {"status": {"rqth": False, "mdph_known": True}}, {"status": {"mdph_known": False}}),
    ("eligibility.vehicle", {"eligibility": {"vehicle_required": "car"}},
     {"mobility": {"vehicle": "none"}}, {"mobility": {"vehicle": "car"}}),
    ("eligibility.vehicle", {"eligibility": {"vehicle_required": "car"}},
     {"mobility": {"vehicle": "two_wheeler"}}, {"mobility": {"vehicle": "car"}}),
    ("eligibility.vehicle", {"eligibility": {"vehicle_required": "any"}},
     {"mobility": {"vehicle": "bike"}}, {"mobility": {"vehicle": "two_wheeler"}}),
    ("eligibility.job_takeup", {"eligibility": {"job_takeup_required": True}},
     {"status": {"job_takeup": False}}, {"status": {"job_takeup": True}}),
    ("eligibility.not_prescribable",
     {"prescribable": False, "not_prescribable_fr": "Objectif du pacte : développer l'offre"},
     {}, None),
]

UNKNOWN_FIELD_CASES = [
    # (action overrides, unchecked code): the profile does not say → kept, with "À vérifier"
    ({"eligibility": {"sex": "f"}}, "unchecked.sex"),
    ({"eligibility": {"training_level_max": "4"}}, "unchecked.training_level"),
    ({"eligibility": {"family_situation": "isole"}}, "unchecked.family"),
    ({"eligibility": {"children": "none"}}, "unchecked.children"),
    ({"eligibility": {"children": "under_6"}}, "unchecked.children"),
    ({"eligibility": {"mdph_unknown_required": True}}, "unchecked.mdph_unknown"),
    ({"eligibility": {"vehicle_required": "car"}}, "unchecked.vehicle"),
    ({"eligibility": {"job_takeup_required": True}}, "unchecked.job_takeup"),
    ({"eligibility": {"rsa_months_min": 24}}, "unchecked.rsa_months"),
]


@pytest.mark.parametrize(("action_kw", "warning_code"), UNKNOWN_FIELD_CASES,
                         ids=[c[1] + f"-{i}" for i, c in enumerate(UNKNOWN_FIELD_CASES)])
def test_a_field_the_profile_does_not_give_never_excludes(gazetteer, territories, action_kw,
                                                          warning_code):
    res = _run(gazetteer, territories, [make_action(**action_kw)])
    assert "test-action" in _ids(res.items)
    item = res.items[0]
    warning = next(w for w in item.warnings if w.code == warning_code)
    assert warning.label[0].isupper() and "_" not in warning.label
    # an unchecked condition costs a little, explained
    assert any(r.code == "unchecked" and r.contribution < 0 for r in item.reasons)
    assert all("_" not in u for u in res.unchecked)  # French, never a raw code


def test_children_under_6_is_unknown_from_the_bands_alone(gazetteer, territories):
    action = make_action(eligibility={"children": "under_6"})
    res = _run(gazetteer, territories, [action],
               family={"children_under_3": 0, "children_3_to_11": 1, "children_12_plus": 0})
    assert "test-action" in _ids(res.items)  # the child of 3–11 may be under 6: "À vérifier"
    assert any(w.code == "unchecked.children" for w in res.items[0].warnings)


def test_a_person_of_the_targeted_public_ranks_the_targeted_action_first(gazetteer, territories):
    generic = make_action(id="generic", freins=["qualification"])
    targeted = make_action(id="targeted", freins=["qualification"],
                           eligibility={"age_min": 16, "age_max": 25, "training_level_max": "infra3"})
    profile = {"age": 19, "training_level": "infra3", "freins": {"qualification": 3}}
    res = _run(gazetteer, territories, [generic, targeted], **profile)
    assert [i.id for i in res.items] == ["targeted", "generic"]
    public = next(r for r in res.items[0].reasons if r.code == "public")
    assert public.contribution > 0 and "les jeunes" in public.label
    assert "peu ou pas diplômées" in public.label
    # not for a person whose age is not given: no targeting bonus on a guess
    res = _run(gazetteer, territories, [generic, targeted], training_level="infra3")
    assert not any(r.code == "public" and "jeunes" in r.label
                   for i in res.items for r in i.reasons)


def test_sex_is_a_condition_but_never_a_scoring_term(gazetteer, territories):
    women = make_action(id="women", eligibility={"sex": "f"})
    res = _run(gazetteer, territories, [women], sex="f")
    assert not any(r.code == "public" for r in res.items[0].reasons)



@pytest.mark.parametrize(("code", "action_kw", "failing", "passing"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule_excludes_and_admits(gazetteer, territories, code, action_kw, failing, passing):
    action = make_action(**action_kw)
    res = _run(gazetteer, territories, [action], **failing)
    assert "test-action" not in _ids(res.items)
    assert code in _excluded_codes(res, "test-action")
    labels = [r.label for ex in res.excluded for r in ex.reasons]
    assert all(label and label[0].isupper() for label in labels)  # a French sentence, not a code
    if passing is not None:
        ok = _run(gazetteer, territories, [action], **passing)
        assert "test-action" in _ids(ok.items)
        assert not ok.excluded


def test_unknown_field_keeps_item_with_a_warning(gazetteer, territories):
    action = make_action(eligibility={"age_min": 16, "age_max": 25, "qpv_required": True})
    res = _run(gazetteer, territories, [action])  # no age, no QPV status
    assert _ids(res.items) == {"test-action"}
    codes = {w.code for w in res.items[0].warnings}
    assert {"unchecked.age", "unchecked.qpv"} <= codes
    assert any("âge" in u for u in res.unchecked)


def test_other_departement_is_never_a_candidate(gazetteer, territories):
    essonne = make_action(id="ess", territory={"department": "91", "scope": "departement"},
                          sites=[{"commune": "Évry-Courcouronnes", "insee": "91228"}])
    orne = make_action(id="orne")
    res = _run(gazetteer, territories, [essonne, orne])
    assert _ids(res.items) == {"orne"}
    assert "ess" not in {e.id for e in res.excluded}
    res91 = _run(gazetteer, territories, [essonne, orne], home={"commune": "Massy", "postcode": "91300"})
    assert _ids(res91.items) == {"ess"}


def test_mobility_action_never_excluded_for_lack_of_mobility(gazetteer, territories):
    far = make_action(id="far-mobility", category="mobilite", freins=["mobilite"],
                      sites=[{"commune": "Mortagne-au-Perche", "insee": "61293"}])
    res = _run(gazetteer, territories, [far], mobility={"driving_licence": "none", "vehicle": "none",
               "public_transport": False, "max_travel_minutes": 20}, freins={"mobilite": 3})
    assert _ids(res.items) == {"far-mobility"}
    item = res.items[0]
    assert item.travel.mode is None
    assert "travel.none" in {w.code for w in item.warnings}
