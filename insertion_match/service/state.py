"""Start-up: open the database, seed it on first start, load the engine once.

`ServiceState` is built by the app's lifespan and by the CLI; routes receive it through a typed
dependency and never read files or models themselves.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from insertion_match.domain import Action
from insertion_match.features.catalogue import load_catalogue
from insertion_match.geo import Gazetteer, Territories
from insertion_match.matcher.engine import MatchingEngine
from insertion_match.matcher.scoring import Scorer
from insertion_match.service import db
from insertion_match.service.model_loading import load_model
from insertion_match.service.offers import (
    PeopleIndex,
    load_rome,
    seed_demo_offers,
    with_stored_offers,
)
from insertion_match.service.settings import Settings

log = logging.getLogger("insertion_match.service")


@dataclass(frozen=True)
class ModelStatus:
    """Which model serves. ``fallback``: a configured model was refused (``reason``) and the
    transparent scorer serves instead; responses and ``/readyz`` say so."""

    fallback: bool = False
    reason: str | None = None


@dataclass
class ServiceState:
    settings: Settings
    sessions: sessionmaker[Session]
    engine: MatchingEngine
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    model_status: ModelStatus = field(default_factory=ModelStatus)
    people: PeopleIndex = field(default_factory=PeopleIndex)  # reverse matching (offers.py)
    #: Verified API keys kept IM_API_KEY_CACHE_SECONDS (auth.py); None: no cache.
    key_cache: db.ApiKeyCache | None = None
    #: Group commit of the recommendation audit rows (db/audit.py).
    audit: db.AuditWriter | None = None
    #: Where POST /v1/recommendations ranks (IM_RANKING_THREADS threads; recommending.py).
    ranking: ThreadPoolExecutor | None = None
    #: The stored catalogue's and offers' fingerprints the engine serves (service/follow.py).
    catalogue_seen: str | None = None
    offers_seen: str | None = None

    def __post_init__(self) -> None:
        if self.key_cache is None and self.settings.api_key_cache_seconds > 0:
            self.key_cache = db.ApiKeyCache(self.settings.api_key_cache_seconds)
        if self.audit is None:
            self.audit = db.AuditWriter(self.sessions)
        if self.ranking is None and self.settings.ranking_threads > 0:
            self.ranking = ThreadPoolExecutor(self.settings.ranking_threads,
                                              thread_name_prefix="im-rank")

    @property
    def db_health(self) -> db.DatabaseHealth:
        """What the engine last saw of the database (an outage, a moved SQLite file)."""
        return db.health_of(self.sessions.kw.get("bind"))

    def close(self) -> None:
        """Commit the queued audit rows, close the database connections (app shutdown)."""
        if self.ranking is not None:
            self.ranking.shutdown(wait=True)
        if self.audit is not None:
            self.audit.close()
        bind = self.sessions.kw.get("bind")
        if bind is not None:
            bind.dispose()

    def import_catalogue(self, actions: list[Action], origin: str) -> int:
        """Store ``actions`` atomically, then swap in a new engine built from the database."""
        candidate = self.engine.with_actions(actions)  # fails before any write if invalid
        with self._lock:
            count = db.replace_catalogue(self.sessions, actions, origin)
            self.serve_written_catalogue(candidate)
        return count

    def serve_written_catalogue(self, engine: MatchingEngine) -> None:
        """Swap in ``engine``, built from the catalogue this process just wrote (the caller
        holds ``_lock``), and record the stored state it serves, so the follower
        (service/follow.py) does not load it again."""
        self.engine = engine
        self.catalogue_seen = db.catalogue_fingerprint(self.sessions)


def build_state(settings: Settings) -> ServiceState:
    """Open the database, migrate and seed it, build the engine.

    Migrating and seeding happen under the start-up lock (``db/startup.py``): workers starting
    together do it one at a time, and the later ones find the work done (the seeds check what
    is stored before writing, inside the lock), so they never insert the same rows twice.
    """
    from insertion_match.service.db.startup import startup_lock

    engine_db = db.make_engine(settings.sqlalchemy_url, settings.sqlite_busy_timeout_ms)
    gazetteer, territories = MatchingEngine.load_reference(settings.data_dir)
    with startup_lock(engine_db):
        sessions = db.init_db(engine_db)
        if settings.seed_catalogue_on_start:
            _seed_embedded_catalogue(settings, sessions, gazetteer, territories)
        rome = load_rome(settings.data_dir)
        if settings.seed_demo_offers_on_start:
            seed_demo_offers(settings, sessions, gazetteer, rome)
    actions = db.load_actions(sessions)
    _install_transit(settings)
    scorer, model_status = _learned_scorer(settings)
    engine = MatchingEngine.build(actions, gazetteer, territories, scorer)
    engine = with_stored_offers(settings, sessions, engine)  # ROME + offers (service/offers.py)
    log.info("engine ready", extra={"actions": len(actions), "departments": sorted(engine.indexes)})
    return ServiceState(settings=settings, sessions=sessions, engine=engine,
                        model_status=model_status)


def _install_transit(settings: Settings) -> None:
    """Load the stored public-transport networks (``transit import``) for this process."""
    from insertion_match.geo.transit import install_networks, load_networks

    networks = load_networks(settings.transit_path)
    install_networks(networks)
    if networks:
        log.info("transit networks loaded", extra={"count": len(networks)})


def _check_scorer(model: object, card: dict) -> None:
    """A learned scorer must offer the scorer interface (name, version, score) and accept its
    card (``check_card``, e.g. ``LearnedScorer``: same design version and columns)."""
    missing = [a for a in ("name", "version", "score") if not hasattr(model, a)]
    if missing:
        raise TypeError(f"{type(model).__name__} lacks {', '.join(missing)}")
    check_card = getattr(model, "check_card", None)
    if callable(check_card):
        check_card(card)


def _learned_scorer(settings: Settings) -> tuple[Scorer | None, ModelStatus]:
    """The configured learned model, or None (transparent scorer) with the reason it was refused.

    A missing, corrupt or incompatible artefact never stops the service: it is refused here with
    one clear log line, and the transparent scorer serves, flagged.
    """
    if settings.model_path is None:
        return None, ModelStatus()
    loaded = load_model(settings.model_path, validate=_check_scorer)
    if not loaded.ok:
        log.error(f"model refused, the transparent scorer serves: {loaded.refused}",
                  extra={"error": "model_refused"})
        return None, ModelStatus(fallback=True, reason=loaded.refused)
    log.info("learned model loaded", extra={"kind": str(loaded.card.get("name", ""))})
    return loaded.model, ModelStatus()  # a Scorer: _check_scorer accepted it


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
