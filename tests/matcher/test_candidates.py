"""Reverse matching: the people for one offer, with the forward ranking's scores and reasons."""

from __future__ import annotations

import numpy as np

from insertion_match.features.people import PersonRecord, build_people, resolve_targets
from insertion_match.matcher.candidates import Scope, rank_candidates
from tests.conftest import make_profile

PROFILES = [
    {"id": "flers-car", "target_jobs": ["agent d'entretien"],
     "mobility": {"driving_licence": "b", "vehicle": "car", "max_travel_minutes": 40}},
    {"id": "flers-bus", "target_jobs": ["K2205"], "skills": ["nettoyage des locaux"],
     "mobility": {"driving_licence": "none", "vehicle": "none", "public_transport": True}},
    {"id": "flers-walk", "mobility": {"driving_licence": "none", "vehicle": "none",
                                      "public_transport": False, "max_travel_minutes": 15}},
    {"id": "alencon", "home": {"commune": "Alençon"}, "target_jobs": ["cariste"],
     "mobility": {"driving_licence": "b", "vehicle": "car"}},
    {"id": "evry", "home": {"commune": "Évry-Courcouronnes"}},
]


def _people(offers_engine):
    records = []
    for extra in PROFILES:
        profile = make_profile(**{"home": {"commune": "Flers", "postcode": "61100"}, **extra})
        home = offers_engine.locate(profile)
        records.append(PersonRecord(profile, home,
                                    offers_engine.territories.commission_of(home.insee),
                                    resolve_targets(profile, offers_engine.rome)))
    return records, build_people(records, offers_engine.rome)


def _an_offer_near_flers(offers_engine, **where):
    index = offers_engine.opportunity_indexes["61"]
    for pos, opp in enumerate(index.opportunities):
        if opp.location.insee == "61169" and opp.kind == "job" and all(
                getattr(opp, k) == v for k, v in where.items()):
            return index, pos
    raise AssertionError("no such demo offer in Flers")


def test_same_scores_and_reasons_as_the_forward_ranking(offers_engine):
    records, people = _people(offers_engine)
    index, pos = _an_offer_near_flers(offers_engine, rome_code="K2204")
    offer_id = index.opportunities[pos].id
    result = rank_candidates(index, pos, people, offers_engine.opportunity_scorer, Scope(),
                             limit=10, include_excluded=True)
    assert result.items
    for item in result.items:
        record = next(r for r in records if r.profile.id == item.beneficiary_id)
        forward = offers_engine.recommend(record.profile, kinds=["job"], limit=100)
        same = next(i for i in forward.items if i.id == offer_id)
        # The forward list adds a diversity term that depends on what is shown above the offer
        # in that person's list; every other term is the same pairwise computation both ways.
        pairwise = [r for r in same.reasons if not r.code.startswith("diversity.")]
        assert round(sum(r.contribution for r in pairwise), 4) == item.score
        assert [(r.code, r.label) for r in pairwise] == [(r.code, r.label)
                                                         for r in item.reasons]
    scores = [i.score for i in result.items]
    assert scores == sorted(scores, reverse=True)
    assert result.items[0].beneficiary_id in {"flers-car", "flers-bus"}  # target job matches
    excluded = {e.beneficiary_id: e for e in result.excluded}
    assert "evry" in excluded  # 200 km away
    assert excluded["evry"].reasons[0].code == "eligibility.travel"
    assert result.candidates == len(records) and result.eligible == len(result.items)


def test_licence_wall_and_scope(offers_engine):
    _, people = _people(offers_engine)
    index, pos = next(
        (ix, p) for ix in [offers_engine.opportunity_indexes["61"]]
        for p, o in enumerate(ix.opportunities)
        if o.location.insee == "61169" and any(lic.category == "B" and lic.required
                                               for lic in o.licences))
    result = rank_candidates(index, pos, people, offers_engine.opportunity_scorer, Scope(),
                             include_excluded=True)
    shown = {i.beneficiary_id for i in result.items}
    assert not shown & {"flers-bus", "flers-walk"}
    reasons = {e.beneficiary_id: {r.code for r in e.reasons} for e in result.excluded}
    assert "eligibility.driving_licence" in reasons["flers-bus"]
    only_91 = rank_candidates(index, pos, people, offers_engine.opportunity_scorer,
                              Scope(departments=frozenset({"91"})), include_excluded=True)
    assert only_91.candidates == 1 and not only_91.items
    assert [e.beneficiary_id for e in only_91.excluded] == ["evry"]
    nobody = Scope(territories=())
    assert rank_candidates(index, pos, people, offers_engine.opportunity_scorer,
                           nobody).candidates == 0
    flers = Scope(territories=(("61", "Flers"),))
    assert rank_candidates(index, pos, people, offers_engine.opportunity_scorer,
                           flers).candidates == 3
    assert np.array_equal(Scope().mask(people), np.ones(len(people), bool))


def test_no_stored_people(offers_engine):
    index = offers_engine.opportunity_indexes["61"]
    empty = build_people([], offers_engine.rome)
    result = rank_candidates(index, 0, empty, offers_engine.opportunity_scorer, Scope(),
                             include_excluded=True)
    assert (result.candidates, result.eligible, result.items, result.excluded) == (0, 0, (), ())
