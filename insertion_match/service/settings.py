"""The one Settings object of the service, read from the environment (prefix ``IM_``).

Injected into the app by :func:`insertion_match.service.app.create_app`; tests build their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The repository root when running from a clone (editable install): holds data/ and models/.
REPO_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IM_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(default=REPO_ROOT / "data", description="Embedded reference data")
    var_dir: Path = Field(default=REPO_ROOT / "var", description="Where the SQLite file lives")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default: SQLite file var/insertion-match.sqlite3. "
        "PostgreSQL: postgresql+psycopg://user:pass@host/db",
    )
    seed_catalogue_on_start: bool = Field(
        default=True, description="Import data/catalogue when the database has no action yet"
    )
    max_limit: int = Field(default=100, ge=1, le=1000)
    log_level: str = "INFO"

    @property
    def catalogue_dir(self) -> Path:
        return self.data_dir / "catalogue"

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.var_dir / 'insertion-match.sqlite3'}"

    @model_validator(mode="after")
    def _safe_in_production(self) -> Settings:
        if self.environment == "production" and not self.database_url:
            raise ValueError("IM_DATABASE_URL must be set in production (no implicit SQLite file)")
        return self
