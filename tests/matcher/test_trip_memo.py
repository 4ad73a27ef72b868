"""Trips from a home are memoised per position (``ActionIndex.home_trips``): the answers are
the same as computed afresh, the shared arrays cannot be changed by a request, and installing
other transit networks is never answered from trips timed with the old ones."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from insertion_match.domain import Mobility
from insertion_match.geo import Mode, transit
from tests.conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
from profiles import random_profiles


def _forget(engine) -> None:
    for index in engine.indexes.values():
        index.trips._entries.clear()


def test_memoised_trips_give_the_same_answers_as_fresh_ones(engine):
    base = random_profiles(30, ("61", "91", "72"), seed=5)
    # each home three times, with other means of travel: the memo must tell them apart
    profiles = [p.model_copy(update={"mobility": Mobility.model_validate(
                    {**p.mobility.model_dump(), **change})})
                for p in base for change in (
                    {}, {"driving_licence": "b", "vehicle": "car"},
                    {"driving_licence": "none", "vehicle": "none", "public_transport": False})]
    fresh = []
    for p in profiles:
        _forget(engine)  # every answer computed from nothing
        fresh.append(engine.recommend(p, limit=10, include_excluded=True))
    _forget(engine)
    order = np.random.default_rng(1).permutation(len(profiles))
    again = {int(i): engine.recommend(profiles[i], limit=10, include_excluded=True)
             for i in order}
    assert [again[i] for i in range(len(profiles))] == fresh
    memoised = sum(len(ix.trips) for ix in engine.indexes.values())
    assert 0 < memoised < len(profiles)  # homes shared between calls were answered from it
    assert len({(f.items, f.levers) for f in fresh}) > len(base)  # the modes changed answers


def test_memoised_arrays_are_read_only(engine):
    index = engine.indexes["61"]
    trips = index.home_trips(48.43, 0.09, (Mode.walk, Mode.public_transport))
    with pytest.raises(ValueError):
        trips.minutes[0] = 0.0
    assert trips is index.home_trips(48.43, 0.09, (Mode.walk, Mode.public_transport))
    other = index.home_trips(48.43, 0.09, (Mode.walk,))
    assert other is not trips  # other modes, other trips


def test_new_transit_networks_are_not_answered_from_old_trips(engine, monkeypatch):
    index = engine.indexes["61"]
    modes = (Mode.walk, Mode.public_transport)
    before = index.home_trips(48.60, -0.57, modes)
    monkeypatch.setattr(transit, "_ACTIVE", transit.active_networks())
    transit.install_networks(list(transit.active_networks()))  # same networks, new generation
    after = index.home_trips(48.60, -0.57, modes)
    assert after is not before
    np.testing.assert_array_equal(after.minutes, before.minutes)


def test_the_memo_is_bounded():
    from insertion_match.features.action_index import HomeTrips, TripMemo

    memo = TripMemo(size=8)
    empty = np.empty(0)
    for k in range(30):
        memo.put((k,), HomeTrips(empty.copy(), empty.copy(), empty.copy(),
                                 np.empty(0, dtype=np.int64), np.empty(0, dtype=object)))
    assert len(memo) <= 8
    assert memo.get((29,)) is not None and memo.get((0,)) is None
