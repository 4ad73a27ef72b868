"""Offers in the service: the ROME referential and stored offers at start-up, the embedded demo
offers on first start, file imports (API and CLI), and the people index of reverse matching.

Library functions over ``ServiceState``; routes and CLI commands stay thin.
"""

from __future__ import annotations

import json
import logging
import threading
import zlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sqlalchemy.orm import Session, sessionmaker

from insertion_match.features.demo_offers import DEMO_FILE, DEMO_SOURCE
from insertion_match.features.offers_import import ImportBatch, parse_csv, parse_france_travail
from insertion_match.features.opportunity_index import OfferTable
from insertion_match.features.people import (
    PeopleArrays,
    PersonRecord,
    build_people,
    resolve_targets,
)
from insertion_match.features.rome import RomeReferential
from insertion_match.geo import Gazetteer
from insertion_match.matcher.engine import MatchingEngine
from insertion_match.service import db
from insertion_match.service.db import opportunities as stored_offers
from insertion_match.service.settings import Settings

if TYPE_CHECKING:
    from insertion_match.service.state import ServiceState

log = logging.getLogger("insertion_match.service")

Format = Literal["json", "csv"]


@lru_cache(maxsize=4)
def load_rome(data_dir: Path) -> RomeReferential:
    """The ROME referential of ``data_dir``, loaded once per process (it is immutable)."""
    return RomeReferential.load(data_dir)


def parse_offers(
    text: str, fmt: Format, gazetteer: Gazetteer, rome: RomeReferential, source: str | None
) -> ImportBatch:
    """Parse a France Travail JSON or CSV document. Raises ``ValueError`` for a document that
    is not JSON / has the wrong shape / a bad CSV header (nothing to report per record)."""
    if fmt == "json":
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"invalid JSON: {exc}") from exc
        except RecursionError as exc:
            raise ValueError("invalid JSON: nested too deeply") from exc
        return parse_france_travail(payload, gazetteer, rome, source or "france-travail")
    return parse_csv(text, gazetteer, rome, source or "csv")


@dataclass(frozen=True)
class ImportOutcome:
    batch: ImportBatch
    imported: bool
    report: db.UpsertReport | None


def import_offers(
    state: ServiceState, batch: ImportBatch, origin: str, skip_invalid: bool
) -> ImportOutcome:
    """Store a parsed batch atomically and swap in an engine that serves it.

    Without ``skip_invalid``, one rejected record means nothing is written (the report still
    lists every rejection). Re-importing the same file changes no offer.
    """
    if batch.rejected and not skip_invalid:
        return ImportOutcome(batch, imported=False, report=None)
    with state._lock:
        merged = {o.id: o for o in state.engine.opportunities}
        merged.update((o.id, o) for o in batch.opportunities)
        candidate = state.engine.with_opportunities(list(merged.values()))  # before any write
        report = db.upsert_opportunities(state.sessions, batch.opportunities, batch.source,
                                         origin, rejected=len(batch.rejected))
        state.engine = candidate
    log.info("offers imported", extra={"kind": batch.source, "count": len(batch.opportunities)})
    return ImportOutcome(batch, imported=True, report=report)


#: The columnar snapshot of the stored offers, under the var dir (see docs/scale.md).
SNAPSHOT_FILE = "offers-index.npz"


def offers_fingerprint(sessions: sessionmaker[Session], rome: RomeReferential) -> str:
    """The state of the offers table and of the ROME referential the arrays depend on."""
    codes = zlib.crc32("|".join(rome.codes).encode())
    return f"{stored_offers.opportunities_fingerprint(sessions)}|rome:{len(rome.codes)}:{codes}"


def with_stored_offers(
    settings: Settings, sessions: sessionmaker[Session], engine: MatchingEngine
) -> MatchingEngine:
    """``engine`` with the ROME referential and the stored offers (the demo offers are seeded
    before, under the start-up lock: :func:`seed_demo_offers`).

    The offers' columnar table is loaded from its snapshot (``var/offers-index.npz``) when
    the offers table has not changed since it was written (same fingerprint); otherwise it
    is built from the stored documents, read a chunk at a time, and the snapshot rewritten.
    """
    rome = load_rome(settings.data_dir)
    engine = replace(engine, rome=rome)
    fingerprint = offers_fingerprint(sessions, rome)
    path = settings.var_dir / SNAPSHOT_FILE
    table = OfferTable.load(path, fingerprint)
    source = "snapshot"
    if table is None:
        source = "database"
        table = OfferTable.build_from_json(stored_offers.iter_opportunity_json(sessions), rome)
        _save_snapshot(table, path, fingerprint)
    log.info("offers ready", extra={"count": len(table), "kind": source})
    return engine.with_opportunities(table)


