"""People as arrays: the person side of every opportunity computation.

:class:`PeopleArrays` holds, for m people, every attribute the opportunity matcher reads, as
aligned arrays. The forward question (one person, n offers) uses m = 1; the reverse question
(one offer, the stored beneficiaries of a territory) uses the :class:`PeopleIndex` built once
from the stored profiles and refreshed when they change. Both go through the same pairwise,
broadcasting code (``features/opportunity_features.py``), so the reasons are the same.

Target jobs are mapped to ROME fiches here, once per profile (``RomeReferential.match_title``
is cached per text).
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from insertion_match.domain import FREINS, BeneficiaryProfile, HistoryCode, LicenceCode
from insertion_match.features.opportunity_index import _ranges, cell_index, cells_near
from insertion_match.features.profile import PersonContext, severity_vector
from insertion_match.features.rome import RomeReferential, TitleMatch
from insertion_match.features.skills import person_tokens
from insertion_match.geo import (
    DEFAULT_MAX_TRAVEL_MINUTES,
    Commune,
    Mode,
    available_modes,
)

#: Modes in the order of the travel arrays.
MODES: tuple[Mode, ...] = tuple(Mode)
ORIENTATION_CODES = {None: -1, "sociale": 0, "socioprofessionnelle": 1, "professionnelle": 2}
LICENCE_CODES = {None: LicenceCode.unknown, "none": LicenceCode.none, "code": LicenceCode.code,
                 "b": LicenceCode.b}
#: At most this many target jobs per person are compared with offers.
MAX_TARGETS = 8


@dataclass(frozen=True)
class PeopleArrays:
    ids: np.ndarray  # str ('' for an anonymous person)
    department: np.ndarray  # str
    commission: np.ndarray  # str ('' none)
    commune: tuple[str, ...]
    lat: np.ndarray
    lon: np.ndarray
    modes: np.ndarray  # (m, len(MODES)) bool: the person can use the mode
    car_unknown: np.ndarray  # bool: licence or vehicle unknown, so a car is possible
    max_minutes: np.ndarray  # float
    licence: np.ndarray  # int8 LicenceCode
    level: np.ndarray  # float 2..8, NaN unknown
    age: np.ndarray  # float, NaN unknown
    rqth: np.ndarray  # int8: 1 yes, 0 no, -1 unknown
    children_under_3: np.ndarray  # float, NaN unknown
    children_3_to_11: np.ndarray  # float, NaN unknown
    severities: np.ndarray  # (m, len(FREINS)) float 0..3
    atypical_ok: np.ndarray  # int8: 1 yes, 0 no, -1 unknown
    hours: np.ndarray  # float available hours per week, NaN unknown
    orientation: np.ndarray  # int8 ORIENTATION_CODES
    target_pos: np.ndarray  # (m, T) int32 ROME positions, -1 padding
    target_dp: np.ndarray  # (m, T)
    target_gd: np.ndarray  # (m, T)
    target_v3: np.ndarray  # (m, T)
    has_targets: np.ndarray  # bool: the person named target jobs (even unrecognised)
    target_text: tuple[tuple[str, ...], ...]  # the targets as written, aligned with target_pos
    skills_known: np.ndarray  # bool
    skill_tokens: np.ndarray  # flat int64 tokens of all people
    token_owner: np.ndarray  # flat int64: position of the person owning each token
    history: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    # item id -> (people positions, HistoryCode values)
    #: The homes on a spatial grid (stored people): reverse matching reads only the people
    #: who can reach the offer. None for one person.
    grid: PeopleGrid | None = None

    def __len__(self) -> int:
        return int(self.lat.shape[0])

    def take(self, positions: np.ndarray, walls_only: bool = False,
             columns: Collection[str] | None = None) -> PeopleArrays:
        """The people at ``positions`` (ascending), without their history (the caller maps
        the one item it needs) and without a grid. ``walls_only``: only the columns the
        walls read are gathered; ``columns``: only those (the others are zero-cost
        placeholders, row 0 repeated; no skills, communes or target texts)."""
        pos = np.asarray(positions, dtype=np.int64)
        if walls_only or columns is not None:
            wanted = WALL_COLUMNS if columns is None else columns
            n = pos.shape[0]
            # the array columns, by field name (Any: mypy cannot tell ** which field is which)
            cols: dict[str, Any] = {
                f.name: getattr(self, f.name)[pos] if f.name in wanted
                else np.broadcast_to(getattr(self, f.name)[:1], (n,)
                                     + getattr(self, f.name).shape[1:])
                for f in fields(self) if f.name not in _NOT_COLUMNS}
            return PeopleArrays(**cols, commune=(), target_text=(),
                                skill_tokens=np.empty(0, np.int64),
                                token_owner=np.empty(0, np.int64))
        cols = {f.name: getattr(self, f.name)[pos] for f in fields(self)
                if f.name not in _NOT_COLUMNS}
        start = np.searchsorted(self.token_owner, pos, side="left")
        count = np.searchsorted(self.token_owner, pos, side="right") - start
        return PeopleArrays(
            **cols, commune=_Pick(self.commune, pos),  # type: ignore[arg-type]
            target_text=_Pick(self.target_text, pos),  # type: ignore[arg-type]
            skill_tokens=self.skill_tokens[_ranges(start, count)],
            token_owner=np.repeat(np.arange(pos.shape[0], dtype=np.int64), count),
        )

    def with_grid(self) -> PeopleArrays:
        return replace(self, grid=PeopleGrid.build(self))

    def history_codes(self, item_id: str, positions: np.ndarray) -> np.ndarray:
        """int8 history codes of ``item_id`` for the people at ``positions`` (ascending)."""
        if item_id not in self.history:
            return np.zeros(positions.shape[0], dtype=np.int8)
        return codes_at(positions, *self.history[item_id])


def codes_at(targets: np.ndarray, keys: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """int8 per ``targets`` (ascending): the code of the key equal to it, 0 where none is
    (an item's history codes, given per person position, read at some people)."""
    out = np.zeros(targets.shape[0], dtype=np.int8)
    if targets.size and keys.size:
        at = np.minimum(np.searchsorted(targets, keys), targets.shape[0] - 1)
        hit = targets[at] == keys
        out[at[hit]] = codes[hit]
    return out


def _smallest_int(a: np.ndarray) -> np.ndarray:
    for dtype in (np.int8, np.int16, np.int32):
        info = np.iinfo(dtype)
        if not a.size or (a.min() >= info.min and a.max() <= info.max):
            return a.astype(dtype)
    return a


class _Pick(Sequence):
    """``base[positions[i]]`` read on demand (only the listed people's are read)."""

    def __init__(self, base: Sequence, positions: np.ndarray) -> None:
        self.base, self.positions = base, positions

    def __len__(self) -> int:
        return int(self.positions.shape[0])

    def __getitem__(self, i):
        return self.base[int(self.positions[i])]


#: What the walls (and travel) read of a person.
WALL_COLUMNS = frozenset({"lat", "lon", "modes", "car_unknown", "max_minutes", "licence",
                           "level", "age", "rqth", "children_under_3", "children_3_to_11",
                           "severities", "atypical_ok"})
_NOT_COLUMNS = frozenset({"commune", "target_text", "skill_tokens", "token_owner", "history",
                          "grid"})
#: The targets' ROME fiches (positions, domaines, grand domaines, v3 fiches).
TARGET_COLUMNS = frozenset({"target_pos", "target_dp", "target_gd", "target_v3"})
#: What an upper bound of the score reads besides the walls' columns (all but the skills).
BOUND_COLUMNS = frozenset({"severities", "max_minutes", "level", "hours", "children_under_3",
                           "children_3_to_11", "licence", "orientation", "skills_known"}
                          ) | TARGET_COLUMNS
#: What the grid keeps in cell order.
GRID_COLUMNS = WALL_COLUMNS | BOUND_COLUMNS


@dataclass(frozen=True)
class PeopleGrid:
    """The stored people's homes on a grid of ``opportunity_index.CELL_DEG`` cells, for reverse
    matching.

    The people are sorted by cell (then by position): one cell, and the consecutive occupied
    cells of one row of the grid, are one contiguous run. ``cells`` holds, in that order, the
    columns the walls and an upper bound of the score read (:data:`GRID_COLUMNS`), so that a
    query reads runs of memory instead of people scattered over the whole index. Per person
    also: the index of their maximum time among the distinct ones (``reach_class``, for their
    own reach) and of their (département, commission) pair (``group``, for the scope), whose
    sizes give the count of people of a scope without reading anyone.
    """

    order: np.ndarray  # int64: position (in the people arrays) of each row, in cell order
    rank: np.ndarray  # int64: row (cell order) of each position (the inverse of ``order``)
    keys: np.ndarray  # int64: the occupied cells, sorted
    ptr: np.ndarray  # int64: rows of cell keys[i] are ptr[i]:ptr[i + 1]
    cells: PeopleArrays  # GRID_COLUMNS in cell order (the other columns are placeholders)
    reach_class: np.ndarray  # int, cell order: index into ``minutes``
    minutes: np.ndarray  # float: the distinct maximum times
    group: np.ndarray  # int, cell order: index into ``group_department`` / ``_commission``
    group_department: np.ndarray  # str
    group_commission: np.ndarray  # str
    group_size: np.ndarray  # int64: people per group

    @classmethod
    def build(cls, people: PeopleArrays) -> PeopleGrid:
        order, keys, ptr = cell_index(people.lat, people.lon)
        rank = np.empty_like(order)
        rank[order] = np.arange(order.shape[0], dtype=np.int64)
        cells = people.take(order, columns=GRID_COLUMNS)
        # smaller integer types where the values fit (compared and computed as the same values)
        small: dict[str, Any] = {
            name: _smallest_int(getattr(cells, name)) for name in TARGET_COLUMNS}
        sev = cells.severities.astype(np.int8)  # the severities 0..3: the same values
        if np.array_equal(sev, cells.severities):
            small["severities"] = sev
        cells = replace(cells, **small)
        minutes, reach_class = np.unique(people.max_minutes, return_inverse=True)
        depts, d = np.unique(people.department, return_inverse=True)
        coms, c = np.unique(people.commission, return_inverse=True)
        pair = d.reshape(-1).astype(np.int64) * max(coms.shape[0], 1) + c.reshape(-1)
        pairs, group, size = np.unique(pair, return_inverse=True, return_counts=True)
        return cls(
            order=order, rank=rank, keys=keys, ptr=ptr, cells=cells,
            reach_class=reach_class.reshape(-1)[order].astype(np.int32),
            minutes=minutes.astype(float),
            group=group.reshape(-1)[order].astype(np.int32),
            group_department=depts[pairs // max(coms.shape[0], 1)],
            group_commission=coms[pairs % max(coms.shape[0], 1)],
            group_size=size.astype(np.int64),
        )

    def take(self, rows: np.ndarray, columns: Collection[str]) -> PeopleArrays:
        """``columns`` of the people at ``rows`` (cell order); the others are placeholders."""
        return self.cells.take(rows, columns=columns)

    def rows_near(self, lat: float, lon: float, radius_km: float) -> np.ndarray:
        """Rows (cell order, ascending) of every person whose cell touches the circle of
        ``radius_km`` around the point (a superset of the people within it)."""
        at = cells_near(self.keys, lat, lon, radius_km)
        if not at.size:
            return np.empty(0, np.int64)
        # consecutive occupied cells are one run of rows
        brk = np.flatnonzero(np.diff(at) != 1) + 1
        first, last = at[np.r_[0, brk]], at[np.r_[brk - 1, at.shape[0] - 1]]
        return _ranges(self.ptr[first], self.ptr[last + 1] - self.ptr[first])

    @property
    def nbytes(self) -> int:
        return int(sum(getattr(self.cells, f).nbytes for f in GRID_COLUMNS)
                   + sum(a.nbytes for a in (self.order, self.rank, self.keys, self.ptr,
                                            self.reach_class, self.group)))


def concat_people(parts: Sequence[PeopleArrays]) -> PeopleArrays:
    """One :class:`PeopleArrays` of ``parts`` one after the other (built chunk by chunk, so
    that a million profiles are never held as objects at once)."""
    offsets = np.cumsum([0] + [len(p) for p in parts])
    cols: dict[str, Any] = {f.name: np.concatenate([getattr(p, f.name) for p in parts])
                            for f in fields(PeopleArrays) if f.name not in _NOT_COLUMNS}
    history: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}
    for off, p in zip(offsets.tolist(), parts, strict=False):
        for item, (pos, codes) in p.history.items():
            h = history.setdefault(item, ([], []))
            h[0].append(pos + off)
            h[1].append(codes)
    return PeopleArrays(
        **cols, commune=tuple(c for p in parts for c in p.commune),
        target_text=tuple(t for p in parts for t in p.target_text),
        skill_tokens=np.concatenate([p.skill_tokens for p in parts]),
        token_owner=np.concatenate([p.token_owner + off
                                    for off, p in zip(offsets.tolist(), parts, strict=False)]),
        history={k: (np.concatenate(v[0]), np.concatenate(v[1])) for k, v in history.items()},
    )


def patch_people(people: PeopleArrays, drop: np.ndarray, added: PeopleArrays,
                 at: np.ndarray) -> PeopleArrays:
    """``people`` without the rows at ``drop`` and with the rows of ``added`` inserted, added
    row k landing at position ``at[k]`` of the result (``at`` ascending): the same arrays as
    building the resulting list of records at once, in O(rows) array work (no profile is read
    again). The grid is rebuilt when ``people`` had one.

    For the stored people's index: one profile created, updated (dropped, then added at its
    place in the order) or deleted, without rebuilding the others' arrays."""
    n = len(people)
    keep = np.ones(n, dtype=bool)
    keep[np.asarray(drop, dtype=np.int64)] = False
    kept = np.flatnonzero(keep)
    m, total = len(added), kept.shape[0] + len(added)
    at = np.asarray(at, dtype=np.int64)
    from_added = np.zeros(total, dtype=bool)
    from_added[at] = True
    src = np.empty(total, dtype=np.int64)  # index into kept rows, then added rows
    src[~from_added] = kept
    src[at] = n + np.arange(m)
    cols: dict[str, Any] = {
        f.name: np.concatenate([getattr(people, f.name), getattr(added, f.name)])[src]
        for f in fields(PeopleArrays) if f.name not in _NOT_COLUMNS}
    commune = [*people.commune, *added.commune]
    target_text = [*people.target_text, *added.target_text]
    # skills: each row's tokens are one block (CSR by owner); blocks gathered in the new order
    owners = np.concatenate([people.token_owner, added.token_owner + n])
    counts = np.bincount(owners, minlength=n + m)
    starts = np.zeros(n + m, dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    pool = np.concatenate([people.skill_tokens, added.skill_tokens])
    new_at = np.full(n + m, -1, dtype=np.int64)  # the new position of each old or added row
    new_at[src] = np.arange(total)
    history: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for part, offset in ((people.history, 0), (added.history, n)):
        for item, (pos, codes) in part.items():
            moved = new_at[pos + offset]
            ok = moved >= 0
            if ok.any():
                old = history.get(item)
                both_pos = moved[ok] if old is None else np.concatenate([old[0], moved[ok]])
                both_codes = codes[ok] if old is None else np.concatenate([old[1], codes[ok]])
                order = np.argsort(both_pos, kind="stable")
                history[item] = (both_pos[order], both_codes[order])
    out = PeopleArrays(
        **cols, commune=tuple(commune[i] for i in src.tolist()),
        target_text=tuple(target_text[i] for i in src.tolist()),
        skill_tokens=pool[_ranges(starts[src], counts[src])],
        token_owner=np.repeat(np.arange(total, dtype=np.int64), counts[src]),
        history=history,
    )
    return out.with_grid() if people.grid is not None else out


def patch_in_order(people: PeopleArrays, keys: list, drop: Iterable, add: Mapping[Any, Any],
                   rome: RomeReferential) -> tuple[PeopleArrays, list]:
    """:func:`patch_people` for people whose rows are in the ascending order of their
    ``keys`` (unique, comparable): without the people of keys ``drop``, with the
    :class:`PersonRecord` of ``add`` (key → record) at their place. Returns the arrays and the
    new keys; the same as building every record, in key order, at once."""
    gone = sorted(set(drop))
    at = [bisect.bisect_left(keys, k) for k in gone]
    if any(i >= len(keys) or keys[i] != k for i, k in zip(at, gone, strict=True)):
        raise KeyError("a dropped key is not in the index")
    kept = keys.copy()
    for i in reversed(at):
        del kept[i]
    new = sorted(add)
    if any((i := bisect.bisect_left(kept, k)) < len(kept) and kept[i] == k for k in new):
        raise ValueError("an added key is already in the index")
    # added row j lands after the kept keys below it and the j added before it
    where = [bisect.bisect_left(kept, k) + j for j, k in enumerate(new)]
    out = patch_people(people, np.array(at, dtype=np.int64),
                       build_people([add[k] for k in new], rome),
                       np.array(where, dtype=np.int64))
    merged = kept
    for j, k in zip(where, new, strict=True):
        merged.insert(j, k)
    return out, merged


HISTORY_CODES = {h.name: int(h) for h in HistoryCode if h is not HistoryCode.none}


@dataclass(frozen=True)
class PersonRecord:
    """What building the arrays needs about one person (home already resolved)."""

    profile: BeneficiaryProfile
    home: Commune
    commission: str | None
    targets: tuple[TitleMatch, ...]


def resolve_targets(profile: BeneficiaryProfile, rome: RomeReferential) -> tuple[TitleMatch, ...]:
    return tuple(rome.match_title(t) for t in profile.target_jobs[:MAX_TARGETS])


def build_people(records: Sequence[PersonRecord], rome: RomeReferential) -> PeopleArrays:
    m = len(records)
    modes = np.zeros((m, len(MODES)), dtype=bool)
    car_unknown = np.zeros(m, dtype=bool)
    targets = np.full((m, MAX_TARGETS), -1, dtype=np.int32)
    toks: list[np.ndarray] = []
    owners: list[np.ndarray] = []
    history: dict[str, tuple[list[int], list[int]]] = {}
    for i, r in enumerate(records):
        p = r.profile
        mob = p.mobility
        available = available_modes(
            driving_licence=mob.driving_licence.value if mob.driving_licence else None,
            vehicle=mob.vehicle.value if mob.vehicle else None,
            public_transport=mob.public_transport,
        ).modes
        modes[i] = [mode in available for mode in MODES]
        lic, veh = mob.driving_licence, mob.vehicle
        car_unknown[i] = (Mode.car not in available and lic in (None, "b")
                          and veh in (None, "car"))
        for k, match in enumerate(r.targets[:MAX_TARGETS]):
            if match.code is not None:
                targets[i, k] = rome.position[match.code]
        t = person_tokens(p.skills)
        toks.append(t)
        owners.append(np.full(t.size, i, dtype=np.int64))
        last: dict[str, str] = {}
        for entry in p.history:
            last[entry.item_id] = entry.status.value
        for item_id, status in last.items():
            pos, codes = history.setdefault(item_id, ([], []))
            pos.append(i)
            codes.append(HISTORY_CODES[status])
    has = targets >= 0
    safe = np.where(has, targets, 0)

    def pick(table: np.ndarray) -> np.ndarray:
        return np.where(has, table[safe], -1).astype(np.int32)

    def num(getter) -> np.ndarray:
        return np.array([np.nan if (v := getter(r.profile)) is None else float(v)
                         for r in records], dtype=float)

    return PeopleArrays(
        ids=np.array([r.profile.id or "" for r in records], dtype=str),
        department=np.array([r.home.department for r in records], dtype=str),
        commission=np.array([r.commission or "" for r in records], dtype=str),
        commune=tuple(r.home.name for r in records),
        lat=np.array([r.home.lat for r in records], dtype=float),
        lon=np.array([r.home.lon for r in records], dtype=float),
        modes=modes,
        car_unknown=car_unknown,
        max_minutes=np.array([float(r.profile.mobility.max_travel_minutes
                                    if r.profile.mobility.max_travel_minutes is not None
                                    else DEFAULT_MAX_TRAVEL_MINUTES) for r in records]),
        licence=np.array([LICENCE_CODES[p.mobility.driving_licence.value
                                        if p.mobility.driving_licence else None]
                          for p in (r.profile for r in records)], dtype=np.int8),
        level=num(lambda p: None if p.training_level is None
                  else (2 if p.training_level.value == "infra3" else int(p.training_level.value))),
        age=num(lambda p: p.age),
        rqth=np.array([-1 if r.profile.status.rqth is None else int(r.profile.status.rqth)
                       for r in records], dtype=np.int8),
        children_under_3=num(lambda p: p.family.children_under_3),
        children_3_to_11=num(lambda p: p.family.children_3_to_11),
        severities=np.array([severity_vector(r.profile.freins) for r in records]).reshape(
            m, len(FREINS)),
        atypical_ok=np.array([-1 if r.profile.availability.atypical_hours is None
                              else int(r.profile.availability.atypical_hours)
                              for r in records], dtype=np.int8),
        hours=num(lambda p: p.availability.hours_per_week),
        orientation=np.array([ORIENTATION_CODES[r.profile.orientation.value
                                                if r.profile.orientation else None]
                              for r in records], dtype=np.int8),
        target_pos=targets,
        target_dp=pick(rome.dp_index),
        target_gd=pick(rome.gd_index),
        target_v3=pick(rome.v3_index),
        has_targets=np.array([bool(r.profile.target_jobs) for r in records], dtype=bool),
        target_text=tuple(tuple(t.query for t in r.targets[:MAX_TARGETS]) for r in records),
        skills_known=np.array([bool(r.profile.skills) for r in records], dtype=bool),
        skill_tokens=np.concatenate(toks) if toks else np.empty(0, np.int64),
        token_owner=np.concatenate(owners) if owners else np.empty(0, np.int64),
        history={k: (np.array(v[0], dtype=np.int64), np.array(v[1], dtype=np.int8))
                 for k, v in history.items()},
    )


def person_arrays(ctx: PersonContext, rome: RomeReferential) -> PeopleArrays:
    """The arrays of one person (m = 1), from the request's context."""
    record = PersonRecord(ctx.profile, ctx.home, ctx.commission,
                          resolve_targets(ctx.profile, rome))
    return build_people([record], rome)
