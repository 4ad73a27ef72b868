"""Serving like production software: where data are read and written, and the reverse proxy.

The wheel itself is checked outside the clone by ``bench/check_wheel.py`` (it builds, installs
and serves; too slow for the suite). Here: the package resolves its embedded data through
importlib.resources in this (editable) install too, writes under the working directory, and
``serve`` takes the client address from X-Forwarded-For only from the trusted proxies.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import httpx
import pytest

from insertion_match.service.settings import DATA_ROOT, MODELS_ROOT, SHIPPED_MODEL, Settings
from tests.conftest import REPO
from tests.service.servers import served_process


def test_embedded_data_resolve_through_the_package() -> None:
    assert DATA_ROOT == Path(str(files("insertion_match._data")))
    assert MODELS_ROOT == Path(str(files("insertion_match._models")))
    # an editable install maps the packages onto the clone's data/ and models/ (setup.py)
    assert DATA_ROOT.resolve() == (REPO / "data").resolve()
    assert (DATA_ROOT / "catalogue").is_dir() and any((DATA_ROOT / "catalogue").glob("*.json"))
    assert (DATA_ROOT / "geo" / "communes_france.csv").is_file()
    assert SHIPPED_MODEL.is_file() and SHIPPED_MODEL.parent == MODELS_ROOT


def test_settings_default_to_the_package_data_and_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("IM_DATA_DIR", "IM_VAR_DIR", "IM_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.data_dir == DATA_ROOT
    assert settings.var_dir == tmp_path / "var"
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path / 'var' / 'insertion-match.sqlite3'}"


def test_environment_overrides_the_data_and_var_directories(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("IM_VAR_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("IM_FORWARDED_ALLOW_IPS", "10.0.0.0/8")
    monkeypatch.setenv("IM_WORKERS", "3")
    settings = Settings()
    assert settings.data_dir == tmp_path / "data"
    assert settings.catalogue_dir == tmp_path / "data" / "catalogue"
    assert settings.var_dir == tmp_path / "state"
    assert settings.forwarded_allow_ips == "10.0.0.0/8"
    assert settings.workers == 3


def _failures_then_other_client(base: str) -> tuple[list[int], int]:
    """Two failed authentications from one forwarded client, a third from it, then one from
    another forwarded client: the statuses."""
    body = json.loads((REPO / "examples" / "jobs_flers.json").read_text(encoding="utf-8"))
    url = f"{base}/v1/recommendations"
    first = [httpx.post(url, json=body, timeout=30, headers={
        "X-API-Key": f"wrong-{i}", "X-Forwarded-For": "203.0.113.7"}).status_code
        for i in range(3)]
    other = httpx.post(url, json=body, timeout=30, headers={
        "X-API-Key": "wrong-other", "X-Forwarded-For": "203.0.113.8"}).status_code
    return first, other


@pytest.mark.parametrize(("env", "other_client_limited"), [
    ({}, False),  # default: the loopback proxy is trusted, each forwarded client has its budget
    ({"IM_FORWARDED_ALLOW_IPS": "192.0.2.1"}, True),  # loopback not trusted: one client
    ({"IM_PROXY_HEADERS": "false"}, True),  # forwarded headers ignored altogether
], ids=["trusted-loopback-proxy", "untrusted-proxy", "proxy-headers-off"])
def test_serve_takes_the_client_address_from_trusted_proxies_only(
        tmp_path: Path, env: dict[str, str], other_client_limited: bool) -> None:
    url = f"sqlite:///{tmp_path / 'serve.sqlite3'}"
    with served_process(tmp_path, url, env={"IM_AUTH_FAILURES_MAX": "2", **env}) as server:
        first, other = _failures_then_other_client(server.base)
    assert first == [401, 401, 429]
    assert other == (429 if other_client_limited else 401)
