"""Start-up: open the database, seed it on first start, load the engine once.

`ServiceState` is built by the app's lifespan and by the CLI; routes receive it through a typed
dependency and never read files or models themselves.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from insertion_match.domain import Action
from insertion_match.features.catalogue import load_catalogue
from insertion_match.geo import Gazetteer, Territories
from insertion_match.matcher.engine import MatchingEngine
from insertion_match.service import db
from insertion_match.service.settings import Settings

log = logging.getLogger("insertion_match.service")


@dataclass
class ServiceState:
    settings: Settings
    sessions: sessionmaker[Session]
    engine: MatchingEngine
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def import_catalogue(self, actions: list[Action], origin: str) -> int:
        """Store ``actions`` atomically, then swap in a new engine built from the database."""
        candidate = self.engine.with_actions(actions)  # fails before any write if invalid
        with self._lock:
            count = db.replace_catalogue(self.sessions, actions, origin)
            self.engine = candidate
        return count


def build_state(settings: Settings) -> ServiceState:
    engine_db = db.make_engine(settings.sqlalchemy_url)
    sessions = db.init_db(engine_db)
    gazetteer, territories = MatchingEngine.load_reference(settings.data_dir)
    if settings.seed_catalogue_on_start:
        _seed_embedded_catalogue(settings, sessions, gazetteer, territories)
    actions = db.load_actions(sessions)
    engine = MatchingEngine.build(actions, gazetteer, territories)
    log.info("engine ready", extra={"actions": len(actions), "departments": sorted(engine.indexes)})
    return ServiceState(settings=settings, sessions=sessions, engine=engine)


#: Origin recorded for imports of the embedded catalogue (data/catalogue).
EMBEDDED_ORIGIN = "embedded:data/catalogue"


def _seed_embedded_catalogue(
    settings: Settings, sessions: sessionmaker[Session], gazetteer: Gazetteer,
    territories: Territories,
) -> None:
    """Import the embedded catalogue when the database has none, or when the stored one came
    from the embedded files and those files have changed since (e.g. after an upgrade).

    A catalogue imported by an operator (another origin) is never overwritten here.
    """
    last = db.last_import(sessions)
    empty = db.count_actions(sessions) == 0
    if not empty and (last is None or last.origin != EMBEDDED_ORIGIN):
        return
    actions = load_catalogue(settings.catalogue_dir)
    if not empty and last is not None and last.content_sha256 == db.catalogue_hash(actions):
        return
    MatchingEngine.build(actions, gazetteer, territories)  # validate sites before storing
    db.replace_catalogue(sessions, actions, origin=EMBEDDED_ORIGIN)
    log.info("embedded catalogue imported", extra={"actions": len(actions)})
