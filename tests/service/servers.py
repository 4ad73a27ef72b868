"""Real servers for tests: ``insertion-match serve`` in a subprocess on loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from insertion_match.service import db
from tests.conftest import REPO

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def admin_key(database_url: str) -> str:
    """An admin key made before start-up (as an operator would with ``keys create``)."""
    engine = db.make_engine(database_url)
    try:
        return db.create_api_key(db.init_db(engine), "test admin", "admin", []).key
    finally:
        engine.dispose()


@dataclass
class Server:
    base: str
    proc: subprocess.Popen
    output: list[str] = field(default_factory=list)  # filled when the server has stopped


@contextmanager
def served_process(var: Path, database_url: str, *, workers: int = 1, ready: str = "/readyz",
                   env: dict[str, str] | None = None, startup_seconds: float = 120,
                   plain_uvicorn: bool = False, demo_offers: bool = False) -> Iterator[Server]:
    """``insertion-match serve`` (``--workers N``) on a free loopback port, until ready;
    ``plain_uvicorn``: ``uvicorn --factory ...:create_app`` with uvicorn's own defaults.
    Without ``demo_offers`` the synthetic offers are not seeded (a quicker start)."""
    port = free_port()
    environ = {**os.environ, "IM_DATABASE_URL": database_url, "IM_VAR_DIR": str(var),
               "IM_LOG_LEVEL": "INFO",
               "IM_SEED_DEMO_OFFERS_ON_START": "true" if demo_offers else "false", **(env or {})}
    command = [sys.executable, "-m", "insertion_match.service.cli", "serve", "--host", HOST,
               "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    if plain_uvicorn:
        command = [sys.executable, "-m", "uvicorn", "--factory",
                   "insertion_match.service.app:create_app", "--host", HOST, "--port", str(port),
                   "--workers", str(workers)]
    proc = subprocess.Popen(command, cwd=REPO, env=environ, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    server = Server(f"http://{HOST}:{port}", proc)
    try:
        deadline = time.monotonic() + startup_seconds
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"the server exited ({proc.returncode}):\n{proc.stdout.read()}")
            try:
                if httpx.get(server.base + ready, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        else:
            pytest.fail("the server did not become ready")
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
        server.output.extend((out or "").splitlines())
