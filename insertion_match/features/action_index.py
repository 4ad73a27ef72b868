"""The in-memory, vectorised index of the action catalogue.

Built once when the catalogue is loaded (start-up, or after an import), never per request. Every
per-action attribute the matcher reads is a numpy array aligned on ``ActionIndex.actions``; sites
are flattened into arrays sorted by action so that the distance to the nearest site of every
action is one ``np.minimum.reduceat`` away. Actions are bucketed by département: a request only
ever looks at the actions of the person's département (the territory rule of DESIGN §11), which is
what keeps the work per request constant as the catalogue grows to national scale: there is one
``ActionIndex`` per département (:func:`build_indexes`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from insertion_match.domain import FREINS, Action, Orientation, training_level_rank
from insertion_match.features.errors import CatalogueError
from insertion_match.geo import Gazetteer, GeoError, Mode, haversine_km
from insertion_match.geo.transit import networks_generation
from insertion_match.geo.travel import best_travel_to_sites

#: Weight of the frein an action addresses first (its main aim) and of the others. The secondary
#: weight is shared: an action listing m secondary freins gives each SECONDARY / sqrt(m), so a
#: generalist workshop that touches seven freins does not outrank the specialist action that
#: addresses the person's blocking frein head-on.
MAIN_FREIN_WEIGHT = 1.0
SECONDARY_FREIN_WEIGHT = 0.5

ORIENTATIONS: tuple[str, ...] = tuple(o.value for o in Orientation)
_SCOPES = {"departement": 0, "commissions": 1, "communes": 2}
#: Site precisions that stand for a territory, not a place one travels to: no trip is estimated.
_NOT_A_PLACE = frozenset({"unspecified", "department_seat"})


@dataclass(frozen=True)
class HomeTrips:
    """From one home to every action of an index: crow-fly km to each site (flat, stand-ins at
    infinity) and to each action's nearest site; the quickest trip to each action by the
    fastest mode (``geo.travel.best_travel_to_sites``: minutes, mode index, source)."""

    site_km: np.ndarray
    nearest_km: np.ndarray
    minutes: np.ndarray
    mode_index: np.ndarray
    source: np.ndarray

    def __post_init__(self) -> None:
        for values in (self.site_km, self.nearest_km, self.minutes, self.mode_index,
                       self.source):
            values.flags.writeable = False  # shared between requests


class TripMemo:
    """A bounded memo of :class:`HomeTrips` (the oldest half is dropped when full)."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._entries: dict[tuple, HomeTrips] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple) -> HomeTrips | None:
        return self._entries.get(key)

    def put(self, key: tuple, trips: HomeTrips) -> HomeTrips:
        with self._lock:
            if len(self._entries) >= self.size:
                for old in list(self._entries)[: self.size // 2]:
                    del self._entries[old]
            return self._entries.setdefault(key, trips)

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True)
class ActionIndex:
    actions: tuple[Action, ...]
    ids: np.ndarray  # str
    department: np.ndarray  # str, INSEE code of the département
    scope: np.ndarray  # int8: 0 departement, 1 commissions, 2 communes
    commissions: tuple[frozenset[str], ...]
    communes: tuple[frozenset[str], ...]
    addresses: np.ndarray  # (n, len(FREINS)) float: 1.0 main frein, 0.6 others, 0 not addressed
    main_frein: np.ndarray  # int: index into FREINS
    category: np.ndarray  # str
    itinerant: np.ndarray  # bool
    remote: np.ndarray  # bool: only at a distance (telephone, video, online)
    active: np.ndarray  # bool
    places: np.ndarray  # float, NaN unknown
    participants: np.ndarray  # float, NaN unknown
    occupancy_rate: np.ndarray  # float: the document's own rate, NaN unknown
    cost_eur: np.ndarray  # float, NaN unknown
    outcome_rate: np.ndarray  # float, NaN unknown
    prescription_required: np.ndarray  # bool
    # eligibility
    orientation_ok: np.ndarray  # (n, 3) bool, aligned with ORIENTATIONS; all True when no rule
    has_orientation_rule: np.ndarray  # bool
    age_min: np.ndarray  # float, NaN none
    age_max: np.ndarray  # float, NaN none
    rsa_months_max: np.ndarray  # float, NaN none
    foreign_newcomer_required: np.ndarray
    independent_worker_required: np.ndarray
    farmers_excluded: np.ndarray
    farmer_required: np.ndarray
    qpv_required: np.ndarray
    rqth_required: np.ndarray
    licence_b_required: np.ndarray
    licence_code_required: np.ndarray
    no_licence_required: np.ndarray
    rsa_months_min: np.ndarray  # float, NaN none
    sex_required: np.ndarray  # str: "" none, "f", "m"
    level_min: np.ndarray  # float training-level rank (infra3 = 2), NaN none
    level_max: np.ndarray  # float, NaN none
    family_required: np.ndarray  # str: "" none, "isole", "couple"
    children_rule: np.ndarray  # str: "" none, "none", "any", "under_3", "under_6"
    mdph_unknown_required: np.ndarray
    vehicle_required: np.ndarray  # bool: a car or a two-wheeler (or a car, see car_required)
    car_required: np.ndarray  # bool: a car
    job_takeup_required: np.ndarray
    needs_min: np.ndarray  # (n, len(FREINS)) float: minimum severity of each frein of the
    # "needs_any" condition, inf where the frein is not part of it (no condition: all inf)
    prescribable: np.ndarray  # bool: False for pact objectives and experiments
    by_dossier: np.ndarray  # bool: applied for by dossier through the référent, no trip
    sites_unknown: np.ndarray  # bool: no site is a known place ("sites à préciser")
    # sites, flattened and sorted by action position
    site_lat: np.ndarray
    site_lon: np.ndarray
    site_start: np.ndarray  # int: first site of each action in the flat arrays
    site_ignored: np.ndarray  # bool: a stand-in site beside real places (never the nearest)
    site_commune: tuple[tuple[str, ...], ...]
    #: trips from recent home positions (``home_trips``): per request, not part of the index
    trips: TripMemo = field(default_factory=lambda: TripMemo(), compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.actions)

    def position(self, action_id: str) -> int | None:
        hits = np.flatnonzero(self.ids == action_id)
        return int(hits[0]) if hits.size else None

    def site_km(self, lat: float, lon: float) -> np.ndarray:
        """Crow-fly km from (lat, lon) to every site (flat), stand-in sites at infinity."""
        dist = haversine_km(lat, lon, self.site_lat, self.site_lon)
        return np.where(self.site_ignored, np.inf, dist)

    def nearest_site_km(self, lat: float, lon: float) -> np.ndarray:
        """Crow-fly km from (lat, lon) to the nearest site of each action (stand-in sites beside
        real places are ignored)."""
        if len(self) == 0:
            return np.empty(0)
        return np.minimum.reduceat(self.site_km(lat, lon), self.site_start)

    def home_trips(self, lat: float, lon: float, modes: tuple[Mode, ...]) -> HomeTrips:
        """The trips from a home to the actions (:class:`HomeTrips`), memoised per position,
        modes and installed transit networks: people of a caseload mostly live at a few
        thousand positions (a commune's centre, an address), and these trips are a fifth of
        the ranking's time. The same arrays as computing them afresh (read-only)."""
        key = (float(lat), float(lon), modes, networks_generation())
        found = self.trips.get(key)
        if found is None:
            found = self.trips.put(key, self._home_trips(lat, lon, modes))
        return found

    def _home_trips(self, lat: float, lon: float, modes: tuple[Mode, ...]) -> HomeTrips:
        n = len(self)
        if n == 0:
            empty = np.empty(0)
            return HomeTrips(empty, empty, empty, np.empty(0, dtype=np.int64),
                             np.empty(0, dtype=object))
        site_km = self.site_km(lat, lon)
        minutes, mode_idx, source = best_travel_to_sites(
            lat, lon, self.site_lat, self.site_lon, self.site_start, self.site_ignored, modes)
        return HomeTrips(site_km, np.minimum.reduceat(site_km, self.site_start), minutes,
                         mode_idx, source)

    def nearest_site_index(self, lat: float, lon: float, position: int) -> int:
        """Index (within the action's sites) of the site nearest to (lat, lon)."""
        start = self.site_start[position]
        stop = self.site_start[position + 1] if position + 1 < len(self) else self.site_lat.size
        dist = haversine_km(lat, lon, self.site_lat[start:stop], self.site_lon[start:stop])
        dist = np.where(self.site_ignored[start:stop], np.inf, dist)
        return int(np.argmin(dist))


