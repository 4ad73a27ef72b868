"""`insertion-match batch` on Dask answers as `POST /v1/recommendations` does, whatever the
input format and the number of workers; each worker builds the engine once.

One module-scoped app (the real one, on a new database) and three real runs: a 2-worker local
cluster on CSV, a 1-worker one through the command line on Parquet with bad rows skipped, and an
existing scheduler (``--scheduler``).
"""

from __future__ import annotations

import contextlib
import io
import json
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from insertion_match.batch import BatchOptions, people_frame, run_batch
from insertion_match.service.cli import main
from tests.batch.conftest import ALL_KINDS
from tests.conftest import add_key, fresh_database, make_settings

LIMIT = 5
PARTITION = 8


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The real app on a new database (seeded with the catalogue and the demo offers), its
    settings, and an admin client."""
    from insertion_match.service.app import create_app

    var = tmp_path_factory.mktemp("batch-var")
    with fresh_database(var) as url:
        settings = make_settings(var, url)
        with TestClient(create_app(settings)) as client:
            client.headers["X-API-Key"] = add_key(client.app, "admin", name="batch test")
            yield settings, client


@pytest.fixture(scope="module")
def files(profiles, tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("batch-files")
    frame = people_frame(profiles)
    frame.to_csv(d / "people.csv", index=False)
    # The Parquet input also carries two bad rows, which --skip-invalid leaves out.
    bad = frame.iloc[:2].copy()
    bad["id"] = ["bad-age", "bad-home"]
    bad["age"] = [150, 30]
    bad["home.insee"] = [bad["home.insee"].iloc[0], "99999"]
    bad["home.commune"] = [bad["home.commune"].iloc[0], None]
    bad["home.postcode"] = None
    import pandas as pd

    pd.concat([frame.iloc[:5], bad, frame.iloc[5:]], ignore_index=True).to_parquet(
        d / "people.parquet")
    return {"csv": d / "people.csv", "parquet": d / "people.parquet", "dir": d}


@pytest.fixture(scope="module")
def two_workers(world, files):
    settings, _ = world
    out = files["dir"] / "two.parquet"
    summary = run_batch(settings, files["csv"], out, BatchOptions(
        kinds=ALL_KINDS, limit=LIMIT, include_excluded=True, workers=2,
        partition_size=PARTITION, actor="batch test, two workers"))
    return summary, out


@pytest.fixture(scope="module")
def one_worker_cli(world, files):
    settings, _ = world
    out = files["dir"] / "one.parquet"
    env = {"IM_ENVIRONMENT": "test", "IM_VAR_DIR": str(settings.var_dir),
           "IM_DATA_DIR": str(settings.data_dir), "IM_DATABASE_URL": settings.database_url}
    err = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stderr(err):
        for key, value in env.items():
            mp.setenv(key, value)
        mp.delenv("IM_MODEL_PATH", raising=False)
        code = main(["batch", str(files["parquet"]), str(out), "--kinds", ",".join(ALL_KINDS),
                     "--limit", str(LIMIT), "--include-excluded", "--workers", "1",
                     "--partition-size", str(PARTITION), "--skip-invalid",
                     "--actor", "batch test, CLI"])
    return code, out, err.getvalue()


def _by_person(path: Path) -> dict[str, list[dict]]:
    rows = defaultdict(list)
    for row in pq.read_table(path).to_pylist():
        rows[row["person_id"]].append(row)
    return rows


def test_each_persons_items_are_the_apis(world, profiles, two_workers):
    _, client = world
    summary, out = two_workers
    assert summary.written and summary.errors == [] and summary.people == len(profiles)
    batch = _by_person(out)
    assert set(batch) == {p["id"] for p in profiles}
    seen_kinds, with_items = set(), 0
    for profile in profiles:
        res = client.post("/v1/recommendations", json={
            "beneficiary": profile, "kinds": list(ALL_KINDS), "limit": LIMIT,
            "include_excluded": True})
        assert res.status_code == 200, res.text
        api = res.json()
        rows = batch[profile["id"]]
        items = [r for r in rows if not r["excluded"]]
        assert [(r["kind"], r["rank"], r["item_id"], r["score"]) for r in items] == [
            (i["kind"], i["rank"], i["id"], i["score"]) for i in api["items"]], profile["id"]
        for row, item in zip(items, api["items"], strict=True):
            assert row["reasons"] == item["reasons"]  # code, French label, contribution
            assert row["warnings"] == item["warnings"]
            assert (row["title"], row["provider"], row["commune"], row["distance_km"],
                    row["travel_mode"], row["travel_minutes"], row["freins_addressed"]) == (
                item["title"], item["provider"], item["commune"], item["distance_km"],
                item["travel"]["mode"], item["travel"]["minutes"], item["freins_addressed"])
        excluded = [r for r in rows if r["excluded"]]
        assert [(r["kind"], r["item_id"], [(x["code"], x["label"]) for x in r["reasons"]])
                for r in excluded] == [
            (e["kind"], e["id"], [(x["code"], x["label"]) for x in e["reasons"]])
            for e in api["excluded"]]
        assert {r["home_insee"] for r in rows} <= {api["home"]["insee"]}
        assert {r["model_name"] for r in rows} <= {api["model"]["name"]}
        seen_kinds |= {r["kind"] for r in items}
        with_items += bool(items)
    assert {"action", "job"} <= seen_kinds  # the sample exercises offers as well as actions
    assert with_items >= len(profiles) - 3


def _audited(settings, actor_name: str) -> list:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from insertion_match.service import db

    engine = db.make_engine(settings.sqlalchemy_url)
    try:
        with Session(engine) as session:
            return list(session.scalars(select(db.RecommendationLog).where(
                db.RecommendationLog.actor_name == actor_name).order_by(
                db.RecommendationLog.id)))
    finally:
        engine.dispose()


def test_every_person_ranked_is_in_the_audit_with_the_items_written(world, profiles,
                                                                   two_workers):
    settings, _ = world
    summary, out = two_workers
    logged = _audited(settings, "batch test, two workers")
    assert summary.audited == len(logged) == len(profiles)  # one row per person, no more
    batch = _by_person(out)
    assert [r.beneficiary_id for r in logged] == list(batch)  # the output's order
    for row in logged:
        written = batch[row.beneficiary_id]
        assert (row.actor, row.actor_role) == ("cli:batch", "admin")
        assert row.item_ids == [r["item_id"] for r in written if not r["excluded"]]
        assert {row.department} == {r["department"] for r in written}
        assert {row.model_name} == {r["model_name"] for r in written}
        assert {row.model_version} == {r["model_version"] for r in written}
    assert any(row.item_ids for row in logged)


def test_the_cli_batch_says_what_it_audited_and_under_which_name(world, one_worker_cli):
    settings, _ = world
    code, out, _ = one_worker_cli
    logged = _audited(settings, "batch test, CLI")
    assert code == 0 and len(logged) == len(_by_person(out))  # the two bad rows: not ranked
    assert "bad-age" not in {r.beneficiary_id for r in logged}


def test_a_stored_persons_batch_row_is_in_their_export(world, profiles, tmp_path):
    settings, client = world
    person = profiles[0]
    stored = client.put(f"/v1/beneficiaries/{person['id']}", json={**person, "id": None})
    assert stored.status_code in (200, 201), stored.text
    caseload = tmp_path / "one.csv"
    people_frame([person]).to_csv(caseload, index=False)
    summary = run_batch(settings, caseload, tmp_path / "one.parquet", BatchOptions(
        kinds=("action",), limit=LIMIT, actor="batch test, stored person"))
    assert summary.audited == 1
    [row] = _audited(settings, "batch test, stored person")
    assert row.subject is not None  # tied to the stored person...
    export = client.get(f"/v1/beneficiaries/{person['id']}/export")
    assert export.status_code == 200, export.text
    shown = [r for r in export.json()["recommendations"] if r["item_ids"] == row.item_ids]
    assert shown, export.json()["recommendations"]  # ...so their export lists it


def test_each_worker_builds_the_engine_once(two_workers):
    summary, _ = two_workers
    assert summary.workers == 2
    assert summary.partitions >= 4  # more partitions than workers...
    assert sorted(summary.engine_loads.values()) == [1, 1]  # ...one engine per worker
    assert set(summary.worker_cpu_seconds) == set(summary.engine_loads)
    assert all(seconds > 0 for seconds in summary.worker_cpu_seconds.values())  # measured
    assert set(summary.departments) == {"61", "72", "91"}


def test_rows_are_grouped_by_departement_then_file_order(profiles, two_workers):
    _, out = two_workers
    table = pq.read_table(out, columns=["person_id", "department"]).to_pylist()
    order = list(dict.fromkeys((r["department"], r["person_id"]) for r in table))
    position = {p["id"]: k for k, p in enumerate(profiles)}
    assert order == sorted(order, key=lambda dp: (dp[0], position[dp[1]]))


def test_one_worker_on_parquet_writes_what_two_workers_wrote_on_csv(two_workers,
                                                                    one_worker_cli):
    code, out, err = one_worker_cli
    assert code == 0
    _, two = two_workers
    assert pq.read_table(out).equals(pq.read_table(two))
    assert out.read_bytes() == two.read_bytes()  # same partitions, same row groups
    assert "(id bad-age) : age : valeur trop grande" in err
    assert "(id bad-home) : home.insee : code postal ou code INSEE inconnu" in err


def test_an_existing_scheduler_serves_the_same_answers(world, files, two_workers, tmp_path):
    from distributed import LocalCluster

    settings, _ = world
    few = tmp_path / "few.csv"
    lines = files["csv"].read_text(encoding="utf-8").splitlines(keepends=True)
    few.write_text("".join(lines[:1] + lines[1:7]), encoding="utf-8")
    out = tmp_path / "few.parquet"
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster:
        summary = run_batch(settings, few, out, BatchOptions(
            kinds=ALL_KINDS, limit=LIMIT, include_excluded=True,
            scheduler=cluster.scheduler_address, partition_size=PARTITION))
        assert summary.workers == 1 and list(summary.engine_loads.values()) == [1]
    got = _by_person(out)
    everyone = _by_person(two_workers[1])
    assert len(got) == 6
    assert got == {pid: everyone[pid] for pid in got}


def test_the_output_schema_is_documented(two_workers):
    from insertion_match.batch.rows import SCHEMA
    from tests.conftest import REPO

    _, out = two_workers
    assert pq.read_schema(out).equals(SCHEMA)
    doc = (REPO / "docs" / "batch.md").read_text(encoding="utf-8")
    for name in SCHEMA.names:
        assert f"`{name}`" in doc, name
    json.dumps(pq.read_table(out).slice(0, 3).to_pylist(), ensure_ascii=False)  # plain values