def save_offers_snapshot(settings: Settings, sessions: sessionmaker[Session],
                         engine: MatchingEngine) -> None:
    """Write the snapshot of ``engine``'s offers (after an import that stored them), so that
    the next start loads it instead of rebuilding."""
    if engine.opportunity_table is None or engine.rome is None:
        return
    _save_snapshot(engine.opportunity_table, settings.var_dir / SNAPSHOT_FILE,
                   offers_fingerprint(sessions, engine.rome))


def _save_snapshot(table: OfferTable, path: Path, fingerprint: str) -> None:
    try:
        table.save(path, fingerprint)
    except OSError as exc:  # a read-only var dir: serve anyway, rebuild at the next start
        log.warning("offers snapshot not written", extra={"kind": type(exc).__name__})


@lru_cache(maxsize=2)
def _demo_batch(path: Path, mtime: float, gazetteer: Gazetteer, rome: RomeReferential
                ) -> ImportBatch:
    return parse_france_travail(json.loads(path.read_text(encoding="utf-8")), gazetteer, rome,
                                DEMO_SOURCE)


def seed_demo_offers(settings: Settings, sessions: sessionmaker[Session], gazetteer: Gazetteer,
                     rome: RomeReferential) -> None:
    """Import ``data/demo/offers_demo.json`` (synthetic) when no demo offer is stored yet.
    Called under the start-up lock; the upsert is idempotent besides (by id and content)."""
    path = settings.data_dir / DEMO_FILE
    if not path.exists() or db.count_opportunities(sessions, source=DEMO_SOURCE) > 0:
        return
    batch = _demo_batch(path, path.stat().st_mtime, gazetteer, rome)
    if batch.rejected:
        raise RuntimeError(f"{path}: {len(batch.rejected)} demo offers rejected: "
                           f"{batch.rejected[0]}")
    db.upsert_opportunities(sessions, batch.opportunities, DEMO_SOURCE,
                            origin=f"embedded:data/{DEMO_FILE}")
    log.info("demo offers imported", extra={"count": len(batch.opportunities)})


# ---------------------------------------------------------------------- the people index


@dataclass
class PeopleIndex:
    """The stored beneficiaries as :class:`PeopleArrays`, rebuilt only when they change.

    Freshness: each :meth:`get` runs one aggregate query (count, latest update); when it
    differs, only the profiles created or updated since are parsed again (targets mapped to
    ROME once per profile), then the arrays are rebuilt.
    """

    _fingerprint: tuple[int, str] | None = None
    _records: dict[str, tuple[datetime, PersonRecord]] = field(default_factory=dict)
    _arrays: PeopleArrays | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(self, sessions: sessionmaker[Session], engine: MatchingEngine) -> PeopleArrays:
        if engine.rome is None:
            raise RuntimeError("the people index needs the ROME referential")
        fingerprint = db.beneficiaries_fingerprint(sessions)
        if fingerprint == self._fingerprint and self._arrays is not None:
            return self._arrays
        with self._lock:
            if fingerprint == self._fingerprint and self._arrays is not None:
                return self._arrays
            stamps = db.beneficiary_stamps(sessions)
            for gone in set(self._records) - set(stamps):
                del self._records[gone]
            changed = [i for i, ts in stamps.items()
                       if i not in self._records or self._records[i][0] != ts]
            for row in db.beneficiaries_by_ids(sessions, changed):
                profile = db.profile_of(row)
                record = PersonRecord(profile, engine.gazetteer.by_insee(row.home_insee),
                                      row.commission, resolve_targets(profile, engine.rome))
                self._records[row.subject] = (row.updated_at, record)
            ordered = [r for _, r in sorted(self._records.values(),
                                            key=lambda tr: (tr[1].profile.id or '', tr[1].commission or ''))]
            self._arrays = build_people(ordered, engine.rome).with_grid()
            self._fingerprint = fingerprint
            return self._arrays
