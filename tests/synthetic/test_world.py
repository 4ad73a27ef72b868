"""The world: real eligibility, a biased logging policy, a hidden truth with interactions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from insertion_match.matcher import columns as C
from insertion_match.synthetic import outcome_model
from insertion_match.synthetic.population import profile_of
from insertion_match.synthetic.world import CANDIDATE_COLUMNS, DESIGN_COLUMNS


def test_candidates_are_exactly_the_eligible_actions(small_world, engine):
    people = small_world.people.set_index(C.PERSON_ID)
    for person_id in people.index[:40]:
        row = people.loc[person_id]
        profile = profile_of({**row.to_dict(), "person_id": person_id})
        res = engine.recommend(profile, limit=100, include_excluded=True)
        eligible = {a.id for a in engine.actions
                    if a.territory.department == res.home_insee[:2]} - {e.id for e in res.excluded}
        listed = set(small_world.candidates.loc[
            small_world.candidates[C.PERSON_ID] == person_id, C.ITEM_ID])
        # every eligible action, listed or not (the engine lists only those that work on the
        # person's freins); prior history (refused/abandoned) never excludes: same sets
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

    assert effective(logs).median() < 0.75 * effective(cand).median()
    # concentrated: the 10 most proposed actions take a large share of all proposals
    share = logs[C.ITEM_ID].value_counts().head(10).sum() / len(logs)
    assert share > 0.4


EFFECTS = outcome_model.load_action_effects()
PERSON = {"orientation": "sociale", "age": 40, "rsa_months": 30, "training_level": "3",
          "max_travel_minutes": 30, "car": False, "driving_licence": "none", "vehicle": "none",
          "public_transport": True, "children_under_3": 0, "children_3_to_11": 0,
          "foreign_newcomer": False, "independent_worker": False, "farmer": False,
          "history_item": None, "history_status": None}


def _p(item: str = "sarthe-aci", km: float = 2.0, **overrides) -> float:
    """p_success of one person × action; overrides of person facts or ``need_<dim>`` values."""
    pairs = pd.DataFrame([{"item_id": item, "distance_km": km, "person_row": 0}])
    people = pd.DataFrame([{**PERSON, **{k: v for k, v in overrides.items() if k in PERSON}}])
    latent = pd.DataFrame([{c: overrides.get(c, 0.0) for c in outcome_model.LATENT_COLUMNS}])
    return float(outcome_model.outcome_probabilities(pairs, people, latent, EFFECTS,
                                                     0)["p_success"].iloc[0])


def test_the_hidden_model_has_interactions():
    # distance hurts more with a true mobility need (need × distance)
    near_free, far_free = _p(km=1.0), _p(km=15.0)
    near_blocked, far_blocked = _p(km=1.0, need_mobility=1.0), _p(km=15.0, need_mobility=1.0)
    assert near_blocked / far_blocked > 1.5 * (near_free / far_free)
    # an action that comes to the person: distance does not matter
    garage = "flers-mobylis-garage-itinerant"
    assert _p(garage, km=1.0) == pytest.approx(_p(garage, km=40.0))
    # orientation × kind: work suits professional orientation, social paths social
    assert _p(orientation="professionnelle") > _p(orientation="sociale")
    social = "sarthe-depart-projet"
    assert _p(social, orientation="sociale", need_social=1.0) > _p(
        social, orientation="professionnelle", need_social=1.0)
    # the action's true effect × the person's true need
    assert _p(social, need_social=1.0) > _p(social, need_social=0.0)
    # who it works for: the self-employed action works for the self-employed
    crea = "sarthe-depart-crea"
    assert _p(crea, independent_worker=True, need_self_employment=1.0) > 2 * _p(crea)
