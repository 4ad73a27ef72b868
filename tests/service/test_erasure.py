"""Erasure erases, and ids carry no history across territories (issue 9).

The scenario: a coach of Flers stores a person, ranks for them, records an outcome; a coach of
Alençon stores someone else under the same id (a free id for them: 201), ranks inline under it;
the Flers person is erased; another Flers coach re-uses the id. At no step can anyone read
anything of the first person through the id.
"""

from __future__ import annotations

from sqlalchemy import select

from insertion_match.service import db

PID = "erase-reuse-1"
FLERS = {"insee": "61169"}
ALENCON = {"insee": "61001"}
ACTION = "flers-mobylis-permis-b"


def _profile(home: dict, **extra) -> dict:
    return {"home": home, "freins": {"sante": 3, "mobilite": 2}, **extra}


def test_erasure_and_reuse_of_an_id_reveal_nothing_of_the_first_person(client, client_as):
    flers = client_as("coach", "61:Flers", name="coach Flers A")
    alencon = client_as("coach", "61:Alençon", name="coach Alençon")
    sessions = client.app.state.im.sessions
    steps: list[str] = []

    # 1. Flers stores the first person, ranks for them, records a proposal.
    assert flers.put(f"/v1/beneficiaries/{PID}", json=_profile(FLERS, age=31)).status_code == 201
    assert flers.post("/v1/recommendations", json={"beneficiary_id": PID}).status_code == 200
    res = flers.post("/v1/outcomes", json={"beneficiary_id": PID, "item_id": ACTION,
                                           "status": "proposed", "occurred_on": "2026-01-05"})
    assert res.status_code == 201
    first = db.visible_beneficiary(sessions, PID, [("61", "Flers")]).subject
    steps.append("1. Flers: PUT 201, recommendation 200, outcome 201")

    # 2. Alençon uses the same id: answered as a free id, a different person, nothing shared.
    res = alencon.put(f"/v1/beneficiaries/{PID}", json=_profile(ALENCON, age=55))
    assert res.status_code == 201 and res.json()["commission"] == "Alençon"
    export = alencon.get(f"/v1/beneficiaries/{PID}/export").json()
    assert export["profile"]["profile"]["age"] == 55 and export["recommendations"] == []
    assert [a["action"] for a in export["accesses"]] == ["create"]
    assert alencon.get("/v1/outcomes", params={"beneficiary_id": PID}).json()["total"] == 0
    steps.append("2. Alençon: PUT same id 201 (not 404); export: own create only; outcomes 0")

    # 3. Alençon ranks an inline profile under that id: nothing added to the Flers person.
    res = alencon.post("/v1/recommendations",
                       json={"beneficiary": {**_profile(ALENCON), "id": PID}})
    assert res.status_code == 200
    mine = flers.get(f"/v1/beneficiaries/{PID}/export").json()
    assert len(mine["recommendations"]) == 1
    steps.append("3. Alençon inline recommendation under the id: Flers export still 1 row")

    # 4. Flers erases the first person: profile, outcomes gone; audit rows detached.
    assert flers.delete(f"/v1/beneficiaries/{PID}").status_code == 204
    with sessions() as session:
        assert session.scalars(select(db.OutcomeRow).where(
            db.OutcomeRow.subject == first)).all() == []
        assert session.scalars(select(db.OutcomeRow).where(
            db.OutcomeRow.beneficiary_id == PID)).all() == []
        for table in (db.AccessLog, db.RecommendationLog):
            assert session.scalars(select(table).where(table.subject == first)).all() == []
    assert flers.get(f"/v1/beneficiaries/{PID}").status_code == 404
    assert flers.get("/v1/outcomes", params={"beneficiary_id": PID}).status_code == 404
    steps.append("4. Flers DELETE 204: 0 outcomes, 0 audit rows point to the person "
                 "(tombstoned); GET 404, outcomes 404")

    # 5. Another Flers coach re-uses the id: a new person with an empty history.
    other = client_as("coach", "61:Flers", name="coach Flers B")
    res = other.put(f"/v1/beneficiaries/{PID}", json=_profile(FLERS, age=44))
    assert res.status_code == 201
    export = other.get(f"/v1/beneficiaries/{PID}/export").json()
    assert export["recommendations"] == []
    assert [a["action"] for a in export["accesses"]] == ["create"]
    assert other.get("/v1/outcomes", params={"beneficiary_id": PID}).json()["total"] == 0
    steps.append("5. Flers B: PUT 201; export: own create only, 0 recommendations; outcomes 0")

    # 6. The Alençon person was never touched; an admin covering both gets 409, never a mix.
    res = alencon.get(f"/v1/beneficiaries/{PID}")
    assert res.json()["profile"]["age"] == 55
    assert alencon.get(f"/v1/beneficiaries/{PID}/export").json()["recommendations"] != []
    res = client.get(f"/v1/beneficiaries/{PID}/export")
    assert res.status_code == 409
    assert res.headers["content-type"].startswith("application/problem+json")
    assert res.json()["detail"].startswith("cet identifiant désigne une personne dans "
                                           "plusieurs territoires de cette clé")
    steps.append("6. Alençon person unchanged; admin (both territories): 409 ambiguous")
    print("\n" + "\n".join(steps))
    for c in (alencon, other):
        assert c.delete(f"/v1/beneficiaries/{PID}").status_code == 204


def test_outcome_import_and_purge_erase_with_the_person(client):
    pid = "erase-purge-1"
    assert client.put(f"/v1/beneficiaries/{pid}", json=_profile(FLERS)).status_code == 201
    csv = (f"beneficiary_id,item_id,status,occurred_on\n{pid},{ACTION},proposed,2026-01-02\n"
           f"{pid},{ACTION},accepted,2026-01-09\n").encode()
    res = client.post("/v1/outcomes/import", content=csv, headers={"content-type": "text/csv"})
    assert res.status_code == 200 and res.json()["imported"] == 2
    sessions = client.app.state.im.sessions
    subject = db.get_beneficiary(sessions, pid).subject
    from datetime import UTC, datetime, timedelta

    assert db.purge_beneficiaries(sessions, datetime.now(UTC) + timedelta(seconds=1)) >= 1
    with sessions() as session:
        assert session.scalars(select(db.OutcomeRow).where(
            db.OutcomeRow.subject == subject)).all() == []
        assert session.scalars(select(db.AccessLog).where(
            db.AccessLog.subject == subject)).all() == []


def test_migration_links_existing_rows_to_their_person(database_url):
    from sqlalchemy import text

    from insertion_match.service.db import migrate

    engine = db.make_engine(database_url)
    try:
        migrate.upgrade(engine, "0004")
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO beneficiaries (id, department, commission, home_insee, profile, "
                "created_at, updated_at) VALUES ('m-1', '61', 'Flers', '61169', "
                "'{\"id\": \"m-1\", \"home\": {\"insee\": \"61169\"}}', "
                "'2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')"))
            conn.execute(text(
                "INSERT INTO access_log (created_at, actor, beneficiary_id, action) "
                "VALUES ('2026-01-01 00:00:00+00:00', 'k', 'm-1', 'create')"))
        migrate.upgrade(engine)
        sessions = db.init_db(engine)
        row = db.get_beneficiary(sessions, "m-1")
        assert row.scope == "61:Flers" and len(row.subject) == 32
        assert len(db.audit_about(sessions, subject=row.subject)[1]) == 1
    finally:
        engine.dispose()
