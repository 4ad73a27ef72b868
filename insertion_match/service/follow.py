"""Serving processes follow what changes in the database outside them.

The catalogue, the offers and the transit networks change outside a serving process:
``catalogue import``, ``catalogue import-di`` and ``transit import`` run by the CLI, the daily ``offers import --replace-source`` (a cron
job: the offers a file no longer has expire and must stop being proposed), an import through
the API answered by another worker, ``offers purge-expired``. Each process runs one
:class:`Follower` thread: every ``IM_REFRESH_SECONDS`` it reads the catalogue's and the
offers' fingerprints (a few aggregate queries, each served by an index) and lists the transit
network files; when one changed, it rebuilds that part of its engine as the start-up does, then
swaps it in one assignment; requests go on with the previous engine meanwhile.

- **Catalogue**: the stored actions are read again (a few hundred to a few thousand rows).
- **Public transport**: the networks of ``transit import`` (files of the var dir, written
  atomically; their names, sizes and times are the fingerprint) are loaded and installed; trips
  memoised with the previous networks are never reused (``geo.transit``'s generation).
- **Offers**: :func:`service.offers.with_stored_offers` — the snapshot when it matches, else
  the snapshot brought up to date with the offers updated since, else every stored document
  (after a purge) — under a lock of the var dir, so that the workers of one machine do it one
  after the other and the later ones load the snapshot the first one wrote.

A process's own imports (API, web) update its engine at once and record the fingerprint they
leave (``ServiceState.catalogue_seen`` / ``offers_seen``): its follower then has nothing to do.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from insertion_match.geo.transit import install_networks, load_networks
from insertion_match.service import db
from insertion_match.service.offers import offers_fingerprint, snapshot_lock, with_stored_offers

if TYPE_CHECKING:
    from insertion_match.service.state import ServiceState

log = logging.getLogger("insertion_match.service")


def _transit_fingerprint(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """The stored networks' files: name, size, modification time."""
    if not directory.is_dir():
        return ()
    found = []
    for path in sorted(directory.glob("*.npz")):
        try:
            stat = path.stat()
        except OSError:  # replaced meanwhile: seen at the next check
            continue
        found.append((path.name, stat.st_size, stat.st_mtime_ns))
    return tuple(found)


class Follower:
    """Keeps a serving process's catalogue, offers and transit networks equal to the stored
    ones."""

    def __init__(self, state: ServiceState, interval: float) -> None:
        self.state = state
        self.interval = interval
        if state.catalogue_seen is None:
            state.catalogue_seen = db.catalogue_fingerprint(state.sessions)
        rome = state.engine.rome
        if state.offers_seen is None and rome is not None:
            state.offers_seen = offers_fingerprint(state.sessions, rome)
        self.transit_seen = _transit_fingerprint(state.settings.transit_path)
        self.refreshed = {"catalogue": 0, "offers": 0, "transit": 0}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> set[str]:
        """Bring what changed up to date; what was ("catalogue", "transit", "offers")."""
        done = set()
        if self._catalogue():
            done.add("catalogue")
        if self._transit():
            done.add("transit")
        if self._offers():
            done.add("offers")
        return done

    def _catalogue(self) -> bool:
        state = self.state
        fingerprint = db.catalogue_fingerprint(state.sessions)
        if fingerprint == state.catalogue_seen:
            return False
        started = time.perf_counter()
        with state._lock:  # the lock of the process's own imports
            actions = db.load_actions(state.sessions)
            state.engine = state.engine.with_actions(actions)
            state.catalogue_seen = fingerprint
        self.refreshed["catalogue"] += 1
        log.info("catalogue followed the database", extra={
            "count": len(actions), "ms": round((time.perf_counter() - started) * 1000)})
        return True

    def _transit(self) -> bool:
        path = self.state.settings.transit_path
        fingerprint = _transit_fingerprint(path)
        if fingerprint == self.transit_seen:
            return False
        networks = load_networks(path)
        install_networks(networks)
        self.transit_seen = fingerprint
        self.refreshed["transit"] += 1
        log.info("transit networks followed the var dir", extra={"count": len(networks)})
        return True

    def _offers(self) -> bool:
        state = self.state
        rome = state.engine.rome
        if rome is None:
            return False
        fingerprint = offers_fingerprint(state.sessions, rome)
        if fingerprint == state.offers_seen:
            return False
        started = time.perf_counter()
        with snapshot_lock(state.settings.var_dir), state._lock:
            engine = with_stored_offers(state.settings, state.sessions, state.engine)
            state.engine = engine
            state.offers_seen = fingerprint
        self.refreshed["offers"] += 1
        log.info("offers followed the database", extra={
            "count": len(engine.opportunity_table or ()),
            "ms": round((time.perf_counter() - started) * 1000)})
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except SQLAlchemyError as exc:  # the database down: serve on, retry later
                log.warning("stored data not followed: database unavailable",
                            extra={"kind": type(exc).__name__})
            except Exception:  # anything else deserves its traceback; serve on
                log.exception("stored data not followed; next attempt in %s s", self.interval)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="im-follower", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
