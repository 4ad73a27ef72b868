"""What a worker runs, called in this process: the per-process engine cache and one partition."""

from __future__ import annotations

import uuid

import pytest

from insertion_match.batch import worker
from insertion_match.batch.people import PersonRow
from insertion_match.batch.rows import SCHEMA
from insertion_match.domain import BeneficiaryProfile
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    var = tmp_path_factory.mktemp("worker-var")
    return make_settings(var, f"sqlite:///{var / 'w.sqlite3'}", seed_demo_offers_on_start=False)


def _person(pid: str, **fields) -> PersonRow:
    profile = BeneficiaryProfile.model_validate({"id": pid, "home": {"insee": "61169"}, **fields})
    return PersonRow.of(2, profile, "61")


def test_a_run_builds_its_engine_once_per_process_and_drops_the_previous(settings):
    first, second = uuid.uuid4().hex, uuid.uuid4().hex
    engine = worker.worker_engine(first, settings)
    assert worker.worker_engine(first, settings) is engine
    ranked = worker.rank_partition(first, settings, [_person("w-1", freins={"mobilite": 3}),
                                                     _person("w-2")], ["action"], 3, False)
    assert worker.engine_loads(first) == 1
    table = ranked.table
    assert table.schema.equals(SCHEMA)
    expected = engine.recommend(_person("w-1", freins={"mobilite": 3}).profile, ["action"], 3)
    rows = [r for r in table.to_pylist() if r["person_id"] == "w-1"]
    assert [(r["item_id"], r["rank"], r["score"]) for r in rows] == [
        (i.id, i.rank, i.score) for i in expected.items]
    # what each person was shown, for the driver's audit rows: ids in the answer's order
    assert [p for p, *_ in ranked.shown] == ["w-1", "w-2"]
    assert ranked.shown[0][1:] == ("61169", expected.model_name, expected.model_version,
                                   tuple(i.id for i in expected.items))
    assert worker.worker_engine(second, settings) is not engine
    assert set(worker._ENGINES) == {second} and worker.engine_loads(second) == 1


def test_a_person_the_engine_cannot_rank_is_returned_without_the_profile(settings):
    token = uuid.uuid4().hex
    failure = worker.rank_partition(token, settings, [_person("w-3", freins={"sante": 3})],
                                    ["action", "training"], 3, False)
    assert failure == worker.PartitionFailure("w-3", "UnsupportedKind")
    assert "sante" not in repr(failure)
