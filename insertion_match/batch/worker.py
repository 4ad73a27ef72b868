"""What runs on a Dask worker: the engine, built once per worker process, and one partition.

The engine is the service's own (:func:`insertion_match.service.state.build_state` with the
driver's settings: same database, catalogue, offers and model), built by a worker plugin when
the worker joins the run, and kept in a per-process cache keyed by the run's token: every
partition the worker ranks afterwards reuses it. A worker that joins later builds it when the
plugin reaches it, or at its first partition.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
from distributed import WorkerPlugin

from insertion_match.batch.people import PersonRow
from insertion_match.batch.rows import recommendation_rows, rows_table
from insertion_match.matcher.engine import MatchingEngine

#: Engines of this process, by run token (at most one run's engine is kept).
_ENGINES: dict[str, MatchingEngine] = {}
#: How many times this process built the engine of a run (the "built once" check).
_LOADS: dict[str, int] = {}
_LOCK = threading.Lock()

PLUGIN_NAME = "insertion-match-engine"


def _build(settings) -> MatchingEngine:
    from insertion_match.service.state import build_state

    state = build_state(settings)
    try:
        return state.engine
    finally:
        state.close()  # the engine holds no connection: ranking reads no database


def worker_engine(token: str, settings) -> MatchingEngine:
    """The engine of run ``token`` in this process, built on first use only."""
    engine = _ENGINES.get(token)
    if engine is not None:
        return engine
    with _LOCK:
        if token not in _ENGINES:
            _ENGINES.clear()  # a new run: drop the previous run's engine
            _ENGINES[token] = _build(settings)
            _LOADS[token] = _LOADS.get(token, 0) + 1
        return _ENGINES[token]


def engine_loads(token: str) -> int:
    """How many engines this process built for run ``token`` (``Client.run`` reads it)."""
    return _LOADS.get(token, 0)


class EngineOnWorker(WorkerPlugin):
    """Builds the run's engine when registered on a worker (before any partition)."""

    name = PLUGIN_NAME

    def __init__(self, token: str, settings):
        self.token = token
        self.settings = settings

    def setup(self, worker) -> None:
        worker_engine(self.token, self.settings)

    def teardown(self, worker) -> None:
        with _LOCK:
            _ENGINES.pop(self.token, None)


@dataclass(frozen=True)
class PartitionFailure:
    """A person the engine could not rank: returned, not raised, so that Dask never logs the
    task's arguments (the profiles: freins, health) with a "Compute Failed" line."""

    person_id: str
    error: str  # the exception's class name only


@dataclass(frozen=True)
class RankedPartition:
    """One partition's answer: its rows, and what each person was shown (for the audit:
    person id, home INSEE code, model name and version, the ids of the items, in the
    answer's order)."""

    table: pa.Table
    shown: tuple[tuple[str, str, str, str, tuple[str, ...]], ...]


def rank_partition(
    token: str, settings, people: Sequence[PersonRow], kinds: Sequence[str], limit: int,
    include_excluded: bool,
) -> RankedPartition | PartitionFailure:
    """The answer rows of one partition (people of one département), in the people's order."""
    engine = worker_engine(token, settings)
    rows: list[dict] = []
    shown = []
    for person in people:
        try:
            result = engine.recommend(person.profile, kinds, limit, include_excluded)
        except Exception as exc:  # noqa: BLE001 - reported by the driver, without the profile
            return PartitionFailure(person.person_id, type(exc).__name__)
        rows.extend(recommendation_rows(person.person_id, person.department, result))
        shown.append((person.person_id, result.home_insee, result.model_name,
                      result.model_version, tuple(item.id for item in result.items)))
    return RankedPartition(rows_table(rows), tuple(shown))
