"""Pairwise features of (person, offer) pairs, vectorised with numpy broadcasting.

Either side may hold one element: one person × n offers (the forward question) or m people ×
one offer (the reverse question, ``GET /v1/opportunities/{id}/candidates``). Every array of
:class:`PairFeatures` has one entry per pair, N = max(m, n). Nothing here decides or scores:
the walls are in ``matcher/opportunity_eligibility.py``, the weights in
``matcher/opportunity_scoring.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from insertion_match.features.opportunity_index import OfferArrays
from insertion_match.features.people import MODES, PeopleArrays
from insertion_match.features.skills import coverage_one_offer, coverage_one_person
from insertion_match.geo import Mode, haversine_km
from insertion_match.geo.travel import MAX_MINUTES, mode_minutes_between

#: ROME proximity by level: 4 same fiche, 3 same ROME v3 fiche (a v4 split of it), 2 same
#: domaine professionnel, 1 same grand domaine, 0 unrelated.
PROXIMITY = np.array([0.0, 0.2, 0.5, 0.8, 1.0])
_CAR = MODES.index(Mode.car)


@dataclass(frozen=True)
class PairFeatures:
    distance_km: np.ndarray
    minutes: np.ndarray  # by the fastest of the person's own modes; inf when none
    mode: np.ndarray  # int index into people.MODES, -1 none
    car_minutes: np.ndarray  # by car, whether or not the person has one
    proximity_level: np.ndarray  # int8 0..4, -1 unknown (no recognised target, or no ROME)
    matched_target: np.ndarray  # int: which target job matched best, -1 none
    skills: np.ndarray  # 0..1, NaN unknown
    training_gap: np.ndarray  # offer level − person level, NaN unknown or none asked
    hours_gap: np.ndarray  # offer hours − available hours, NaN unknown
    history: np.ndarray  # int8: 0 none, 1 refused, 2 abandoned, 3 done, 4 ongoing
    travel_source: np.ndarray | None = None  # of the public-transport time: "estimate" |
    # "gtfs:NAME" (whatever the fastest mode; read it where ``mode`` is public transport)

    @property
    def proximity(self) -> np.ndarray:
        return np.where(self.proximity_level >= 0, PROXIMITY[np.maximum(self.proximity_level, 0)],
                        np.nan)


def _size(people: PeopleArrays, offers: OfferArrays) -> int:
    m, n = len(people), len(offers)
    if m > 1 and n > 1:
        raise ValueError(f"one side must hold one element, got {m} people × {n} offers")
    return m * n


def travel(people: PeopleArrays, offers: OfferArrays) -> tuple[np.ndarray, ...]:
    """(distance_km, minutes, mode index, car minutes, public-transport source) for every
    pair; public transport by a feed's timetables where one covers the trip (geo.travel)."""
    n = _size(people, offers)
    distance = np.broadcast_to(haversine_km(people.lat, people.lon, offers.lat, offers.lon), (n,))
    stacked, pt_source = mode_minutes_between(people.lat, people.lon, offers.lat, offers.lon,
                                              MODES, distance_km=distance)
    for i, mode in enumerate(MODES):
        if mode in MAX_MINUTES:
            stacked[i] = np.where(stacked[i] > MAX_MINUTES[mode], np.inf, stacked[i])
    car = stacked[_CAR].copy()
    usable = np.broadcast_to(people.modes, (n, len(MODES))).T
    stacked = np.where(usable, stacked, np.inf)
    mode = np.argmin(stacked, axis=0)
    minutes = np.take_along_axis(stacked, mode[np.newaxis], axis=0)[0]
    mode = np.where(np.isfinite(minutes), mode, -1)
    return np.asarray(distance, float), minutes, mode.astype(np.int64), car, pt_source


def rome_proximity(people: PeopleArrays, offers: OfferArrays) -> tuple[np.ndarray, np.ndarray]:
    """(level 0..4 or -1 unknown, index of the best-matching target) for every pair."""
    n = _size(people, offers)
    valid = people.target_pos >= 0  # (m, T)

    def o(a: np.ndarray) -> np.ndarray:  # offers along the first axis
        return a[:, np.newaxis]

    level = np.select(
        [o(offers.rome_pos) == people.target_pos, o(offers.rome_v3) == people.target_v3,
         o(offers.rome_dp) == people.target_dp, o(offers.rome_gd) == people.target_gd],
        [4, 3, 2, 1], 0)
    level = np.where(valid, level, -1)
    level = np.broadcast_to(level, (n, level.shape[1]))
    best = level.max(axis=1) if level.shape[1] else np.full(n, -1)
    which = np.where(best >= 0, level.argmax(axis=1) if level.shape[1] else -1, -1)
    offer_has = np.broadcast_to(offers.rome_pos >= 0, (n,))
    best = np.where(offer_has, best, -1)
    return best.astype(np.int8), which.astype(np.int64)


def skills_overlap(people: PeopleArrays, offers: OfferArrays) -> np.ndarray:
    if len(people) == 1:
        return coverage_one_person(
            offers.tokens, offers.skill_start, offers.skill_count, offers.skill_tok_start,
            offers.skill_tok_count, people.skill_tokens, bool(people.skills_known[0]))
    skills = [offers.tokens[s: s + c]
              for s, c in zip(offers.skill_tok_start.tolist(), offers.skill_tok_count.tolist(),
                              strict=True)]
    return coverage_one_offer(skills, people.skill_tokens, people.token_owner,
                              people.skills_known)


def pair_features(people: PeopleArrays, offers: OfferArrays, history: np.ndarray) -> PairFeatures:
    """All pairwise features; ``history`` (N,) int8 is given by the caller (it knows the ids)."""
    n = _size(people, offers)
    distance, minutes, mode, car, pt_source = travel(people, offers)
    level, which = rome_proximity(people, offers)
    with np.errstate(invalid="ignore"):
        gap = np.broadcast_to(offers.training_level - people.level, (n,))
        hours_gap = np.broadcast_to(offers.hours - people.hours, (n,))
    return PairFeatures(
        distance_km=distance, minutes=minutes, mode=mode, car_minutes=car,
        proximity_level=level, matched_target=which, skills=skills_overlap(people, offers),
        training_gap=np.asarray(gap, float), hours_gap=np.asarray(hours_gap, float),
        history=history, travel_source=pt_source,
    )
