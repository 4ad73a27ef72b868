"""Pairwise features of (person, offer) pairs, vectorised with numpy broadcasting.

Either side may hold one element: one person × n offers (the forward question) or m people ×
one offer (the reverse question, ``GET /v1/opportunities/{id}/candidates``). Every array of
:class:`PairFeatures` has one entry per pair, N = max(m, n). Nothing here decides or scores:
the walls are in ``matcher/opportunity_eligibility.py``, the weights in
``matcher/opportunity_scoring.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from insertion_match.features.opportunity_index import OfferArrays
from insertion_match.features.people import MODES, PeopleArrays
from insertion_match.features.skills import (
    COVER_SHARE,
    coverage_one_offer,
    coverage_one_person,
)
from insertion_match.geo import MIN_TRIP_KM, Mode, haversine_km, travel_minutes
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


def _capped(stacked: np.ndarray) -> np.ndarray:
    for i, mode in enumerate(MODES):
        if mode in MAX_MINUTES:
            stacked[i] = np.where(stacked[i] > MAX_MINUTES[mode], np.inf, stacked[i])
    return stacked


def mode_minutes(distance: np.ndarray) -> np.ndarray:
    """(len(MODES), N) minutes by each mode for crow-fly ``distance`` (inf beyond a mode's
    cap), whether or not the person can use it, by the estimate of ``geo.travel`` (no
    timetables: the reach radius is bounded with it)."""
    trip = np.maximum(distance, MIN_TRIP_KM)
    return _capped(np.stack([travel_minutes(trip, mode) for mode in MODES]))


def mode_minutes_at(
    olat: np.ndarray, olon: np.ndarray, dlat: np.ndarray, dlon: np.ndarray,
    distance: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`mode_minutes` between positions, public transport by a feed's timetables where
    one covers the trip (``geo.travel.mode_minutes_between``); with the source of each
    public-transport time ("estimate" or "gtfs:NAME")."""
    stacked, source = mode_minutes_between(olat, olon, dlat, dlon, MODES, distance_km=distance)
    return _capped(np.array(stacked, dtype=float)), source


def best_mode(stacked: np.ndarray, people: PeopleArrays) -> tuple[np.ndarray, np.ndarray]:
    """(minutes by the fastest usable mode, its index or -1) from :func:`mode_minutes`."""
    n = stacked.shape[1]
    if people.modes.shape[0] == 1:  # one person: the rows of their modes only (same answer)
        rows = np.flatnonzero(people.modes[0])
        if not rows.size:
            return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
        sub = stacked[rows]
        k = np.argmin(sub, axis=0)
        minutes = np.take_along_axis(sub, k[np.newaxis], axis=0)[0]
        return minutes, np.where(np.isfinite(minutes), rows[k], -1).astype(np.int64)
    usable = np.broadcast_to(people.modes, (n, len(MODES))).T
    stacked = np.where(usable, stacked, np.inf)
    mode = np.argmin(stacked, axis=0)
    minutes = np.take_along_axis(stacked, mode[np.newaxis], axis=0)[0]
    mode = np.where(np.isfinite(minutes), mode, -1)
    return minutes, mode.astype(np.int64)


def travel(people: PeopleArrays, offers: OfferArrays) -> tuple[np.ndarray, ...]:
    """(distance_km, minutes, mode index, car minutes, public-transport source) for every
    pair; public transport by a feed's timetables where one covers the trip (geo.travel)."""
    n = _size(people, offers)
    distance = np.broadcast_to(haversine_km(people.lat, people.lon, offers.lat, offers.lon), (n,))
    stacked, pt_source = mode_minutes_at(people.lat, people.lon, offers.lat, offers.lon, distance)
    car = stacked[_CAR].copy()
    minutes, mode = best_mode(stacked, people)
    return np.asarray(distance, float), minutes, mode, car, np.broadcast_to(pt_source, (n,))


def max_reach_km(max_minutes: float) -> float:
    """Crow-fly km beyond which no mode (``geo.travel`` times) arrives within ``max_minutes``:
    times grow with distance, so the largest distance some mode covers in time bounds them."""
    return _max_reach_km(float(max_minutes))


@lru_cache(maxsize=256)
def _max_reach_km(max_minutes: float) -> float:
    lo, hi = 0.0, 2000.0
    for _ in range(60):  # bisection on the fastest mode's time at each distance
        mid = (lo + hi) / 2
        if mode_minutes(np.array([mid])).min() <= max_minutes:
            lo = mid
        else:
            hi = mid
    return hi + 0.01


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


def pair_features(people: PeopleArrays, offers: OfferArrays, history: np.ndarray,
                  trip: tuple[np.ndarray, ...] | None = None,
                  skills: np.ndarray | None = None) -> PairFeatures:
    """All pairwise features; ``history`` (N,) int8 is given by the caller (it knows the ids).
    ``trip`` (the result of :func:`travel`) and ``skills`` may be given when already known."""
    n = _size(people, offers)
    distance, minutes, mode, car, pt_source = (
        trip if trip is not None else travel(people, offers))
    level, which = rome_proximity(people, offers)
    with np.errstate(invalid="ignore"):
        gap = np.broadcast_to(offers.training_level - people.level, (n,))
        hours_gap = np.broadcast_to(offers.hours - people.hours, (n,))
    return PairFeatures(
        distance_km=distance, minutes=minutes, mode=mode, car_minutes=car,
        proximity_level=level, matched_target=which,
        skills=skills if skills is not None else skills_overlap(people, offers),
        training_gap=np.asarray(gap, float), hours_gap=np.asarray(hours_gap, float),
        history=history, travel_source=pt_source,
    )


def skills_one_person(
    token_ids: np.ndarray, vocab: np.ndarray, skill_count: np.ndarray,
    skill_tok_count: np.ndarray, person_tokens: np.ndarray, known: bool,
) -> np.ndarray:
    """:func:`skills_overlap` for one person over offers whose tokens are given as positions
    in a sorted ``vocab`` (one lookup per token instead of a set test): the same numbers."""
    n = skill_count.shape[0]
    out = np.full(n, np.nan)
    if not known or skill_tok_count.size == 0:
        return out
    flag = np.zeros(vocab.shape[0] + 1, dtype=bool)
    if person_tokens.size and vocab.size:
        at = np.minimum(np.searchsorted(vocab, person_tokens), vocab.shape[0] - 1)
        flag[at[vocab[at] == person_tokens]] = True
    hits = flag[token_ids].astype(float)
    tok_start = np.zeros(skill_tok_count.shape[0], dtype=np.int64)
    np.cumsum(skill_tok_count[:-1], out=tok_start[1:])
    per_skill = np.add.reduceat(hits, tok_start) / skill_tok_count
    covered = (per_skill >= COVER_SHARE).astype(float)
    has = skill_count > 0
    start = np.zeros(n, dtype=np.int64)
    np.cumsum(skill_count[:-1], out=start[1:])
    sums = np.add.reduceat(covered, start[has]) if has.any() else np.empty(0)
    out[has] = sums / skill_count[has]
    return out
