"""``insertion-match users create|password|disable|list``: web accounts, messages in French."""

from __future__ import annotations

import io
import logging

import pytest

from insertion_match.service import db
from insertion_match.service.cli import main


@pytest.fixture
def cli_env(database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("IM_DATABASE_URL", database_url)
    monkeypatch.setenv("IM_VAR_DIR", str(tmp_path))
    logger = logging.getLogger("insertion_match")
    saved = (logger.handlers[:], logger.propagate, logger.level)
    yield database_url
    logger.handlers[:], logger.propagate, logger.level = saved


def run(monkeypatch, *args: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["users", *args])


def test_create_sign_in_change_disable(cli_env, monkeypatch, capsys):
    assert run(monkeypatch, "create", "--email", "Coach@Flers.fr", "--role", "coach",
               "--territory", "61:Flers", "--password-stdin",
               stdin="un-long-mot-de-passe\n") == 0
    assert "compte créé : coach@flers.fr (coach, 61:Flers)" in capsys.readouterr().out
    sessions = db.init_db(db.make_engine(cli_env))
    try:
        row = db.verify_user(sessions, "coach@flers.fr", "un-long-mot-de-passe")
        assert row is not None and row.role == "coach" and row.territories == ["61:Flers"]
        assert row.password_hash.startswith("$argon2id$")
        assert db.verify_user(sessions, "coach@flers.fr", "autre chose") is None
        assert run(monkeypatch, "create", "--email", "coach@flers.fr", "--role", "coach",
                   "--territory", "61", "--password-stdin", stdin="un-long-mot-de-passe\n") == 1
        assert "un compte existe déjà" in capsys.readouterr().err
        assert run(monkeypatch, "password", "--email", "coach@flers.fr", "--password-stdin",
                   stdin="un-nouveau-mot-de-passe\n") == 0
        assert db.verify_user(sessions, "coach@flers.fr", "un-nouveau-mot-de-passe")
        assert run(monkeypatch, "list") == 0
        assert "coach@flers.fr" in capsys.readouterr().out
        assert run(monkeypatch, "disable", "--email", "coach@flers.fr") == 0
        assert db.verify_user(sessions, "coach@flers.fr", "un-nouveau-mot-de-passe") is None
    finally:
        sessions.kw["bind"].dispose()


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["--role", "coach", "--territory", "61:Nowhere"], "un-long-mot-de-passe\n",
     "territoire invalide"),
    (["--role", "coach"], "un-long-mot-de-passe\n", "territoire invalide"),
    (["--role", "manager", "--territory", "61"], "court\n", "mot de passe trop court"),
])
def test_refusals_are_explained(cli_env, monkeypatch, capsys, args, stdin, message):
    assert run(monkeypatch, "create", "--email", "x@example.fr", *args, "--password-stdin",
               stdin=stdin) == 1
    assert message in capsys.readouterr().err
