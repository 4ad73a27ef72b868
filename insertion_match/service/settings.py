"""The one Settings object of the service, read from the environment (prefix ``IM_``).

Injected into the app by :func:`insertion_match.service.app.create_app`; tests build their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from insertion_match._data_paths import data_root, models_root

#: The repository root when running from a clone (editable install). Only development tools
#: (bench/, generators) use it: the service reads its data through :data:`DATA_ROOT`, which the
#: wheel carries, and writes under ``Settings.var_dir``.
REPO_ROOT = Path(__file__).resolve().parents[2]

#: The embedded reference data (the repository's data/, in the package as insertion_match._data).
DATA_ROOT = data_root()
#: The shipped model's directory (the repository's models/, as insertion_match._models).
MODELS_ROOT = models_root()

#: The learned model ``insertion-match train`` writes. Served only when configured
#: (``IM_MODEL_PATH``): the shipped one was trained on synthetic outcomes, and a ranking of
#: people for public assistance must not switch to it silently.
SHIPPED_MODEL = MODELS_ROOT / "action-ranker.joblib"


def _default_var_dir() -> Path:
    """``./var`` of the directory the command starts in (never inside site-packages)."""
    return Path.cwd() / "var"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IM_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(
        default=DATA_ROOT, description="Reference data: catalogue, communes, ROME, mappings, geo "
        "(IM_DATA_DIR; default: the data the package carries)",
    )
    var_dir: Path = Field(
        default_factory=_default_var_dir,
        description="Where the service writes: the default SQLite file, the web app's secret key "
        "outside production, evaluation runs (IM_VAR_DIR; default: var/ of the current directory)",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default: SQLite file var/insertion-match.sqlite3. "
        "PostgreSQL: postgresql+psycopg://user:pass@host/db",
    )
    seed_catalogue_on_start: bool = Field(
        default=True, description="Import data/catalogue when the database has no action yet"
    )
    seed_demo_offers_on_start: bool = Field(
        default=True, description="Import the synthetic demo offers (data/demo) when none is "
        "stored yet (IM_SEED_DEMO_OFFERS_ON_START)",
    )
    max_limit: int = Field(default=100, ge=1, le=1000)
    batch_max: int = Field(
        default=500, ge=1, le=100_000,
        description="Most people in one POST /v1/recommendations/batch (IM_BATCH_MAX)",
    )
    max_body_bytes: int = Field(
        default=4 * 1024 * 1024, ge=1024,
        description="Largest request body accepted; larger ones answer 413 (IM_MAX_BODY_BYTES)",
    )
    retry_after_seconds: int = Field(
        default=5, ge=1, le=3600, description="Retry-After of a 503 while the database is down"
    )
    keep_alive_seconds: int = Field(
        default=5, ge=1, le=300,
        description="An idle keep-alive connection is closed after this (IM_KEEP_ALIVE_SECONDS)",
    )
    body_timeout_seconds: float = Field(
        default=30, gt=0, le=3600,
        description="A request body must arrive within this, else 408 (a slow or stalled "
        "upload does not hold a connection and its buffer; IM_BODY_TIMEOUT_SECONDS)",
    )
    docs_public: bool | None = Field(
        default=None,
        description="Serve /docs, /redoc and /openapi.json; default: yes except in production "
        "(IM_DOCS_PUBLIC)",
    )
    auth_failures_max: int = Field(
        default=20, ge=1, le=100_000,
        description="Failed authentications allowed per client address, and per key id, within "
        "IM_AUTH_FAILURES_WINDOW_SECONDS; more answer 429 (IM_AUTH_FAILURES_MAX)",
    )
    auth_failures_window_seconds: int = Field(default=60, ge=1, le=86_400)
    api_key_cache_seconds: float = Field(
        default=5, ge=0, le=300,
        description="How long a verified API key is kept in memory: a key revoked by the CLI or "
        "another worker stops working within this (at once in the process that revokes it); 0 "
        "reads the database on every request (IM_API_KEY_CACHE_SECONDS)",
    )
    fast_lane: bool = Field(
        default=True,
        description="Serve the ordinary POST /v1/recommendations (cached key, valid JSON body) "
        "and GET /healthz without the framework's per-request machinery, with the same answers; "
        "false sends every request through FastAPI (IM_FAST_LANE)",
    )
    refresh_seconds: float = Field(
        default=60.0, ge=0,
        description="How often a serving process checks whether the stored catalogue, offers "
        "and transit networks changed (a CLI import, another worker's API import, a purge) "
        "and, if so, serves the stored ones from then on; 0: never, only at start-up "
        "(IM_REFRESH_SECONDS)",
    )
    ranking_threads: int = Field(
        default=1, ge=0, le=64,
        description="Threads ranking inline profiles of POST /v1/recommendations, in arrival "
        "order (CPU-bound: scale with workers, not threads); 0 ranks them on the event loop "
        "(IM_RANKING_THREADS)",
    )
    sqlite_busy_timeout_ms: int = Field(
        default=30_000, ge=100, le=600_000,
        description="SQLite: how long a write waits for the write lock (BEGIN IMMEDIATE) before "
        "answering 503 (IM_SQLITE_BUSY_TIMEOUT_MS)",
    )
    model_path: Path | None = Field(
        default=None,
        description="A learned model artefact (with its model card beside it), e.g. "
        "models/action-ranker.joblib. If it is missing, corrupt or of an incompatible version, "
        "the transparent scorer serves and responses say so (model.fallback). Default: none, "
        "the transparent scorer serves (the shipped model was trained on synthetic outcomes)",
    )
    transit_dir: Path | None = Field(
        default=None, description="Where `transit import` stores the public-transport networks "
        "(GTFS) every worker loads at start-up (IM_TRANSIT_DIR); default: var/transit")
    log_level: str = "INFO"
    workers: int = Field(
        default=1, ge=1, le=64,
        description="Worker processes of `insertion-match serve` when --workers is not given "
        "(IM_WORKERS)",
    )
    proxy_headers: bool = Field(
        default=True,
        description="Behind a reverse proxy: take the client address and scheme from "
        "X-Forwarded-For / X-Forwarded-Proto, only from IM_FORWARDED_ALLOW_IPS (IM_PROXY_HEADERS)",
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Comma-separated addresses or networks of the proxies whose X-Forwarded-* "
        "headers are trusted ('*': any; only where nothing else can reach the port) "
        "(IM_FORWARDED_ALLOW_IPS)",
    )
    web_secret_key: str | None = Field(
        default=None, description="Signs the web app's session cookies (IM_WEB_SECRET_KEY, at "
        "least 32 characters; the same for every worker). Default outside production: a random "
        "key kept in var/web-secret.key",
    )
    web_idle_seconds: int = Field(
        default=1800, ge=5, le=86_400,
        description="A web session ends after this many seconds without a request")
    web_session_max_seconds: int = Field(
        default=12 * 3600, ge=60, le=7 * 86_400,
        description="A web session ends this long after sign-in, whatever the activity")
    web_cookie_secure: bool | None = Field(
        default=None, description="Send the session cookie over HTTPS only; default: in "
        "production only")
    web_source_url: str = Field(
        default="https://github.com/insertion-match/insertion-match",
        description="Where the pages link to the source code (AGPL-3.0 section 13)")

    @field_validator("model_path", mode="before")
    @classmethod
    def _no_model(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip().lower() in ("", "none") else value

    @property
    def catalogue_dir(self) -> Path:
        return self.data_dir / "catalogue"

    @property
    def transit_path(self) -> Path:
        return self.transit_dir or self.var_dir / "transit"

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.var_dir / 'insertion-match.sqlite3'}"

    @model_validator(mode="after")
    def _safe_in_production(self) -> Settings:
        if self.environment == "production" and not self.database_url:
            raise ValueError("IM_DATABASE_URL must be set in production (no implicit SQLite file)")
        if self.environment == "production" and len(self.web_secret_key or "") < 32:
            raise ValueError("IM_WEB_SECRET_KEY (32 characters or more) must be set in production")
        return self
