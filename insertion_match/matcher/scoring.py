"""Additive scoring: a pure design matrix of named term values, and weights over it.

Two steps, both pure and vectorised over the actions of one département:

1. :func:`term_features` builds the **design matrix** ``X`` (n actions × p named columns) of
   *unweighted* term values from :class:`ActionFeatures`. Each column belongs to one explanation
   term (``Design.terms``); a term may group several columns (``readiness`` = alignment and prior
   blocking frein; ``history`` = refused and abandoned).
2. A scorer multiplies the columns by weights. The contribution of a term is the sum of its
   columns' ``weight × value``; the score is exactly the sum of the contributions, so every
   explanation adds up to the score shown (:func:`additive_score`).

The :class:`TransparentScorer` uses fixed, documented weights (below). A learned model
(``matcher/learning``) fits weights over the same columns plus the documented extension columns
(``extended=True``), and a ``base`` term for its intercept, in logit space.

Columns and the transparent weights (defaults of :class:`ScorerWeights`):

=========================  ============================================  =======================
column (term)              unweighted value                              transparent weight
=========================  ============================================  =======================
``frein.<key>``            ``severity/3 × w`` for every frein the        ``need_weight``
                           action addresses (w = 1.0 for its main
                           frein; 0.5/sqrt(m) for each of its m other
                           freins)
``reach``                  ``1 − minutes / max_minutes``, floored at     ``reach_weight``
                           ``unreachable_penalty / reach_weight``
                           (−2/3; also when no own mode gets there);
                           comes to the person (itinerant, at home,
                           by dossier): 1 when reaching a site is hard
                           for this person (features.hard_to_reach),
                           else 0.5 — no advantage without a need;
                           sites à préciser: 0.5 (no trip invented);
                           only at a distance (telephone, online) for a
                           person with a real or blocking digital
                           frein: 0;
                           a mobility action is never below 0
``public``                 1 when the action is made for the person's    ``public_weight``
                           precise public (a targeting condition the
                           person is known to meet: new entrants, 16–25,
                           no diploma, independent workers, farmers,
                           newcomers, QPV, RQTH…; matcher.eligibility
                           .public_fit)
``unchecked``              number of the action's conditions the         ``−unchecked_penalty``
                           profile leaves unchecked (at most 2)
``capacity``               ``min(occupancy − 1, 1)`` when above 100 %    ``−capacity_weight``
``readiness.alignment``    orientation/category alignment, 0..1          ``readiness_weight``
(``readiness``)
``readiness.prior_block``  1 when a blocking health, housing or          ``−readiness_weight``
(``readiness``)            language frein comes before work/training
``history.refused``        1 when already refused                        ``−refused_penalty``
(``history``)
``history.abandoned``      1 when already abandoned                      ``−abandoned_penalty``
(``history``)
``outcome``                last known rate of positive exits (0 if       ``outcome_weight``
                           unknown)
``cost``                   1 when the person has to pay something        ``−cost_penalty``
=========================  ============================================  =======================

A person with a blocking mobility frein gets +0.30 from an action whose main aim is mobility.
Reach is a cost, never a wall, for actions (DESIGN §11).

Extension columns (``extended=True``, learned models only; each has a French reason label in
``matcher/explain.py``):

=========================  ===================================================================
``fit_reach`` (term        ``Σ frein.* × reach``: need fit that can actually be reached
``fit_reach``)
``category.<category>``    1 for the action's category (one column per ``ActionCategory``)
(term ``category``)
=========================  ===================================================================

:data:`DESIGN_VERSION` changes whenever a column's definition changes: a learned model records it
and is refused at load time by another version.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from insertion_match.domain import FREINS, ActionCategory, HistoryCode
from insertion_match.features.action_features import ActionFeatures

#: Version of the column definitions below; bump on any change of meaning.
DESIGN_VERSION = "2"

OTHER_TERMS: tuple[str, ...] = ("reach", "public", "capacity", "readiness", "history", "outcome",
                                 "cost", "unchecked")
FREIN_TERMS: tuple[str, ...] = tuple(f"frein.{k}" for k in FREINS)
TERMS: tuple[str, ...] = FREIN_TERMS + OTHER_TERMS

#: Terms of the extension columns and of a learned model's intercept.
EXTENSION_TERMS: tuple[str, ...] = ("fit_reach", "category")
BASE_TERM = "base"

CATEGORIES: tuple[str, ...] = tuple(c.value for c in ActionCategory)

#: (column, term) of the base design, in order.
BASE_COLUMNS: tuple[tuple[str, str], ...] = (
    *((t, t) for t in FREIN_TERMS),
    ("reach", "reach"),
    ("public", "public"),
    ("capacity", "capacity"),
    ("readiness.alignment", "readiness"),
    ("readiness.prior_block", "readiness"),
    ("history.refused", "history"),
    ("history.abandoned", "history"),
    ("outcome", "outcome"),
    ("cost", "cost"),
    ("unchecked", "unchecked"),
)
EXTENSION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("fit_reach", "fit_reach"),
    *((f"category.{c}", "category") for c in CATEGORIES),
)

#: ``unreachable_penalty / reach_weight`` of the default weights: the lowest reach value.
REACH_FLOOR = -0.10 / 0.15

#: plain ints: comparing numpy values with an IntEnum member makes numpy probe the enum
#: class for array protocols, through the slow EnumType.__getattr__, at every comparison
_REFUSED, _ABANDONED = int(HistoryCode.refused), int(HistoryCode.abandoned)


@dataclass(frozen=True)
class Design:
    """The design matrix of one request (or of a training set): named columns, grouped in terms.

    ``term_of[j]`` is the position in ``terms`` of column ``j``'s term.
    """

    columns: tuple[str, ...]
    values: np.ndarray  # (n, p) float
    terms: tuple[str, ...]
    term_of: np.ndarray  # (p,) int

    def grouping(self) -> np.ndarray:
        """The (p, T) 0/1 matrix that sums columns into their terms."""
        g = np.zeros((len(self.columns), len(self.terms)))
        g[np.arange(len(self.columns)), self.term_of] = 1.0
        return g


def design_layout(extended: bool = False) -> tuple[tuple[str, ...], tuple[str, ...], np.ndarray]:
    """Columns, terms and column → term positions of the (extended) design."""
    pairs = BASE_COLUMNS + (EXTENSION_COLUMNS if extended else ())
    terms = TERMS + (EXTENSION_TERMS if extended else ())
    position = {t: i for i, t in enumerate(terms)}
    return (tuple(c for c, _ in pairs), terms,
            np.array([position[t] for _, t in pairs], dtype=np.int64))


#: Reach value of an action that needs no trip estimate when that is no particular advantage to
#: the person (comes to them but they travel easily; sites still to be specified).
NEUTRAL_REACH = 0.5
#: ``reach`` of an action delivered only at a distance for a person with a real or blocking
#: digital frein: like a site at the limit of the time they accept.
REMOTE_DIGITAL_REACH = 0.0
#: At most this many unchecked conditions count in the ``unchecked`` column.
MAX_UNCHECKED = 2.0


def reach_values(f: ActionFeatures, max_minutes: float, reach_floor: float = REACH_FLOOR) -> np.ndarray:
    """The unweighted ``reach`` column (see the module table)."""
    if max_minutes > 0:
        with np.errstate(invalid="ignore"):
            raw = 1.0 - f.travel_minutes / max_minutes
    else:
        raw = np.where(f.travel_minutes <= 0, 1.0, reach_floor)
    reach = np.where(np.isfinite(raw), raw, reach_floor)
    reach = np.maximum(reach, reach_floor)
    if f.mobility_aim is not None:
        # Mobility actions exist for people who cannot travel (DESIGN §11): being hard to reach
        # by the person's own means is not held against them; the référent organises the trip.
        reach = np.where(f.mobility_aim, np.maximum(reach, 0.0), reach)
    reach = np.where(f.itinerant, 1.0 if f.hard_to_reach else NEUTRAL_REACH, reach)
    if f.remote is not None and f.digital_hard:
        # only at a distance (telephone, online) for a person whose digital frein is real or
        # blocking: no trip, but no easier than a site at the limit of their travel time
        reach = np.where(f.remote, REMOTE_DIGITAL_REACH, reach)
    for no_trip in (f.by_dossier, f.sites_unknown):
        if no_trip is not None:
            reach = np.where(no_trip, NEUTRAL_REACH, reach)
    return reach


def term_features(
    f: ActionFeatures, max_minutes: float, *, reach_floor: float = REACH_FLOOR,
    extended: bool = False,
) -> Design:
    """The design matrix of the actions described by ``f`` (unweighted values, see the table).

    Pure: no I/O, no weights. ``extended`` appends the extension columns; they need
    ``f.category``.
    """
    n = f.need.shape[0]
    columns, terms, term_of = design_layout(extended)
    reach = reach_values(f, max_minutes, reach_floor)
    capacity = np.clip(np.nan_to_num(f.occupancy, nan=1.0) - 1.0, 0.0, 1.0)
    public = np.zeros(n) if f.public_fit is None else np.minimum(f.public_fit, 1.0)
    unchecked = np.zeros(n) if f.unchecked is None else np.minimum(f.unchecked, MAX_UNCHECKED)
    other = [
        reach,
        public,
        capacity,
        np.asarray(f.alignment, dtype=float),
        np.asarray(f.prior_frein_block, dtype=float),
        (f.history == _REFUSED).astype(float),
        (f.history == _ABANDONED).astype(float),
        np.nan_to_num(f.outcome_rate, nan=0.0),
        (np.nan_to_num(f.cost_eur, nan=0.0) > 0).astype(float),
        unchecked,
    ]
    blocks = [f.need, np.column_stack(other) if n else np.zeros((0, len(other)))]
    if extended:
        if f.category is None:
            raise ValueError("extended design needs ActionFeatures.category")
        fit_reach = f.need.sum(axis=1) * reach
        onehot = (np.asarray(f.category)[:, np.newaxis] == np.array(CATEGORIES)).astype(float)
        blocks += [fit_reach[:, np.newaxis], onehot.reshape(n, len(CATEGORIES))]
    values = np.hstack(blocks)
    return Design(columns=columns, values=values, terms=terms, term_of=term_of)


@dataclass(frozen=True)
class Scored:
    contributions: np.ndarray  # (n, len(terms))
    scores: np.ndarray  # (n,) == contributions.sum(axis=1)
    terms: tuple[str, ...] = TERMS


def additive_score(design: Design, weights: np.ndarray, base: float | None = None) -> Scored:
    """Contributions per term (``Σ weight × value`` of its columns) and their exact row sum.

    With ``base``, a constant ``base`` term is appended (a learned model's intercept).
    """
    contributions = (design.values * weights[np.newaxis, :]) @ design.grouping()
    terms = design.terms
    if base is not None:
        contributions = np.hstack([contributions, np.full((contributions.shape[0], 1), base)])
        terms = terms + (BASE_TERM,)
    return Scored(contributions=contributions, scores=contributions.sum(axis=1), terms=terms)


@runtime_checkable
class Scorer(Protocol):
    """What the engine needs from a scorer: a name, a version, and exact additive scores."""

    name: str
    version: str

    def score(self, f: ActionFeatures, max_minutes: float) -> Scored: ...


@dataclass(frozen=True)
class ScorerWeights:
    need_weight: float = 0.30
    reach_weight: float = 0.15
    unreachable_penalty: float = -0.10
    capacity_weight: float = 0.05
    readiness_weight: float = 0.05
    refused_penalty: float = 0.10
    abandoned_penalty: float = 0.05
    outcome_weight: float = 0.05
    cost_penalty: float = 0.02
    public_weight: float = 0.15
    unchecked_penalty: float = 0.06

    def vector(self) -> np.ndarray:
        """The weight of each base design column, in ``BASE_COLUMNS`` order."""
        by_column = {
            "reach": self.reach_weight,
            "capacity": -self.capacity_weight,
            "readiness.alignment": self.readiness_weight,
            "readiness.prior_block": -self.readiness_weight,
            "history.refused": -self.refused_penalty,
            "history.abandoned": -self.abandoned_penalty,
            "outcome": self.outcome_weight,
            "cost": -self.cost_penalty,
            "public": self.public_weight,
            "unchecked": -self.unchecked_penalty,
        }
        return np.array([by_column.get(c, self.need_weight) for c, _ in BASE_COLUMNS])

    def reach_floor(self) -> float:
        if self.reach_weight == 0:
            return REACH_FLOOR
        return self.unreachable_penalty / self.reach_weight


class TransparentScorer:
    """Fixed, documented weights over the base design; pure and vectorised (no I/O)."""

    name = "transparent-additive"
    version = "1.0.0"

    def __init__(self, weights: ScorerWeights | None = None) -> None:
        self.weights = weights or ScorerWeights()
        self._vector = self.weights.vector()

    def describe(self) -> dict[str, float]:
        return asdict(self.weights)

    def score(self, f: ActionFeatures, max_minutes: float) -> Scored:
        design = term_features(f, max_minutes, reach_floor=self.weights.reach_floor())
        return additive_score(design, self._vector)
