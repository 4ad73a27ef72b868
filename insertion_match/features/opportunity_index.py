"""The in-memory, vectorised index of the opportunities (job, volunteering, internship,
immersion offers), one per département, built once per import — never per request.

Every per-offer attribute the matcher reads is an array of :class:`OfferArrays`, aligned on
``OpportunityIndex.opportunities``. Skills are stored as token hashes in CSR form (offer →
skills → tokens) so that the share of an offer's skills a person covers is a few numpy calls
(``features.skills``). A person only looks at the indexes of the départements within reach of
home (:meth:`OpportunityIndex.distance_to_box_km`), so the work per request does not grow with
the national offer.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, fields
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import overload

import numpy as np
import pyarrow as pa

from insertion_match.domain import (
    INSERTION_CONTRACTS,
    OPPORTUNITY_KINDS,
    AtypicalHours,
    ExperienceCode,
    Opportunity,
)
from insertion_match.features.rome import RomeReferential
from insertion_match.features.skills import skill_tokens
from insertion_match.geo import haversine_km

ATYPICAL: tuple[str, ...] = tuple(a.value for a in AtypicalHours)
EXPERIENCE_CODES = {None: ExperienceCode.unknown, "D": ExperienceCode.beginner,
                    "S": ExperienceCode.wished, "E": ExperienceCode.required}
#: Apprenticeship contracts are for people aged 16 to 29 (Code du travail, L6222-1 and L6222-2),
#: with no upper bound for people with an RQTH.
APPRENTICESHIP_AGE_MAX = 29.0
#: Contracts that count as durable employment (DESIGN §3: CDI, CDD over 6 months).
DURABLE_CDD_MONTHS = 6.0


@dataclass(frozen=True)
class OfferArrays:
    """Per-offer arrays (length n), the offer side of every pairwise computation."""

    lat: np.ndarray
    lon: np.ndarray
    kind: np.ndarray  # str
    kind_code: np.ndarray  # int64 index into domain.OPPORTUNITY_KINDS
    rome_pos: np.ndarray  # int32, position in RomeReferential.codes; -1 none
    rome_dp: np.ndarray  # int32 domaine professionnel index; -1 none
    rome_gd: np.ndarray  # int32 grand domaine index; -1 none
    rome_v3: np.ndarray  # int32 ROME v3 parent index; -1 none
    durable: np.ndarray  # bool: CDI, CDI intérimaire, CDD >= 6 months
    insertion_contract: np.ndarray  # bool: IAE / subsidised
    iae: np.ndarray  # bool: a position in a work-integration structure (SIAE)
    age_max: np.ndarray  # float: apprenticeship (APP) 29, NaN none (RQTH: no upper bound)
    hours: np.ndarray  # float, NaN unknown
    atypical: np.ndarray  # (n, len(ATYPICAL)) bool
    training_level: np.ndarray  # float 2..8, NaN none
    training_required: np.ndarray  # bool
    experience: np.ndarray  # int8 ExperienceCode
    licence_b_required: np.ndarray  # bool
    licence_b_desired: np.ndarray  # bool (souhaité only)
    licence_other_required: np.ndarray  # bool: another category (C, D, CE...) is exigée
    expires: np.ndarray  # float ordinal day, NaN none
    # skills: offer -> skills -> token hashes (CSR)
    skill_start: np.ndarray  # (n,) first skill of each offer
    skill_count: np.ndarray  # (n,)
    skill_tok_start: np.ndarray  # (S,) first token of each skill
    skill_tok_count: np.ndarray  # (S,)
    tokens: np.ndarray  # (T,) int64 token hashes

    def __len__(self) -> int:
        return int(self.lat.shape[0])

    def take(self, positions: Sequence[int] | np.ndarray) -> OfferArrays:
        """The arrays of the offers at ``positions`` (skills re-packed), vectorised."""
        pos = np.asarray(positions, dtype=np.int64)
        out = {f.name: getattr(self, f.name)[pos] for f in fields(self)
               if f.name not in _CSR}
        counts = self.skill_count[pos]
        skills = _ranges(self.skill_start[pos], counts)
        tok_counts = self.skill_tok_count[skills]
        toks = _ranges(self.skill_tok_start[skills], tok_counts)
        return OfferArrays(
            **out, skill_start=_starts(counts), skill_count=counts.astype(np.int64),
            skill_tok_start=_starts(tok_counts), skill_tok_count=tok_counts.astype(np.int64),
            tokens=self.tokens[toks],
        )

    def slice(self, start: int, stop: int) -> OfferArrays:
        """The offers ``start:stop`` (views of the columns; skill pointers re-based)."""
        out = {f.name: getattr(self, f.name)[start:stop] for f in fields(self)
               if f.name not in _CSR}
        count = self.skill_count[start:stop]
        if stop <= start:
            return OfferArrays(**out, skill_start=np.empty(0, np.int64), skill_count=count,
                               skill_tok_start=np.empty(0, np.int64),
                               skill_tok_count=np.empty(0, np.int64),
                               tokens=np.empty(0, np.int64))
        s0 = int(self.skill_start[start])
        s1 = int(self.skill_start[stop - 1] + self.skill_count[stop - 1])
        t0 = int(self.skill_tok_start[s0]) if s1 > s0 else 0
        t1 = int(self.skill_tok_start[s1 - 1] + self.skill_tok_count[s1 - 1]) if s1 > s0 else 0
        return OfferArrays(
            **out, skill_start=self.skill_start[start:stop] - s0, skill_count=count,
            skill_tok_start=self.skill_tok_start[s0:s1] - t0,
            skill_tok_count=self.skill_tok_count[s0:s1], tokens=self.tokens[t0:t1],
        )


_CSR = frozenset({"skill_start", "skill_count", "skill_tok_start", "skill_tok_count", "tokens"})


def _starts(counts: np.ndarray) -> np.ndarray:
    """CSR start offsets of consecutive blocks of ``counts`` elements."""
    out = np.zeros(counts.shape[0], dtype=np.int64)
    if counts.shape[0] > 1:
        np.cumsum(counts[:-1], out=out[1:])
    return out


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + c)`` for every (s, c), without a Python loop."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, np.int64)
    shift = np.asarray(starts, dtype=np.int64) - _starts(counts)
    return np.repeat(shift, counts) + np.arange(total, dtype=np.int64)


def concat_arrays(parts: Sequence[OfferArrays]) -> OfferArrays:
    """One :class:`OfferArrays` holding ``parts`` one after the other."""
    out = {f.name: np.concatenate([getattr(p, f.name) for p in parts])
           for f in fields(OfferArrays) if f.name not in _CSR}
    counts = np.concatenate([p.skill_count for p in parts]).astype(np.int64)
    tok_counts = np.concatenate([p.skill_tok_count for p in parts]).astype(np.int64)
    return OfferArrays(**out, skill_start=_starts(counts), skill_count=counts,
                       skill_tok_start=_starts(tok_counts), skill_tok_count=tok_counts,
                       tokens=np.concatenate([p.tokens for p in parts]).astype(np.int64))


@dataclass(frozen=True)
class DocStore:
    """Offer documents (JSON) compressed by blocks of ``BLOCK`` consecutive documents (LZ4
    frames, Arrow's codec): one byte buffer, the offsets of each block in it and its size
    once decompressed, and for each document its block and its span in the block. Reading
    one document decompresses its block (about 20 KB in 7.6 µs at 1M offers, against 24 µs
    for half a zlib block; 1.4 × zlib's size; the last blocks read are kept)."""

    blob: np.ndarray  # uint8
    block_ptr: np.ndarray  # (B + 1,) int64 offsets of the blocks in ``blob``
    block_len: np.ndarray  # (B,) int32 size of each block decompressed
    doc_block: np.ndarray  # (N,) int32
    doc_begin: np.ndarray  # (N,) int32, in the decompressed block
    doc_end: np.ndarray  # (N,) int32
    cache: dict = field(default_factory=dict, compare=False, repr=False)
    parsed: dict = field(default_factory=dict, compare=False, repr=False)

    BLOCK = 16
    CACHE_BLOCKS = 256
    #: validated documents kept (the offers shown again; least recently read dropped first)
    CACHE_DOCS = 2048

    def __len__(self) -> int:
        return int(self.doc_block.shape[0])

    def raw(self, j: int) -> bytes:
        b = int(self.doc_block[j])
        block = self.cache.get(b)
        if block is None:
            block = CODEC.decompress(self.blob[int(self.block_ptr[b]): int(self.block_ptr[b + 1])],
                                     decompressed_size=int(self.block_len[b]), asbytes=True)
            if len(self.cache) >= self.CACHE_BLOCKS:
                self.cache.clear()
            self.cache[b] = block
        return block[int(self.doc_begin[j]): int(self.doc_end[j])]

    def document(self, j: int) -> Opportunity:
        """Document ``j``, validated. The last ones read are kept: a store's documents never
        change (an import builds a new store, its cache empty), and an Opportunity is
        frozen. No lock: each dict operation is atomic; two requests racing at most read a
        document twice, or drop one more or one fewer than needed."""
        opp = self.parsed.pop(j, None)
        if opp is None:
            opp = Opportunity.model_validate_json(self.raw(j))
        self.parsed[j] = opp  # the most recently read last
        if len(self.parsed) > self.CACHE_DOCS:
            try:
                del self.parsed[next(iter(self.parsed))]
            except (KeyError, RuntimeError, StopIteration):  # another request's change
                pass
        return opp

    @classmethod
    def encode(cls, documents: Sequence[bytes]) -> DocStore:
        blocks, sizes, doc_block, begin, end = [], [], [], [], []
        for b, k in enumerate(range(0, len(documents), cls.BLOCK)):
            part = documents[k: k + cls.BLOCK]
            at = 0
            for doc in part:
                doc_block.append(b)
                begin.append(at)
                at += len(doc)
                end.append(at)
            raw = b"".join(part)
            blocks.append(CODEC.compress(raw, asbytes=True))
            sizes.append(len(raw))
        ptr = np.zeros(len(blocks) + 1, dtype=np.int64)
        np.cumsum([len(x) for x in blocks], out=ptr[1:])
        return cls(np.frombuffer(b"".join(blocks), dtype=np.uint8).copy(), ptr,
                   np.array(sizes, np.int32), np.array(doc_block, np.int32), np.array(begin, np.int32),
                   np.array(end, np.int32))

    @classmethod
    def concat(cls, parts: Sequence[DocStore]) -> DocStore:
        if len(parts) == 1:
            return parts[0]
        blocks = np.cumsum([0] + [p.block_ptr.shape[0] - 1 for p in parts])
        sizes = np.concatenate([np.diff(p.block_ptr) for p in parts])
        ptr = np.zeros(sizes.shape[0] + 1, dtype=np.int64)
        np.cumsum(sizes, out=ptr[1:])
        return cls(np.concatenate([p.blob for p in parts]), ptr,
                   np.concatenate([p.block_len for p in parts]),
                   np.concatenate([p.doc_block + off for p, off in
                                   zip(parts, blocks.tolist(), strict=False)]).astype(np.int32),
                   np.concatenate([p.doc_begin for p in parts]),
                   np.concatenate([p.doc_end for p in parts]))

    @classmethod
    def empty(cls) -> DocStore:
        return cls(np.empty(0, np.uint8), np.zeros(1, np.int64), np.empty(0, np.int32),
                   np.empty(0, np.int32), np.empty(0, np.int32), np.empty(0, np.int32))

    @property
    def nbytes(self) -> int:
        return int(self.blob.nbytes + self.block_ptr.nbytes + self.block_len.nbytes
                   + 3 * self.doc_block.nbytes)


class OfferDocs(Sequence[Opportunity]):
    """The documents of n offers, read lazily from a :class:`DocStore` (``order`` maps each
    offer to its document there). Indexing gives a validated :class:`Opportunity` (tens of
    µs: only the shown offers are read); a slice gives a view. No Python object per offer."""

    def __init__(self, store: DocStore, order: np.ndarray | None = None,
                 start: int = 0, stop: int | None = None) -> None:
        self.store = store
        self.order = np.arange(len(store), dtype=np.int64) if order is None else order
        self.start = start
        self.stop = int(self.order.shape[0]) if stop is None else stop

    def __len__(self) -> int:
        return max(0, self.stop - self.start)

    def raw(self, i: int) -> bytes:
        """The JSON document of offer ``i`` (of this view)."""
        return self.store.raw(int(self.order[self.start + i]))

    @overload
    def __getitem__(self, i: int) -> Opportunity: ...
    @overload
    def __getitem__(self, i: slice) -> OfferDocs: ...
    def __getitem__(self, i: int | slice) -> Opportunity | OfferDocs:
        n = len(self)
        if isinstance(i, slice):
            lo, hi, step = i.indices(n)
            if step != 1:
                raise ValueError("OfferDocs slices take a step of 1")
            return OfferDocs(self.store, self.order, self.start + lo, self.start + max(lo, hi))
        i = int(i)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(i)
        return self.store.document(int(self.order[self.start + i]))

    def __iter__(self) -> Iterator[Opportunity]:
        """Every document, validated (not kept: a full scan would only evict the shown
        offers from the store's cache)."""
        for i in range(len(self)):
            yield Opportunity.model_validate_json(self.raw(i))

    def take(self, positions: Sequence[int]) -> _Picked:
        return _Picked(self, np.asarray(positions, dtype=np.int64))

    def reordered(self, positions: np.ndarray) -> OfferDocs:
        """The documents at ``positions`` (of this view), as a new view (nothing copied but
        the order)."""
        return OfferDocs(self.store, self.order[self.start + positions])

    @property
    def nbytes(self) -> int:
        return int(self.store.nbytes + self.order.nbytes)


class _Picked(Sequence[Opportunity]):
    """Some documents of an :class:`OfferDocs`, by position (read lazily)."""

    def __init__(self, docs: OfferDocs, positions: np.ndarray) -> None:
        self.docs, self.positions = docs, positions
        self._read: dict[int, Opportunity] = {}  # each document read once (explanations)

    def __len__(self) -> int:
        return int(self.positions.shape[0])

    def __getitem__(self, i):
        i = int(i)
        opp = self._read.get(i)
        if opp is None:
            opp = self._read[i] = self.docs[int(self.positions[i])]
        return opp


#: The codec of the stored document blocks: LZ4 frames (Arrow's, thread-safe: a context per
#: call). Reading a shown offer is decompressing its block: the fastest codec at hand wins.
CODEC = pa.Codec("lz4")


def document_bytes(opportunity: Opportunity) -> bytes:
    return opportunity.model_dump_json(exclude_none=True).encode()


#: Side of a grid cell, degrees (offers and people: ``PointGrid``, ``people.PeopleGrid``).
CELL_DEG = 0.1


def cell_keys(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """The grid cell of each point, as one sortable int64 key (row-major: latitude first)."""
    return _key(np.floor(lat / CELL_DEG), np.floor(lon / CELL_DEG))


def _key(ilat: np.ndarray, ilon: np.ndarray) -> np.ndarray:
    return (ilat.astype(np.int64) + 2000) * 10_000 + (ilon.astype(np.int64) + 5000)


def cell_index(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The points sorted by cell: (``order``: point positions in cell order, ``keys``: the
    occupied cells sorted, ``ptr``: the points of ``keys[i]`` are ``order[ptr[i]:ptr[i+1]]``)."""
    key = cell_keys(lat, lon)
    order = np.argsort(key, kind="stable").astype(np.int64)
    keys, first = np.unique(key[order], return_index=True)
    return order, keys, np.append(first, order.shape[0]).astype(np.int64)


def cells_near(keys: np.ndarray, lat: float, lon: float, radius_km: float) -> np.ndarray:
    """Positions in ``keys`` (occupied cells, sorted) of the cells that touch the circle of
    ``radius_km`` around the point, ascending (the cells' rows are then consecutive runs)."""
    if not keys.size:
        return np.empty(0, np.int64)
    c = CELL_DEG
    dlat = radius_km / 111.0 + c
    lat_lo, lat_hi = math.floor((lat - dlat) / c), math.floor((lat + dlat) / c)
    coslat = max(math.cos(math.radians(min(abs(lat) + dlat, 89.0))), 0.01)
    dlon = radius_km / (111.0 * coslat) + c
    lon_lo, lon_hi = math.floor((lon - dlon) / c), math.floor((lon + dlon) / c)
    glat, glon = np.meshgrid(np.arange(lat_lo, lat_hi + 1), np.arange(lon_lo, lon_hi + 1),
                             indexing="ij")
    ilat, ilon = glat.ravel(), glon.ravel()
    # the closest point of each cell to (lat, lon), then its crow-fly distance
    clat = np.clip(lat, ilat * c, (ilat + 1) * c)
    clon = np.clip(lon, ilon * c, (ilon + 1) * c)
    near = haversine_km(lat, lon, clat, clon) <= radius_km
    wanted = _key(ilat[near], ilon[near])
    at = np.minimum(np.searchsorted(keys, wanted), keys.shape[0] - 1)
    return at[keys[at] == wanted]  # ascending: keys are row-major, like the meshgrid


class PointGrid:
    """A uniform grid (cells of ``CELL_DEG`` degrees) over points, answering "which points may
    lie within r km of (lat, lon)" with the points of the cells that touch the circle (a
    superset, in position order). Columnar: the positions sorted by cell, one pointer per
    occupied cell."""

    def __init__(self, lat: np.ndarray, lon: np.ndarray) -> None:
        self.n = int(lat.shape[0])
        self.members, self.keys, self.ptr = cell_index(lat, lon)

    def query(self, lat: float, lon: float, radius_km: float) -> np.ndarray:
        """Sorted positions of the points of every cell within ``radius_km`` of the point."""
        idx = self.query_members(lat, lon, radius_km)
        return np.sort(self.members[idx]) if idx.size else idx

    def query_members(self, lat: float, lon: float, radius_km: float) -> np.ndarray:
        """The same points as :meth:`query`, as indices into ``members`` (grid order: runs of
        consecutive numbers, one per cell; not sorted by position). Columns copied in grid
        order are read through them without a random gather."""
        at = cells_near(self.keys, lat, lon, radius_km)
        if not at.size:
            return np.empty(0, np.int64)
        return _ranges(self.ptr[at], self.ptr[at + 1] - self.ptr[at])

    @property
    def nbytes(self) -> int:
        return int(self.members.nbytes + self.keys.nbytes + self.ptr.nbytes)


@dataclass(frozen=True)
class OfferTable:
    """Every offer, columnar, in (département, id) order: the arrays the matcher reads, the
    ids, the compressed documents, a spatial grid and the live counts per (département, kind).

    Memory is a few hundred bytes per offer; no Python object per offer. The per-département
    :class:`OpportunityIndex` are views of it.
    """

    ids: np.ndarray  # str, (département, id) order
    department: np.ndarray  # str
    arrays: OfferArrays
    docs: OfferDocs
    departments: tuple[str, ...]  # sorted
    dept_ptr: np.ndarray  # (D + 1,) first position of each département
    grid: PointGrid
    vocab: np.ndarray  # sorted unique skill token hashes
    token_ids: np.ndarray  # int32 position in vocab of each arrays.tokens
    id_order: np.ndarray  # positions sorted by id (lookup by id)
    #: uint64 signature of each offer's skill tokens (bit = token mod 64): an offer whose
    #: signature meets none of a person's bits has no token of theirs
    skill_sig: np.ndarray
    #: (département, kind code) -> sorted expiry ordinals (no expiry: +inf), for live counts
    expiries: dict[tuple[str, int], np.ndarray]
    #: what one request reads per offer within reach, in grid order (derived, not saved)
    hot: HotColumns

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    # ------------------------------------------------------------------ building
    @classmethod
    def from_columns(cls, ids: np.ndarray, department: np.ndarray, arrays: OfferArrays,
                     docs: OfferDocs) -> OfferTable:
        """The table of columns already in (département, id) order."""
        departments, first = np.unique(department, return_index=True)
        dept_ptr = np.append(first, len(ids)).astype(np.int64)
        vocab, token_ids = np.unique(arrays.tokens, return_inverse=True)
        expiries: dict[tuple[str, int], np.ndarray] = {}
        exp = np.where(np.isnan(arrays.expires), np.inf, arrays.expires)
        for d, lo, hi in zip(departments.tolist(), dept_ptr[:-1].tolist(), dept_ptr[1:].tolist(),
                             strict=True):
            kinds = arrays.kind_code[lo:hi]
            for k in np.unique(kinds).tolist():
                expiries[(d, int(k))] = np.sort(exp[lo:hi][kinds == k])
        grid = PointGrid(arrays.lat, arrays.lon)
        skill_sig = _signatures(arrays)
        return cls(ids=ids, department=department, arrays=arrays, docs=docs,
                   departments=tuple(departments.tolist()), dept_ptr=dept_ptr,
                   grid=grid, vocab=vocab,
                   token_ids=token_ids.astype(np.int32).reshape(-1),
                   id_order=np.argsort(ids, kind="stable"), expiries=expiries,
                   skill_sig=skill_sig, hot=HotColumns.build(arrays, dept_ptr, grid, skill_sig))

    @classmethod
    def build(cls, opportunities: Iterable[Opportunity], rome: RomeReferential,
              chunk: int = 20_000) -> OfferTable:
        """The table of ``opportunities`` (any order; read ``chunk`` at a time, so that a
        streamed source is never held whole as objects)."""
        builder = TableBuilder(rome)
        batch: list[Opportunity] = []
        for opp in opportunities:
            batch.append(opp)
            if len(batch) >= chunk:
                builder.add(batch)
                batch = []
        builder.add(batch)
        return builder.table()

    @classmethod
    def build_from_json(cls, documents: Iterable[str | bytes], rome: RomeReferential,
                        chunk: int = 20_000, workers: int = 1) -> OfferTable:
        """The table of offers given as JSON documents (e.g. read from the database), each
        validated as an :class:`Opportunity`; the text itself is what is compressed.

        ``workers`` > 1: chunks are validated and turned into columns by that many worker
        processes (spawned: no fork of a threaded server), at most two chunks each in flight
        so that memory stays bounded; the table is the same (rows sorted by département and
        id either way)."""
        builder = TableBuilder(rome)
        chunks = _chunks(documents, chunk)
        if workers <= 1:
            for raw in chunks:
                builder.add_columns(*_chunk_columns(raw, rome))
            return builder.table()
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                 initargs=(rome,)) as pool:
            pending: deque[Future] = deque()
            for raw in chunks:
                pending.append(pool.submit(_worker_columns, raw))
                if len(pending) >= 2 * workers:
                    builder.add_columns(*pending.popleft().result())
            while pending:
                builder.add_columns(*pending.popleft().result())
        return builder.table()

    def with_added(self, opportunities: Sequence[Opportunity], rome: RomeReferential
                   ) -> OfferTable:
        """This table plus ``opportunities`` (same id: replaced), without re-reading the
        documents already held: only the new offers are turned into arrays."""
        builder = TableBuilder(rome)
        new_ids = np.array([o.id for o in opportunities], dtype=str)
        keep = ~np.isin(self.ids, new_ids) if len(opportunities) else np.ones(len(self), bool)
        kept = np.flatnonzero(keep)
        builder.add_columns(self.ids[kept], self.department[kept], self.arrays.take(kept),
                            self.docs.store, self.docs.order[self.docs.start + kept])
        builder.add(list(opportunities))
        return builder.table()

    # ------------------------------------------------------------------ reading
    def positions_of(self, ids: Sequence[str]) -> np.ndarray:
        """Positions of these ids (-1 for an unknown one)."""
        want = np.asarray(list(ids), dtype=str)
        if not len(self) or not want.size:
            return np.full(want.shape[0], -1, np.int64)
        sorted_ids = self.ids[self.id_order]
        at = np.minimum(np.searchsorted(sorted_ids, want), len(self) - 1)
        found = sorted_ids[at] == want
        return np.where(found, self.id_order[at], -1).astype(np.int64)

    def dept_range(self, department: str) -> tuple[int, int]:
        k = self.departments.index(department)
        return int(self.dept_ptr[k]), int(self.dept_ptr[k + 1])

    def live_count(self, department: str, kind_code: int, today: date) -> int:
        exp = self.expiries.get((department, kind_code))
        if exp is None:
            return 0
        return int(exp.shape[0] - np.searchsorted(exp, today.toordinal(), side="left"))

    def indexes(self) -> dict[str, OpportunityIndex]:
        """One :class:`OpportunityIndex` (a view) per département."""
        out = {}
        for k, d in enumerate(self.departments):
            lo, hi = int(self.dept_ptr[k]), int(self.dept_ptr[k + 1])
            arrays = self.arrays.slice(lo, hi)
            box = (float(arrays.lat.min()), float(arrays.lat.max()),
                   float(arrays.lon.min()), float(arrays.lon.max()))
            out[d] = OpportunityIndex(department=d, opportunities=self.docs[lo:hi],
                                      ids=self.ids[lo:hi], arrays=arrays, box=box,
                                      table=self, start=lo)
        return out

    @property
    def nbytes(self) -> int:
        arrays = sum(getattr(self.arrays, f.name).nbytes for f in fields(OfferArrays))
        return int(arrays + self.ids.nbytes + self.department.nbytes + self.docs.nbytes
                   + self.grid.nbytes + self.token_ids.nbytes + self.id_order.nbytes
                   + self.hot.nbytes)

    # ------------------------------------------------------------------ snapshot
    def save(self, path: Path, fingerprint: str) -> None:
        """Write the table to ``path`` (numpy ``.npz``, uncompressed), atomically."""
        cols = {f"a_{f.name}": getattr(self.arrays, f.name) for f in fields(OfferArrays)}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
        store = self.docs.store
        np.savez(tmp, **cols, ids=self.ids, department=self.department, blob=store.blob,
                 block_ptr=store.block_ptr, block_len=store.block_len, doc_block=store.doc_block,
                 doc_begin=store.doc_begin, doc_end=store.doc_end,
                 order=self.docs.order[self.docs.start:self.docs.stop],
                 meta=np.array([SNAPSHOT_VERSION, fingerprint]))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path, fingerprint: str) -> OfferTable | None:
        """The table saved at ``path`` for ``fingerprint``; None when absent, of another
        version or of another state of the offers table."""
        try:
            with np.load(path, allow_pickle=False) as z:
                if z["meta"].tolist() != [SNAPSHOT_VERSION, fingerprint]:
                    return None
                arrays = OfferArrays(**{f.name: z[f"a_{f.name}"] for f in fields(OfferArrays)})
                store = DocStore(z["blob"], z["block_ptr"], z["block_len"], z["doc_block"],
                                 z["doc_begin"], z["doc_end"])
                docs = OfferDocs(store, z["order"])
                return cls.from_columns(z["ids"], z["department"], arrays, docs)
        except (OSError, KeyError, ValueError):
            return None


def _codes(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(code of each row's combination of values, a row of each code): NaN is a value."""
    key = np.zeros(columns[0].shape[0] if columns else 0, dtype=np.int64)
    for col in columns:
        if col.dtype.kind == "f":  # NaNs are one value (numpy's unique: equal_nan)
            _, col = np.unique(col, return_inverse=True, equal_nan=True)
        col = col.reshape(-1).astype(np.int64)
        span = int(col.max()) - int(col.min()) + 1 if col.size else 1
        key = key * span + (col - (int(col.min()) if col.size else 0))
    _, first, code = np.unique(key, return_index=True, return_inverse=True)
    return code.reshape(-1).astype(np.int32), first.astype(np.int64)


#: The offer columns the walls and the score's upper bound read besides the trip and the
#: ROME fiche: offers alike on them are alike for every wall but travel and history
#: (``matcher/opportunity_recommend.py`` evaluates one offer of each class per request).
CLASS_COLUMNS = ("kind_code", "licence_b_required", "licence_other_required", "atypical",
                 "training_required", "training_level", "age_max", "experience", "durable",
                 "insertion_contract", "iae", "licence_b_desired")
#: The ROME columns (fiche, ROME v3 parent, domaine, grand domaine) of the proximity term.
ROME_COLUMNS = ("rome_pos", "rome_v3", "rome_dp", "rome_gd")


@dataclass(frozen=True)
class HotColumns:
    """What one request reads for every offer within reach, copied in the grid's order
    (``PointGrid.members``) so that the cells within reach are runs of consecutive rows:
    radians and cosine of the latitude (the haversine's terms, as ``geo.haversine_km``
    computes them), expiry (+inf: none), kind, département number, class (see
    :data:`CLASS_COLUMNS`), ROME combination, skill signature and hours. About 60 bytes per
    offer.
    ``first`` / ``rome_first``: a table position of each class / ROME combination."""

    position: np.ndarray  # int64 table position of each row (the grid's members)
    phi: np.ndarray
    lam: np.ndarray
    cos_phi: np.ndarray
    expires: np.ndarray
    kind: np.ndarray  # int8
    dept: np.ndarray  # int16 index into OfferTable.departments
    cls: np.ndarray  # int32
    rome: np.ndarray  # int32
    sig: np.ndarray  # uint64
    hours: np.ndarray  # float, NaN unknown
    first: np.ndarray  # (C,) int64
    rome_first: np.ndarray  # (Rc,) int64
    reps: OfferArrays  # the offers at ``first``: one of each class

    @classmethod
    def build(cls, arrays: OfferArrays, dept_ptr: np.ndarray, grid: PointGrid,
              skill_sig: np.ndarray) -> HotColumns:
        n = len(arrays)
        cols = [getattr(arrays, c) for c in CLASS_COLUMNS]
        cols[CLASS_COLUMNS.index("atypical")] = arrays.atypical.any(axis=1) if n else \
            np.zeros(0, bool)
        code, first = _codes(*cols)
        rome, rome_first = _codes(*(getattr(arrays, c) for c in ROME_COLUMNS))
        dept = np.repeat(np.arange(dept_ptr.shape[0] - 1, dtype=np.int16), np.diff(dept_ptr))
        m = grid.members
        phi = np.radians(arrays.lat[m])
        return cls(position=m, phi=phi, lam=np.radians(arrays.lon[m]), cos_phi=np.cos(phi),
                   expires=np.where(np.isnan(arrays.expires), np.inf, arrays.expires)[m],
                   kind=arrays.kind_code[m].astype(np.int8), dept=dept[m], cls=code[m],
                   rome=rome[m], sig=skill_sig[m], hours=arrays.hours[m], first=first,
                   rome_first=rome_first, reps=arrays.take(first))

    @property
    def nbytes(self) -> int:
        return int(sum(getattr(self, f.name).nbytes for f in fields(self)
                       if f.name not in ("position", "reps")))  # the grid's; a few rows


def _signatures(arrays: OfferArrays) -> np.ndarray:
    n = len(arrays)
    sig = np.zeros(n, dtype=np.uint64)
    per_offer = np.zeros(n, dtype=np.int64)
    if arrays.tokens.size:
        tok_per_skill = arrays.skill_tok_count
        owner_skill = np.repeat(np.arange(n, dtype=np.int64), arrays.skill_count)
        np.add.at(per_offer, owner_skill, tok_per_skill)
        bits = np.left_shift(np.uint64(1), arrays.tokens.astype(np.uint64) & np.uint64(63))
        has = per_offer > 0
        starts = _starts(per_offer)[has]
        sig[has] = np.bitwise_or.reduceat(bits, starts)
    return sig


#: Bump when the snapshot's columns change (an old snapshot is then rebuilt).
SNAPSHOT_VERSION = "offers-3"


def _chunks(documents: Iterable[str | bytes], size: int) -> Iterator[list[bytes]]:
    raw: list[bytes] = []
    for doc in documents:
        raw.append(doc.encode() if isinstance(doc, str) else doc)
        if len(raw) >= size:
            yield raw
            raw = []
    if raw:
        yield raw


def _chunk_columns(raw: list[bytes], rome: RomeReferential
                   ) -> tuple[np.ndarray, np.ndarray, OfferArrays, DocStore, np.ndarray]:
    """One chunk of JSON documents validated and turned into :meth:`TableBuilder.add_columns`'
    arguments (the documents' own text is what is compressed)."""
    opportunities = [Opportunity.model_validate_json(data) for data in raw]
    return (np.array([o.id for o in opportunities], dtype=str),
            np.array([o.location.department for o in opportunities], dtype=str),
            offer_arrays(opportunities, rome), DocStore.encode(raw),
            np.arange(len(opportunities), dtype=np.int64))


_WORKER_ROME: RomeReferential | None = None


def _init_worker(rome: RomeReferential) -> None:
    global _WORKER_ROME
    _WORKER_ROME = rome


def _worker_columns(raw: list[bytes]
                    ) -> tuple[np.ndarray, np.ndarray, OfferArrays, DocStore, np.ndarray]:
    assert _WORKER_ROME is not None
    return _chunk_columns(raw, _WORKER_ROME)


class TableBuilder:
    """Accumulates offers chunk by chunk (arrays + compressed documents), then sorts them in
    (département, id) order into an :class:`OfferTable`."""

    def __init__(self, rome: RomeReferential) -> None:
        self.rome = rome
        self.ids: list[np.ndarray] = []
        self.depts: list[np.ndarray] = []
        self.arrays: list[OfferArrays] = []
        self.stores: list[DocStore] = []
        self.orders: list[np.ndarray] = []

    def add(self, opportunities: Sequence[Opportunity],
            documents: Sequence[bytes] | None = None) -> None:
        """Add offers (``documents``: their JSON when already at hand)."""
        if not opportunities:
            return
        self.add_columns(np.array([o.id for o in opportunities], dtype=str),
                         np.array([o.location.department for o in opportunities], dtype=str),
                         offer_arrays(opportunities, self.rome),
                         DocStore.encode(documents if documents is not None
                                         else [document_bytes(o) for o in opportunities]),
                         np.arange(len(opportunities), dtype=np.int64))

    def add_columns(self, ids: np.ndarray, depts: np.ndarray, arrays: OfferArrays,
                    store: DocStore, order: np.ndarray) -> None:
        """Offers already as columns; ``order``: their documents' numbers in ``store``."""
        self.ids.append(ids)
        self.depts.append(depts)
        self.arrays.append(arrays)
        self.stores.append(store)
        self.orders.append(order)

    def table(self) -> OfferTable:
        if not self.ids:
            return OfferTable.from_columns(np.empty(0, dtype="<U1"), np.empty(0, dtype="<U1"),
                                           offer_arrays([], self.rome),
                                           OfferDocs(DocStore.empty()))
        ids = np.concatenate(self.ids)
        depts = np.concatenate(self.depts)
        arrays = concat_arrays(self.arrays)
        firsts = np.cumsum([0] + [len(x) for x in self.stores])
        order = np.concatenate([o + f for o, f in zip(self.orders, firsts.tolist(),
                                                      strict=False)])
        docs = OfferDocs(DocStore.concat(self.stores), order)
        sort = np.lexsort((ids, depts))
        if not np.array_equal(sort, np.arange(sort.shape[0])):
            arrays = arrays.take(sort)
            docs = docs.reordered(sort)
            ids, depts = ids[sort], depts[sort]
        return OfferTable.from_columns(ids, depts, arrays, docs)


@dataclass(frozen=True)
class OpportunityIndex:
    """The offers located in one département, vectorised (a view of the :class:`OfferTable`
    when built from one: ``table`` and ``start``, its first position there)."""

    department: str
    opportunities: Sequence[Opportunity]
    ids: np.ndarray  # str
    arrays: OfferArrays
    box: tuple[float, float, float, float]  # lat_min, lat_max, lon_min, lon_max
    table: OfferTable | None = None
    start: int = 0

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def position(self, opportunity_id: str) -> int | None:
        if self.table is not None:
            pos = int(self.table.positions_of([opportunity_id])[0])
            inside = 0 <= pos - self.start < len(self)
            return pos - self.start if pos >= 0 and inside else None
        hits = np.flatnonzero(self.ids == opportunity_id)
        return int(hits[0]) if hits.size else None

    def live(self, today: date) -> np.ndarray:
        """Offers not expired on ``today`` (no expiry date: live)."""
        expires = self.arrays.expires
        with np.errstate(invalid="ignore"):
            return np.isnan(expires) | (expires >= today.toordinal())

    def distance_to_box_km(self, lat: float, lon: float) -> float:
        """Crow-fly km from (lat, lon) to the bounding box of the offers (0 inside)."""
        lat_min, lat_max, lon_min, lon_max = self.box
        clat = min(max(lat, lat_min), lat_max)
        clon = min(max(lon, lon_min), lon_max)
        return float(haversine_km(lat, lon, clat, clon))


def _level(value: str | None) -> float:
    if value is None:
        return np.nan
    return 2.0 if value == "infra3" else float(value)


@lru_cache(maxsize=65_536)
def _skill_tokens(skill: str) -> tuple[int, ...]:
    """``skill_tokens`` of one skill text, once per distinct text (offers repeat them)."""
    return tuple(skill_tokens(skill).tolist())


def offer_arrays(opportunities: Sequence[Opportunity], rome: RomeReferential) -> OfferArrays:
    n = len(opportunities)
    rome_pos = np.array([rome.position.get(o.rome_code, -1) if o.rome_code else -1
                         for o in opportunities], dtype=np.int32)
    has = rome_pos >= 0
    safe = np.where(has, rome_pos, 0)

    def pick(table: np.ndarray) -> np.ndarray:
        return np.where(has, table[safe], -1).astype(np.int32) if n else np.empty(0, np.int32)

    atypical = np.zeros((n, len(ATYPICAL)), dtype=bool)
    skill_count = np.zeros(n, dtype=np.int64)
    tok_counts: list[int] = []
    tokens: list[int] = []
    for i, o in enumerate(opportunities):
        for flag in o.atypical_hours:
            atypical[i, ATYPICAL.index(flag.value)] = True
        for skill in o.skills:
            toks = _skill_tokens(skill)
            if toks:
                skill_count[i] += 1
                tok_counts.append(len(toks))
                tokens.extend(toks)
    tok_count = np.array(tok_counts, dtype=np.int64)

    def licence(o: Opportunity, category: str | None, required: bool) -> bool:
        return any((lic.category == category if category else lic.category != "B")
                   and lic.required == required for lic in o.licences)

    def durable(o: Opportunity) -> bool:
        if o.contract_type in ("CDI", "DIN"):
            return True
        return o.contract_type == "CDD" and (o.contract_months or 0) >= DURABLE_CDD_MONTHS

    return OfferArrays(
        lat=np.array([o.location.lat for o in opportunities], dtype=float),
        lon=np.array([o.location.lon for o in opportunities], dtype=float),
        kind=np.array([o.kind for o in opportunities], dtype=str),
        kind_code=np.array([OPPORTUNITY_KINDS.index(o.kind) for o in opportunities],
                           dtype=np.int64),
        rome_pos=rome_pos,
        rome_dp=pick(rome.dp_index),
        rome_gd=pick(rome.gd_index),
        rome_v3=pick(rome.v3_index),
        durable=np.array([durable(o) for o in opportunities], dtype=bool),
        insertion_contract=np.array([o.contract_type in INSERTION_CONTRACTS or o.iae
                                     for o in opportunities], dtype=bool),
        iae=np.array([o.iae for o in opportunities], dtype=bool),
        age_max=np.array([APPRENTICESHIP_AGE_MAX if o.contract_type == "APP" else np.nan
                          for o in opportunities], dtype=float),
        hours=np.array([np.nan if o.hours_per_week is None else o.hours_per_week
                        for o in opportunities], dtype=float),
        atypical=atypical,
        training_level=np.array([_level(o.training_level.value if o.training_level else None)
                                 for o in opportunities], dtype=float),
        training_required=np.array([o.training_required for o in opportunities], dtype=bool),
        experience=np.array([EXPERIENCE_CODES[o.experience] for o in opportunities], np.int8),
        licence_b_required=np.array([licence(o, "B", True) for o in opportunities], bool),
        licence_b_desired=np.array([licence(o, "B", False) and not licence(o, "B", True)
                                    for o in opportunities], bool),
        licence_other_required=np.array([licence(o, None, True) for o in opportunities], bool),
        expires=np.array([np.nan if o.expires_at is None else float(o.expires_at.toordinal())
                          for o in opportunities], dtype=float),
        skill_start=np.concatenate([[0], np.cumsum(skill_count)[:-1]]).astype(np.int64)
        if n else np.empty(0, np.int64),
        skill_count=skill_count,
        skill_tok_start=np.concatenate([[0], np.cumsum(tok_count)[:-1]]).astype(np.int64)
        if tok_count.size else np.empty(0, np.int64),
        skill_tok_count=tok_count,
        tokens=np.array(tokens, dtype=np.int64),
    )


def build_opportunity_index(
    department: str, opportunities: Sequence[Opportunity], rome: RomeReferential
) -> OpportunityIndex:
    """A stand-alone index of ``opportunities`` in the given order (no table, no grid)."""
    arrays = offer_arrays(opportunities, rome)
    docs = OfferDocs(DocStore.encode([document_bytes(o) for o in opportunities]))
    if len(opportunities):
        box = (float(arrays.lat.min()), float(arrays.lat.max()),
               float(arrays.lon.min()), float(arrays.lon.max()))
    else:
        box = (math.nan,) * 4
    return OpportunityIndex(department=department, opportunities=docs,
                            ids=np.array([o.id for o in opportunities], dtype=str),
                            arrays=arrays, box=box)


def build_opportunity_indexes(
    opportunities: Sequence[Opportunity] | OfferTable, rome: RomeReferential
) -> dict[str, OpportunityIndex]:
    """One :class:`OpportunityIndex` per département of the work place, in id order (views of
    one :class:`OfferTable`)."""
    table = opportunities if isinstance(opportunities, OfferTable) else OfferTable.build(
        opportunities, rome)
    return table.indexes()
