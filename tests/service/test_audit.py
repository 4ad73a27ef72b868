"""Audit trail, per-person export and erase, retention purge (DESIGN §9)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from insertion_match.service import db
from insertion_match.service.cli import main as cli_main
from insertion_match.service.schemas import EXAMPLE_BENEFICIARY
from tests.conftest import make_profile

HEALTH = {"sante": 3, "handicap": 2, "mobilite": 1}


def _accesses(client, beneficiary_id):
    return db.audit_about(client.app.state.im.sessions, beneficiary_id)[1]


def test_recommendation_audit_says_who_when_whom_model_items(client_as, client):
    coach = client_as("coach", "61:Flers", name="Camille (DTAS Flers)")
    res = coach.post("/v1/recommendations", json={
        "beneficiary": {**EXAMPLE_BENEFICIARY, "id": "audit-who-1", "freins": HEALTH}, "limit": 4,
    })
    assert res.status_code == 200
    recs, _ = db.audit_about(client.app.state.im.sessions, "audit-who-1")
    assert len(recs) == 1
    row = recs[0]
    assert row.actor_name == "Camille (DTAS Flers)" and row.actor_role == "coach"
    assert len(row.actor) == 12 and row.actor in coach.headers["X-API-Key"]
    assert row.department == "61"
    assert row.model_name == res.json()["model"]["name"]
    assert row.model_version == res.json()["model"]["version"]
    assert row.item_ids == [i["id"] for i in res.json()["items"]]
    assert datetime.now(UTC) - row.created_at.replace(tzinfo=UTC) < timedelta(hours=1)
    values = [getattr(row, c.name) for c in db.RecommendationLog.__table__.columns]
    assert not any(isinstance(v, dict) for v in values)  # no profile or freins document


def test_audit_tables_have_no_place_for_freins_or_profiles():
    for table in (db.RecommendationLog.__table__, db.AccessLog.__table__):
        names = {c.name for c in table.columns}
        assert not names & {"freins", "profile", "sante", "handicap", "age", "home_insee"}


def test_every_personal_data_access_is_audited_and_exported(client):
    pid = "audit-life-1"
    body = {**EXAMPLE_BENEFICIARY, "id": None, "freins": HEALTH}
    assert client.put(f"/v1/beneficiaries/{pid}", json=body).status_code == 201
    assert client.put(f"/v1/beneficiaries/{pid}", json={**body, "age": 50}).status_code == 200
    assert client.get(f"/v1/beneficiaries/{pid}").status_code == 200
    assert client.post("/v1/recommendations", json={"beneficiary_id": pid}).status_code == 200
    assert [a.action for a in _accesses(client, pid)] == ["create", "update", "read"]

    export = client.get(f"/v1/beneficiaries/{pid}/export")
    assert export.status_code == 200
    data = export.json()
    assert data["profile"]["profile"]["age"] == 50
    assert data["profile"]["profile"]["freins"] == HEALTH  # the person's own data, to them
    assert len(data["recommendations"]) == 1
    assert [a["action"] for a in data["accesses"]] == ["create", "update", "read"]
    assert all(a["actor_role"] == "admin" for a in data["accesses"])

    subject = db.get_beneficiary(client.app.state.im.sessions, pid).subject
    assert client.delete(f"/v1/beneficiaries/{pid}").status_code == 204
    # Erased: no audit row carries the id or points to the person any more; the trail of who
    # did what and when remains under one random tombstone, without the items shown.
    assert _accesses(client, pid) == [] and db.audit_about(client.app.state.im.sessions, pid)[0] == []
    assert db.audit_about(client.app.state.im.sessions, subject=subject) == ([], [])
    with client.app.state.im.sessions() as session:
        erased = session.scalars(select(db.AccessLog).where(db.AccessLog.actor_role == "admin")
                                 .order_by(db.AccessLog.id.desc()).limit(5)).all()
    mark = erased[0].beneficiary_id
    assert mark.startswith("erased:") and erased[0].action == "erase"
    assert [a.action for a in reversed(erased) if a.beneficiary_id == mark] == [
        "create", "update", "read", "export", "erase"]
    recs, _ = db.audit_about(client.app.state.im.sessions, mark)
    assert len(recs) == 1 and recs[0].item_ids == [] and recs[0].subject is None
    assert client.get(f"/v1/beneficiaries/{pid}").status_code == 404
    assert client.get(f"/v1/beneficiaries/{pid}/export").status_code == 404  # admin too


def test_coach_cannot_export_an_erased_person(client, client_as):
    pid = "audit-erased-1"
    client.put(f"/v1/beneficiaries/{pid}", json={**EXAMPLE_BENEFICIARY, "id": None})
    client.delete(f"/v1/beneficiaries/{pid}")
    coach = client_as("coach", "61:Flers")
    assert coach.get(f"/v1/beneficiaries/{pid}/export").status_code == 404


def test_freins_are_coarse_levels_only(client):
    """Health and disability are 0–3 severities: no finer scale, no text, no diagnosis."""
    base = {**EXAMPLE_BENEFICIARY, "id": None}
    for value in (2.5, 4, -1, "grave", "diabète", {"level": 2}, [2]):
        for frein in ("sante", "handicap"):
            res = client.put("/v1/beneficiaries/audit-coarse-1",
                             json={**base, "freins": {frein: value}})
            assert res.status_code == 422, (frein, value)
    res = client.put("/v1/beneficiaries/audit-coarse-1",
                     json={**base, "freins": {"sante": 3, "handicap": 0}})
    assert res.status_code == 201
    assert res.json()["profile"]["freins"]["sante"] == 3


# -- retention purge (CLI) -------------------------------------------------------------------------


@pytest.fixture
def cli_env(database_url, monkeypatch, tmp_path):
    """The CLI on its own database; the logging configuration it installs is undone after."""
    monkeypatch.setenv("IM_DATABASE_URL", database_url)
    monkeypatch.setenv("IM_VAR_DIR", str(tmp_path))
    logger = logging.getLogger("insertion_match")
    saved = (logger.handlers[:], logger.propagate, logger.level)
    yield database_url
    logger.handlers[:], logger.propagate, logger.level = saved[0], saved[1], saved[2]


def test_purge_erases_old_profiles_and_old_audit_rows(cli_env, capsys):
    sessions = db.init_db(db.make_engine(cli_env))
    try:
        for pid in ("old-1", "old-2", "recent-1"):
            db.upsert_beneficiary(sessions, make_profile(id=pid), "61", "Flers", "61169")
            db.log_access(sessions, "k", pid, "create")
            db.log_recommendation(sessions, "k", pid, "m", "1", ["a"])
        long_ago = datetime.now(UTC) - timedelta(days=400)
        with db.transaction(sessions) as session:
            session.execute(update(db.BeneficiaryRow)
                            .where(db.BeneficiaryRow.id.in_(["old-1", "old-2"]))
                            .values(updated_at=long_ago))
            session.execute(update(db.AccessLog).where(db.AccessLog.beneficiary_id == "old-1")
                            .values(created_at=long_ago))
            session.execute(update(db.RecommendationLog)
                            .where(db.RecommendationLog.beneficiary_id == "old-1")
                            .values(created_at=long_ago))

        assert cli_main(["purge", "--older-than-days", "365"]) == 0
        out = capsys.readouterr().out
        assert "profil(s) enregistré(s) purgé(s) : 2 " in out
        assert ("ligne(s) d'audit purgée(s) (de plus de 365 jours) : 1 de recommandations, "
                "1 d'accès") in out
        assert [r.id for r in db.list_beneficiaries(sessions)] == ["recent-1"]
        assert db.audit_about(sessions, "old-1") == ([], [])
        assert len(db.audit_about(sessions, "old-2")[1]) == 1

        assert cli_main(["purge", "--older-than-days", "365"]) == 0
        assert "profil(s) enregistré(s) purgé(s) : 0 " in capsys.readouterr().out
        assert cli_main(["purge", "--older-than-days", "0"]) == 1
    finally:
        sessions.kw["bind"].dispose()


def test_keys_cli_creates_lists_and_revokes(cli_env, capsys):
    assert cli_main(["keys", "create", "--role", "coach", "--territory", "61:Flers",
                     "--name", "coach A"]) == 0
    out = capsys.readouterr().out
    key = out.strip().splitlines()[-1]
    assert key.startswith("im_")
    key_id = key.split("_")[1]
    assert cli_main(["keys", "list"]) == 0
    listing = capsys.readouterr().out
    assert key_id in listing and "61:Flers" in listing and key.split("_", 2)[2] not in listing
    assert cli_main(["keys", "create", "--role", "coach", "--territory", "61:Paris",
                     "--name", "x"]) == 1
    assert "commission inconnue" in capsys.readouterr().err
    assert cli_main(["keys", "revoke", key_id]) == 0
    assert cli_main(["keys", "revoke", key_id]) == 1
    sessions = db.init_db(db.make_engine(cli_env))
    try:
        assert db.verify_api_key(sessions, key) is None
    finally:
        sessions.kw["bind"].dispose()
