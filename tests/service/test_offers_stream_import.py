"""Streaming offers import into the database (SQLite, and PostgreSQL with IM_TEST_DATABASE_URL):
atomic with bounded memory (staged, merged in one transaction), every rejection reported,
--skip-invalid, idempotent, --replace-source expiring only the vanished offers of its source."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from insertion_match.domain import Opportunity
from insertion_match.service import db
from insertion_match.service.db.opportunities import (
    OpportunityImport,
    OpportunityRow,
    opportunity_hash,
)
from insertion_match.service.offers import import_offer_stream
from tests.features.offer_records import offer

COMMUNES = ("61169", "61001", "91228", "61484")
TODAY = date(2026, 12, 1)


@pytest.fixture
def sessions(database_url):
    engine = db.make_engine(database_url)
    yield db.init_db(engine)
    engine.dispose()


def records(ids, **changes) -> list[dict]:
    return [offer(id=f"S{i:05d}", lieuTravail={"commune": COMMUNES[i % len(COMMUNES)]},
                  nombrePostes=1 + i % 5, **changes) for i in ids]


def run(sessions, gazetteer, rome, recs, fmt="json", **kwargs):
    if fmt == "json":
        data = json.dumps({"resultats": recs}).encode()
    else:
        data = "\n".join(json.dumps(r) for r in recs).encode()
    kwargs.setdefault("source", None)
    kwargs.setdefault("skip_invalid", False)
    return import_offer_stream(sessions, io.BytesIO(data), fmt, gazetteer, rome, origin="test",
                               batch_size=kwargs.pop("batch_size", 97), today=TODAY, **kwargs)


def stored(sessions, source="france-travail") -> dict:
    with sessions() as s:
        rows = s.scalars(select(OpportunityRow).where(OpportunityRow.source == source))
        return {r.id: (r.content_sha256, r.updated_at, r.expires_at, r.withdrawn_at)
                for r in rows}


def imports(sessions) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(OpportunityImport)))


def test_one_bad_record_in_a_large_file_writes_nothing_and_all_are_reported(
        sessions, gazetteer, rome):
    recs = records(range(1, 2001))
    recs[999] = offer(id="BAD1", romeCode="Z9999")  # position 1000
    recs[1499] = {**recs[10]}  # position 1500: duplicate of position 11
    recs[1799] = ["pas une offre"]  # position 1800
    out = run(sessions, gazetteer, rome, recs)
    assert not out.imported and out.report is None
    assert out.received == 2000 and out.valid == 1997 and out.rejected == 3
    assert [r.position for r in out.rejections] == [1000, 1500, 1800]
    assert out.rejections[0].errors[0].field == "romeCode"
    assert "doublon de l'enregistrement 11" in out.rejections[1].errors[0].message_fr
    assert out.rejections[2].errors[0].field == "record"
    assert stored(sessions) == {} and imports(sessions) == 0  # nothing, not even the log


def test_a_file_broken_after_many_records_writes_nothing(sessions, gazetteer, rome):
    data = json.dumps(records(range(1, 600))).encode()[:-500]
    with pytest.raises(ValueError, match="invalid JSON"):
        import_offer_stream(sessions, io.BytesIO(data), "json", gazetteer, rome, source=None,
                            origin="test", skip_invalid=True, batch_size=50)
    assert stored(sessions) == {} and imports(sessions) == 0


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_skip_invalid_stores_the_valid_ones_and_reimport_changes_nothing(
        sessions, gazetteer, rome, fmt):
    recs = records(range(1, 501))
    recs[99] = offer(id="BAD1", lieuTravail={"commune": "99999"})
    recs[300] = {**recs[0]}
    out = run(sessions, gazetteer, rome, recs, fmt=fmt, skip_invalid=True)
    assert out.imported and out.rejected == 2
    assert (out.report.created, out.report.updated, out.report.unchanged) == (498, 0, 0)
    before = stored(sessions)
    assert len(before) == 498 and "france-travail:S00001" in before
    again = run(sessions, gazetteer, rome, recs, fmt=fmt, skip_invalid=True)
    assert (again.report.created, again.report.updated, again.report.unchanged) == (0, 0, 498)
    assert stored(sessions) == before  # no row touched: same hash, same updated_at
    recs[5] = {**recs[5], "intitule": "Agent de propreté (nouvel intitulé)"}
    changed = run(sessions, gazetteer, rome, recs, fmt=fmt, skip_invalid=True)
    assert (changed.report.created, changed.report.updated) == (0, 1)
    after = stored(sessions)
    assert [k for k in after if after[k] != before[k]] == ["france-travail:S00006"]
    with sessions() as s:
        log = s.scalars(select(OpportunityImport).order_by(OpportunityImport.id)).all()
    assert [(i.received, i.created, i.updated, i.unchanged, i.rejected) for i in log] == [
        (500, 498, 0, 0, 2), (500, 0, 0, 498, 2), (500, 0, 1, 497, 2)]
    assert log[0].content_sha256 == log[1].content_sha256 != log[2].content_sha256


def test_stored_documents_read_back_as_the_imported_offers(sessions, gazetteer, rome):
    recs = records(range(1, 30))
    recs[3] = offer(id="S00004", dateExpiration="2027-01-31", lieuTravail={"commune": "61169"})
    run(sessions, gazetteer, rome, recs)
    from insertion_match.features.offers_import import parse_france_travail

    expected = {o.id: o for o in parse_france_travail(recs, gazetteer, rome).opportunities}
    with sessions() as s:
        rows = s.scalars(select(OpportunityRow)).all()
    assert {r.id: Opportunity.model_validate(r.document) for r in rows} == expected
    row = next(r for r in rows if r.id == "france-travail:S00004")
    assert row.expires_at == date(2027, 1, 31) and row.department == "61"
    assert row.content_sha256 == opportunity_hash(expected[row.id])


def test_replace_source_expires_the_vanished_offers_of_that_source_only(
        sessions, gazetteer, rome):
    run(sessions, gazetteer, rome, records(range(1, 101)))
    run(sessions, gazetteer, rome, records(range(1, 51)), source="cd61")
    first = stored(sessions)
    other = stored(sessions, "cd61")
    out = run(sessions, gazetteer, rome, records(range(1, 81)), replace_source=True)
    assert out.report.expired == 20 and out.report.unchanged == 80
    now = stored(sessions)
    yesterday = TODAY - timedelta(days=1)
    gone = {f"france-travail:S{i:05d}" for i in range(81, 101)}
    assert {k for k in now if now[k] != first[k]} == gone
    assert all(now[k][2] == yesterday and now[k][3] is not None for k in gone)
    assert stored(sessions, "cd61") == other  # another source: untouched
    with sessions() as s:
        doc = s.get(OpportunityRow, "france-travail:S00090").document
    expired = Opportunity.model_validate(doc)
    assert expired.expires_at == yesterday  # the served document says so: out of the rankings
    assert now["france-travail:S00090"][0] == opportunity_hash(expired)
    # The same refresh again changes nothing; the offers coming back are live again.
    again = run(sessions, gazetteer, rome, records(range(1, 81)), replace_source=True)
    assert again.report.expired == 0 and stored(sessions) == now
    back = run(sessions, gazetteer, rome, records(range(1, 101)), replace_source=True)
    assert (back.report.updated, back.report.expired) == (20, 0)
    restored = stored(sessions)
    assert all(restored[k][2] is None and restored[k][3] is None for k in gone)
    assert {k: v[0] for k, v in restored.items()} == {k: v[0] for k, v in first.items()}


def test_replace_source_keeps_an_offer_whose_new_version_was_rejected(
        sessions, gazetteer, rome):
    run(sessions, gazetteer, rome, records(range(1, 11)))
    recs = records(range(1, 11))
    recs[4] = {**recs[4], "romeCode": "Z9999"}  # S00005 still published, but unreadable
    refused = run(sessions, gazetteer, rome, recs[:8], replace_source=True)
    assert not refused.imported and stored(sessions)["france-travail:S00009"][3] is None
    out = run(sessions, gazetteer, rome, recs[:8], replace_source=True, skip_invalid=True)
    assert out.report.expired == 2  # S00009 and S00010; S00005 kept as it was
    now = stored(sessions)
    assert now["france-travail:S00005"][3] is None and now["france-travail:S00009"][3]


def test_upsert_of_parsed_records_stays_atomic(sessions, gazetteer, rome):
    """The function other importers (SIAE postings) call with records parsed elsewhere."""
    from insertion_match.features.offers_import import parse_france_travail

    opps = parse_france_travail(records(range(1, 20)), gazetteer, rome).opportunities
    with pytest.raises(ValueError, match="duplicate"):
        db.upsert_opportunities(sessions, [*opps, opps[3]], "france-travail", "test")
    assert stored(sessions) == {} and imports(sessions) == 0
    report = db.upsert_opportunities(sessions, iter(opps), "france-travail", "test")
    assert (report.created, report.updated, report.unchanged) == (19, 0, 0)
    report = db.upsert_opportunities(sessions, opps[:10], "france-travail", "test",
                                     replace_source=True)
    assert (report.unchanged, report.expired) == (10, 9)


def test_cli_streams_json_lines_with_replace_source(tmp_path, monkeypatch, capsys):
    from insertion_match.service.cli import main
    from insertion_match.service.settings import Settings

    monkeypatch.setenv("IM_ENVIRONMENT", "test")
    monkeypatch.setenv("IM_VAR_DIR", str(tmp_path))
    path = tmp_path / "offres.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records(range(1, 31))) + "\n")
    assert main(["offers", "import", str(path), "--progress"]) == 0
    out, err = capsys.readouterr()
    assert "30 créée(s)" in out and "import offres.jsonl" in err  # the bar, on stderr
    path.write_text("\n".join(json.dumps(r) for r in records(range(1, 21))) + "\n{cassé\n")
    assert main(["offers", "import", str(path), "--replace-source"]) == 1
    out, err = capsys.readouterr()
    assert "enregistrement 21 (sans id) : record : ligne illisible" in err
    assert "rien n'a été importé" in err
    assert main(["offers", "import", str(path), "--replace-source", "--skip-invalid"]) == 0
    assert "20 inchangée(s), 10 expirée(s)" in capsys.readouterr().out
    sessions = db.init_db(db.make_engine(Settings().sqlalchemy_url))
    assert db.count_opportunities(sessions, source="france-travail") == 30
    assert main(["offers", "import", str(tmp_path / "absent.json")]) == 1
    assert "impossible de lire" in capsys.readouterr().err


def test_worker_processes_give_the_same_import(sessions, gazetteer, rome, database_url):
    recs = records(range(1, 1201))
    recs[700] = offer(id="BAD1", lieuTravail={"commune": "99999"})
    recs[900] = {**recs[5]}
    refused = run(sessions, gazetteer, rome, recs, jobs=2)
    assert not refused.imported and [r.position for r in refused.rejections] == [701, 901]
    assert stored(sessions) == {}
    two = run(sessions, gazetteer, rome, recs, jobs=2, skip_invalid=True)
    assert (two.report.created, two.rejected) == (1198, 2)
    hashes = {k: v[0] for k, v in stored(sessions).items()}
    again = run(sessions, gazetteer, rome, recs, skip_invalid=True)  # one process
    assert again.report.unchanged == 1198 and {k: v[0] for k, v in stored(sessions).items()} \
        == hashes


def test_staging_a_large_file_does_not_hold_the_write_lock(database_url, gazetteer, rome):
    """While a file is being staged (temp table), other writers (the audit of a running
    service...) are not blocked: the database's write lock is taken by the final merge only."""
    from insertion_match.features.offers_import import parse_france_travail
    from insertion_match.service.db.opportunities import OfferStaging

    engine = db.make_engine(database_url, sqlite_busy_timeout_ms=300)
    sessions = db.init_db(engine)
    opps = parse_france_travail(records(range(1, 300)), gazetteer, rome).opportunities
    with OfferStaging(sessions, batch_size=50) as stage:
        for position, opp in enumerate(opps, start=1):
            stage.add(position, opp)
        stage.flush()
        other = parse_france_travail(records(range(500, 502)), gazetteer, rome).opportunities
        assert db.upsert_opportunities(sessions, other, "france-travail", "other").created == 2
        assert stage.duplicates() == []
        report = stage.merge("france-travail", "test", received=len(opps))
    assert report.created == len(opps) and len(stored(sessions)) == len(opps) + 2
    engine.dispose()


