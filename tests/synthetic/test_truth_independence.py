"""The hidden truth does not read the catalogue's tags: perturb them, the truth stays put.

The catalogue's frein tags, itinerant flags and capacities feed the transparent scorer (need,
reach and capacity terms) and the coaches' logging policy; the hidden outcome model reads a
separate reading of the documents (``synthetic/data/action_effects.csv``). Shuffling those
fields across actions must change the scorer's output and leave every hidden probability
exactly as it was.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from insertion_match.matcher import columns as C
from insertion_match.matcher.evaluation import baselines
from insertion_match.synthetic import outcome_model
from insertion_match.synthetic.world import WorldConfig, build_world

CONFIG = WorldConfig(n_people=400, random_state=11)
PROBABILITIES = ["p_accept", "p_enter", "p_complete", "p_positive", "p_lasting_given_positive",
                 "p_success"]


def perturbed(catalogue, seed: int = 3):
    """The catalogue with frein tags, itinerant flags and places shuffled across actions."""
    rng = np.random.default_rng(seed)
    freins = [a.freins for a in catalogue]
    itinerant = [not a.itinerant for a in catalogue]  # flipped: shuffling alone moves few
    places = [a.places for a in catalogue]
    order_f, order_p = rng.permutation(len(catalogue)), rng.permutation(len(catalogue))
    return [a.model_copy(update={"freins": freins[i], "itinerant": itinerant[k],
                                 "places": places[j]})
            for k, (a, i, j) in enumerate(zip(catalogue, order_f, order_p, strict=True))]


@pytest.fixture(scope="module")
def worlds(gazetteer, territories, catalogue):
    original = build_world(CONFIG, gazetteer, territories, catalogue)
    shuffled = build_world(CONFIG, gazetteer, territories, perturbed(catalogue))
    return original, shuffled


def _joined(world) -> pd.DataFrame:
    frame = world.candidates[[C.PERSON_ID, C.ITEM_ID]].join(world.truth[PROBABILITIES])
    frame["transparent"] = baselines.transparent_scores(world.candidates)
    return frame.set_index([C.PERSON_ID, C.ITEM_ID]).sort_index()


def test_the_perturbation_really_changes_the_catalogue(catalogue):
    changed = perturbed(catalogue)
    assert sum(a.freins != b.freins for a, b in zip(catalogue, changed, strict=True)) > 60
    assert all(a.itinerant != b.itinerant for a, b in zip(catalogue, changed, strict=True))
    assert sum(a.places != b.places for a, b in zip(catalogue, changed, strict=True)) > 10


def test_hidden_probabilities_are_unchanged_while_the_scorer_changes(worlds):
    original, shuffled = (_joined(w) for w in worlds)
    assert original.index.equals(shuffled.index)  # same people, same eligible actions
    pd.testing.assert_frame_equal(original[PROBABILITIES], shuffled[PROBABILITIES])
    moved = ~np.isclose(original.transparent, shuffled.transparent)
    assert moved.mean() > 0.5
    # and the scorer's ranking of a person's actions changes, not only its scale
    ranks = [o.rank().corr(s.rank(), method="spearman")
             for (_, o), (_, s) in zip(original.groupby(level=0).transparent,
                                       shuffled.groupby(level=0).transparent, strict=True)]
    assert np.nanmedian(ranks) < 0.9


def test_every_catalogue_action_has_a_documented_true_effect(catalogue):
    effects = outcome_model.load_action_effects()
    assert {a.id for a in catalogue} == set(effects.index)
    assert effects.source.str.startswith("seed 00").all()
    assert (effects.basis.str.len() > 20).all()
    assert effects.base_success.between(0.05, 0.95).all()
    effect_columns = [f"effect_{d}" for d in outcome_model.DIMENSIONS]
    assert (effects[effect_columns].max(axis=1) > 0).all()