def _needs_matrix(elig) -> np.ndarray:
    out = np.full((len(elig), len(FREINS)), np.inf)
    for i, e in enumerate(elig):
        for frein, level in (e.needs_any or {}).items():
            out[i, FREINS.index(frein.value)] = float(level)
    return out


def _f(value: float | None) -> float:
    return np.nan if value is None else float(value)


def build_action_index(actions: Sequence[Action], gazetteer: Gazetteer) -> ActionIndex:
    """Vectorise the catalogue, filling site coordinates from the gazetteer.

    Raises :class:`CatalogueError` when a site's INSEE code is unknown to the gazetteer, listing
    every such site.
    """
    n = len(actions)
    frein_pos = {k: i for i, k in enumerate(FREINS)}
    addresses = np.zeros((n, len(FREINS)))
    main = np.zeros(n, dtype=np.int64)
    orientation_ok = np.ones((n, len(ORIENTATIONS)), dtype=bool)
    has_orient = np.zeros(n, dtype=bool)
    site_lat: list[float] = []
    site_lon: list[float] = []
    site_ignored: list[bool] = []
    site_start = np.zeros(n, dtype=np.int64)
    site_commune: list[tuple[str, ...]] = []
    problems: list[str] = []

    for i, action in enumerate(actions):
        secondary = SECONDARY_FREIN_WEIGHT / max(1, len(action.freins) - 1) ** 0.5
        for rank, frein in enumerate(action.freins):
            addresses[i, frein_pos[frein.value]] = MAIN_FREIN_WEIGHT if rank == 0 else secondary
        main[i] = frein_pos[action.freins[0].value]
        rule = action.eligibility.orientations
        if rule is not None:
            has_orient[i] = True
            allowed = {o.value for o in rule}
            orientation_ok[i] = [o in allowed for o in ORIENTATIONS]
        site_start[i] = len(site_lat)
        names = []
        some_place = any(site.precision not in _NOT_A_PLACE for site in action.sites)
        for site in action.sites:
            lat, lon = site.lat, site.lon
            if lat is None or lon is None:
                try:
                    commune = gazetteer.by_insee(site.insee)
                except GeoError:
                    problems.append(f"{action.id} : site {site.commune} : code INSEE inconnu {site.insee}")
                    lat, lon = np.nan, np.nan
                else:
                    lat, lon = commune.lat, commune.lon
            # a stand-in beside real places is never "the nearest site"
            site_ignored.append(some_place and site.precision in _NOT_A_PLACE)
            site_lat.append(float(lat))
            site_lon.append(float(lon))
            names.append(site.commune)
        site_commune.append(tuple(names))
    if problems:
        raise CatalogueError(problems)

    def arr(getter, dtype=float) -> np.ndarray:
        return np.array([getter(a) for a in actions], dtype=dtype)

    elig = [a.eligibility for a in actions]
    return ActionIndex(
        actions=tuple(actions),
        ids=np.array([a.id for a in actions], dtype=str),
        department=np.array([a.territory.department for a in actions], dtype=str),
        scope=np.array([_SCOPES[a.territory.scope] for a in actions], dtype=np.int8),
        commissions=tuple(frozenset(a.territory.commissions) for a in actions),
        communes=tuple(frozenset(a.territory.communes) for a in actions),
        addresses=addresses,
        main_frein=main,
        category=np.array([a.category.value for a in actions], dtype=str),
        itinerant=arr(lambda a: a.itinerant or a.remote, bool),
        remote=arr(lambda a: a.remote, bool),
        active=arr(lambda a: a.active, bool),
        places=arr(lambda a: _f(a.places)),
        participants=arr(lambda a: _f(a.participants)),
        occupancy_rate=arr(lambda a: _f(a.occupancy_rate)),
        cost_eur=arr(lambda a: _f(a.cost_eur)),
        outcome_rate=arr(lambda a: _f(a.outcome_rate)),
        prescription_required=arr(lambda a: a.prescription_required, bool),
        orientation_ok=orientation_ok,
        has_orientation_rule=has_orient,
        age_min=np.array([_f(e.age_min) for e in elig]),
        age_max=np.array([_f(e.age_max) for e in elig]),
        rsa_months_max=np.array([_f(e.rsa_months_max) for e in elig]),
        foreign_newcomer_required=np.array([e.foreign_newcomer_required for e in elig], bool),
        independent_worker_required=np.array([e.independent_worker_required for e in elig], bool),
        farmers_excluded=np.array([e.farmers_excluded for e in elig], bool),
        farmer_required=np.array([e.farmer_required for e in elig], bool),
        qpv_required=np.array([e.qpv_required for e in elig], bool),
        rqth_required=np.array([e.rqth_required for e in elig], bool),
        licence_b_required=np.array([e.driving_licence_required == "b" for e in elig], bool),
        licence_code_required=np.array([e.driving_licence_required == "code" for e in elig], bool),
        no_licence_required=np.array([e.no_driving_licence_required for e in elig], bool),
        rsa_months_min=np.array([_f(e.rsa_months_min) for e in elig]),
        sex_required=np.array([e.sex or "" for e in elig], dtype="<U1"),
        level_min=np.array([_f(training_level_rank(e.training_level_min)) for e in elig]),
        level_max=np.array([_f(training_level_rank(e.training_level_max)) for e in elig]),
        family_required=np.array([e.family_situation or "" for e in elig], dtype="<U6"),
        children_rule=np.array([e.children or "" for e in elig], dtype="<U7"),
        mdph_unknown_required=np.array([e.mdph_unknown_required for e in elig], bool),
        vehicle_required=np.array([e.vehicle_required is not None for e in elig], bool),
        car_required=np.array([e.vehicle_required == "car" for e in elig], bool),
        job_takeup_required=np.array([e.job_takeup_required for e in elig], bool),
        needs_min=_needs_matrix(elig),
        prescribable=arr(lambda a: a.prescribable, bool),
        by_dossier=arr(lambda a: a.by_dossier, bool),
        sites_unknown=arr(lambda a: all(s.precision in _NOT_A_PLACE for s in a.sites), bool),
        site_lat=np.array(site_lat),
        site_lon=np.array(site_lon),
        site_ignored=np.array(site_ignored, dtype=bool),
        site_start=site_start,
        site_commune=tuple(site_commune),
    )


def build_indexes(actions: Sequence[Action], gazetteer: Gazetteer) -> dict[str, ActionIndex]:
    """One :class:`ActionIndex` per département, in catalogue order within each."""
    by_dept: dict[str, list[Action]] = {}
    for action in actions:
        by_dept.setdefault(action.territory.department, []).append(action)
    problems: list[str] = []
    indexes: dict[str, ActionIndex] = {}
    for dept, items in sorted(by_dept.items()):
        try:
            indexes[dept] = build_action_index(items, gazetteer)
        except CatalogueError as exc:
            problems.extend(exc.problems)
    if problems:
        raise CatalogueError(problems)
    return indexes