def test_migration_0007_rehashes_stored_offers(database_url, gazetteer, rome):
    """Offers stored before 0007 (hash over a dict dump) are rehashed over their stored JSON,
    so that the first import after the upgrade still changes nothing."""
    from sqlalchemy import text

    from insertion_match.features.offers_import import parse_france_travail
    from insertion_match.service.db import migrate

    engine = db.make_engine(database_url)
    migrate.upgrade(engine, "0006")
    (opp,) = parse_france_travail(records([7]), gazetteer, rome).opportunities
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO opportunities (id, source, external_id, kind, department, insee, "
            "rome_code, content_sha256, document, created_at, updated_at) VALUES (:id, "
            "'france-travail', :ext, 'job', '61', :insee, :rome, :old, :doc, :now, :now)"),
            {"id": opp.id, "ext": opp.external_id, "insee": opp.location.insee,
             "rome": opp.rome_code, "old": "0" * 64, "now": "2026-11-30 10:00:00",
             "doc": opp.model_dump_json(exclude_none=True)})
    sessions = db.init_db(engine)  # upgrades to head
    with sessions() as s:
        row = s.get(OpportunityRow, opp.id)
    assert row.content_sha256 == opportunity_hash(opp) and row.withdrawn_at is None
    report = db.upsert_opportunities(sessions, [opp], "france-travail", "test")
    assert (report.created, report.updated, report.unchanged) == (0, 0, 1)
    engine.dispose()


def test_api_imports_json_lines(client):
    lines = "\n".join(json.dumps(r) for r in records(range(9001, 9004))) + "\n{cassé\n"
    res = client.post("/v1/opportunities/import", params={"source": "apijsonl"},
                      content=lines.encode(), headers={"content-type": "application/x-ndjson"})
    assert res.status_code == 422
    assert [e["path"] for e in res.json()["errors"]] == ["records.4.record"]
    assert client.get("/v1/opportunities/apijsonl:S09001").status_code == 404
    res = client.post("/v1/opportunities/import", content=lines.encode(),
                      params={"source": "apijsonl", "format": "jsonl", "on_error": "skip"})
    assert res.status_code == 200, res.text
    assert (res.json()["received"], res.json()["created"]) == (4, 3)
    assert client.get("/v1/opportunities/apijsonl:S09001").status_code == 200  # served at once
