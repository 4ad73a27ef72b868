"""The world: real eligibility, a biased logging policy, a hidden truth with interactions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insertion_match.matcher import columns as C
from insertion_match.synthetic import outcome_model
from insertion_match.synthetic.population import profile_of
from insertion_match.synthetic.world import CANDIDATE_COLUMNS, DESIGN_COLUMNS


def test_candidates_are_exactly_the_eligible_actions(small_world, engine):
    people = small_world.people.set_index(C.PERSON_ID)
    for person_id in people.index[:40]:
        row = people.loc[person_id]
        profile = profile_of({**row.to_dict(), "person_id": person_id})
        eligible = {i.id for i in engine.recommend(profile, limit=100).items}
        listed = set(small_world.candidates.loc[
            small_world.candidates[C.PERSON_ID] == person_id, C.ITEM_ID])
        # prior history (refused/abandoned) never excludes: same sets
        assert listed == eligible, person_id


def test_observable_frames_hold_no_hidden_column_and_say_synthetic(small_world):
    w = small_world
    assert list(w.candidates.columns) == list(CANDIDATE_COLUMNS) + list(DESIGN_COLUMNS)
    for frame in (w.candidates, w.logs):
        assert not [c for c in frame.columns if c.startswith(("p_", "why_"))]
        assert frame.attrs[C.SYNTHETIC] is True
    assert w.logs[C.SYNTHETIC].all() and w.people.synthetic.all()
    assert len(w.truth) == len(w.candidates) and w.truth.index.equals(w.candidates.index)


def test_logs_are_proposals_of_eligible_actions_with_consistent_outcomes(small_world):
    logs = small_world.logs
    assert logs.index.isin(small_world.candidates.index).all()
    per_person = logs.groupby(C.PERSON_ID).size()
    assert per_person.between(1, 3).all()
    assert (logs.groupby(C.PERSON_ID)[C.RANK].min() == 1).all()
    refused = logs[C.STATUS] == "refused"
    assert logs.loc[refused, C.REFUSAL_REASON].notna().all()
    assert logs.loc[~refused, C.REFUSAL_REASON].isna().all()
    exited = logs[C.STATUS] == "exited"
    assert set(logs.loc[exited, C.EXIT_KIND]) <= {"emploi_durable", "sortie_dynamique", "other"}
    success = logs[C.EXIT_KIND].isin(["emploi_durable", "sortie_dynamique"])
    assert (logs[C.LABEL] == success.astype(int)).all()


def test_the_logging_policy_prefers_near_and_familiar_actions(small_world):
    cand, logs = small_world.candidates, small_world.logs

    def effective(frame: pd.DataFrame) -> pd.Series:  # an itinerant action comes to the person
        return frame[C.TRAVEL_MINUTES].where(~frame[C.ITINERANT], 0.0).replace(np.inf, np.nan)

    assert effective(logs).median() < 0.6 * effective(cand).median()
    # concentrated: the 10 most proposed actions take a large share of all proposals
    share = logs[C.ITEM_ID].value_counts().head(10).sum() / len(logs)
    assert share > 0.4


def _pairs(**overrides) -> tuple[pd.DataFrame, pd.DataFrame]:
    base = {"item_id": "x", "category": "iae", "itinerant": False, "travel_minutes": 10.0,
            "occupancy": np.nan, "cost_eur": np.nan, "outcome_rate": np.nan, "history": 0,
            "need_total": 0.5, "main_match": 0.5, "person_row": 0}
    person = {"orientation": "sociale", "age": 40, "rsa_months": 30, "training_level": "3",
              "max_travel_minutes": 30, "children_under_3": 0, "frein_mobilite": 0,
              "frein_finances": 0, "frein_garde_enfants": 0, "frein_sante": 0,
              "frein_logement": 0, "frein_langue_francaise": 0}
    pairs = pd.DataFrame([{**base, **{k: v for k, v in overrides.items() if k in base}}])
    people = pd.DataFrame([{**person, **{k: v for k, v in overrides.items() if k in person}}])
    return pairs, people


def _p(**overrides) -> float:
    pairs, people = _pairs(**overrides)
    return float(outcome_model.outcome_probabilities(pairs, people, 0)["p_success"].iloc[0])


def test_the_hidden_model_has_interactions():
    # distance hurts more with a blocking mobility frein (need × severity × distance)
    near_free, far_free = _p(travel_minutes=5.0), _p(travel_minutes=50.0)
    near_blocked = _p(travel_minutes=5.0, frein_mobilite=3)
    far_blocked = _p(travel_minutes=50.0, frein_mobilite=3)
    assert near_blocked / far_blocked > 1.5 * (near_free / far_free)
    # orientation × category: IAE suits professional orientation, social workshops social
    assert _p(orientation="professionnelle") > _p(orientation="sociale")
    assert _p(orientation="sociale", category="insertion_sociale") > _p(
        orientation="professionnelle", category="insertion_sociale")
