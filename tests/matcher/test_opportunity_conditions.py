"""Offers share the actions' condition vocabulary where an offer states the condition (issue 8):
a training level exigé, the apprenticeship age bound; and their levers offer only what the
person lacks. Offers are real France Travail "offres d'emploi v2" records."""

from __future__ import annotations

import pytest

from insertion_match.features.offers_import import parse_france_travail
from insertion_match.matcher.engine import MatchingEngine
from tests.conftest import make_profile


def _ft(offer_id: str, **extra) -> dict:
    record = {
        "id": offer_id, "intitule": "Agent d'entretien de locaux (H/F)", "romeCode": "K2204",
        "lieuTravail": {"libelle": "61 - FLERS", "commune": "61169", "codePostal": "61100"},
        "typeContrat": "CDI", "dureeTravailLibelle": "35H Horaires normaux",
        "dateCreation": "2026-11-20T10:00:00.000Z",
    }
    record.update(extra)
    return record


@pytest.fixture(scope="module")
def engine_with(catalogue, gazetteer, territories, rome):
    def build(*records: dict) -> MatchingEngine:
        batch = parse_france_travail(list(records), gazetteer, rome, "test")
        assert not batch.rejected, batch.rejected
        return MatchingEngine.build(catalogue, gazetteer, territories, rome=rome,
                                    opportunities=batch.opportunities)
    return build


def _run(engine, **profile):
    base = {"mobility": {"driving_licence": "b", "vehicle": "car", "max_travel_minutes": 45}}
    base.update(profile)
    return engine.recommend(make_profile(**base), kinds=["job"], limit=10, include_excluded=True)


def _excluded(res, offer_id):
    return {r.code for e in res.excluded if e.id == offer_id for r in e.reasons}


def test_a_required_training_level_is_a_wall(engine_with):
    engine = engine_with(_ft("T1", formations=[{"niveauLibelle": "Bac ou équivalent",
                                                 "exigence": "E"}]))
    low = _run(engine, training_level="3")
    assert "test:T1" not in {i.id for i in low.items}
    assert "eligibility.training_level" in _excluded(low, "test:T1")
    label = next(r.label for e in low.excluded for r in e.reasons
                 if r.code == "eligibility.training_level")
    assert label == "Niveau de formation exigé : bac (niveau 4)"
    assert "test:T1" in {i.id for i in _run(engine, training_level="5").items}
    unknown = _run(engine)  # not said: kept, with a warning
    item = next(i for i in unknown.items if i.id == "test:T1")
    assert any(w.code == "unchecked.training_level" for w in item.warnings)


def test_a_wished_training_level_is_not_a_wall(engine_with):
    engine = engine_with(_ft("T2", formations=[{"niveauLibelle": "Bac ou équivalent",
                                                 "exigence": "S"}]))
    assert "test:T2" in {i.id for i in _run(engine, training_level="infra3").items}


def test_apprenticeship_is_for_16_to_29_unless_rqth(engine_with):
    engine = engine_with(_ft("A1", typeContrat="APP", typeContratLibelle="Apprentissage"))
    old = _run(engine, age=41)
    assert "eligibility.age" in _excluded(old, "test:A1")
    assert "test:A1" in {i.id for i in _run(engine, age=24).items}
    assert "test:A1" in {i.id for i in _run(engine, age=41, status={"rqth": True}).items}


def test_job_levers_offer_only_what_the_person_lacks(engine_with):
    far = _ft("F1", lieuTravail={"libelle": "61 - LA FERTE MACE", "commune": "61168",
                                 "codePostal": "61600"})
    engine = engine_with(far)
    holder = engine.recommend(make_profile(mobility={
        "driving_licence": "b", "vehicle": "none", "public_transport": False,
        "max_travel_minutes": 40}), kinds=["job"], limit=10)
    phrases = [lv.label.split(" :")[0] for lv in holder.levers if lv.frein == "mobilite"]
    assert phrases == ["Avec un véhicule"]
    lever = next(lv for lv in holder.levers if lv.frein == "mobilite")
    assert lever.change == "vehicle" and lever.items == ("test:F1",)
    nothing = engine.recommend(make_profile(mobility={
        "driving_licence": "none", "vehicle": "none", "public_transport": False,
        "max_travel_minutes": 40}), kinds=["job"], limit=10)
    assert {lv.label.split(" :")[0] for lv in nothing.levers if lv.frein == "mobilite"} == {
        "Avec le permis B et un véhicule"}
