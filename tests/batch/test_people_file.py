"""The caseload file: columns, CSV and Parquet readers, bad rows (no cluster needed here)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from insertion_match.batch.people import (
    FLAT_COLUMNS,
    JSON_COLUMNS,
    PeopleFileError,
    PersonRow,
    people_frame,
    read_people_file,
)
from insertion_match.batch.run import check_people, partition
from insertion_match.domain import BeneficiaryProfile
from insertion_match.service.cli import main
from tests.conftest import REPO


def _profiles_of(raw, engine):
    valid, errors = check_people(raw, engine)
    assert errors == []
    return valid


def test_csv_and_parquet_give_the_profiles_the_api_reads(profiles, engine, tmp_path):
    frame = people_frame(profiles)
    frame.to_csv(tmp_path / "people.csv", index=False)
    frame.to_parquet(tmp_path / "people.parquet")
    expected = [BeneficiaryProfile.model_validate(p) for p in profiles]
    for name in ("people.csv", "people.parquet"):
        rows = _profiles_of(read_people_file(tmp_path / name), engine)
        assert [r.profile for r in rows] == expected, name
    csv_rows = _profiles_of(read_people_file(tmp_path / "people.csv"), engine)
    assert [r.line for r in csv_rows] == list(range(2, len(profiles) + 2))  # header = line 1
    assert {r.department for r in csv_rows} == {"61", "72", "91"}


def test_a_hand_written_semicolon_csv_with_frein_columns(engine, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(
        "id;home.commune;home.postcode;age;freins.mobilite;freins.garde_enfants;target_jobs;"
        "mobility.public_transport;status.rqth;history\n"
        "a-1;La Ferté-Macé;61600;34;3;2;\"[\"\"agent d'entretien\"\", \"\"K2204\"\"]\";oui;"
        "non;\"[{\"\"item_id\"\": \"\"x\"\", \"\"status\"\": \"\"done\"\"}]\"\n"
        "a-2;Le Mans;;;;;;;;\n", encoding="utf-8")
    first, second = _profiles_of(read_people_file(path), engine)
    assert first.profile.freins == {"mobilite": 3, "garde_enfants": 2}
    assert first.profile.target_jobs == ["agent d'entretien", "K2204"]
    assert first.profile.mobility.public_transport is True
    assert first.profile.status.rqth is False
    assert first.profile.history[0].item_id == "x"
    assert (first.department, second.department) == ("61", "72")
    assert second.profile.age is None and second.profile.freins == {}  # empty = unknown


def test_native_parquet_lists_and_maps_are_read(engine, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "id": ["n-1"], "home.insee": ["91228"],
        "freins": pa.array([[("numerique", 2)]], type=pa.map_(pa.string(), pa.int8())),
        "target_jobs": pa.array([["cariste"]]),
    })
    pq.write_table(table, tmp_path / "native.parquet")
    (row,) = _profiles_of(read_people_file(tmp_path / "native.parquet"), engine)
    assert row.profile.freins == {"numerique": 2} and row.profile.target_jobs == ["cariste"]


BAD_ROWS = (
    "id,home.commune,age,freins,mobility.public_transport\n"
    "ok-1,Flers,34,\"{\"\"mobilite\"\": 3}\",true\n"         # line 2: valid
    "bad-1,Qwertyville,40,,\n"                                 # line 3: unknown commune
    "bad-2,Flers,150,\"{\"\"mobilite\"\": 7}\",peut-être\n"    # line 4: three fields
    "bad-3,,30,,\n"                                            # line 5: no home
    "ok-1,Alençon,30,,\n"                                      # line 6: repeated id
    ",Alençon,30,,\n"                                          # line 7: no id
    "bad-4,\"Le\n"                                             # line 8-9: one quoted record
    "Mans\",30,{oops,\n"                                       #   over two lines, bad JSON
    "ok-2,Le Mans,,,\n"                                        # line 10: valid
)


def test_every_bad_row_is_reported_with_its_line_and_field(engine, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(BAD_ROWS, encoding="utf-8")
    valid, errors = check_people(read_people_file(path), engine)
    assert [r.person_id for r in valid] == ["ok-1", "ok-2"]
    assert [r.line for r in valid] == [2, 10]
    found = {(e.line, e.field) for e in errors}
    assert found == {(3, "home.commune"), (4, "age"), (4, "freins.mobilite"),
                     (4, "mobility.public_transport"), (5, "home"), (6, "id"), (7, "id"),
                     (8, "freins")}
    by_line = {e.line: e for e in errors}
    assert "commune inconnue : « Qwertyville »" in by_line[3].message_fr
    assert "vouliez-vous dire" in by_line[3].message_fr  # suggestions, as the API gives
    assert "double (déjà ligne 2)" in by_line[6].message_fr
    assert "JSON invalide" in by_line[8].message_fr
    assert str(by_line[5]).startswith("ligne 5 (id bad-3) : home : domicile manquant")


@pytest.mark.parametrize(("header", "needle"), [
    ("id,home.commune,nom\n", "colonnes inconnues : « nom »"),
    ("home.commune,age\n", "colonne « id » manquante"),
    ("id,age\n", "aucune colonne du domicile"),
    ("id,home.insee,freins,freins.mobilite\n", "pas les deux"),
])
def test_a_header_the_profile_cannot_read_is_refused(header, needle, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(header + "x,61169,1,1\n", encoding="utf-8")
    with pytest.raises(PeopleFileError, match=needle):
        read_people_file(path)


def test_unreadable_files_are_refused_in_french(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("id,home.commune\nl-1,Alençon\n".encode("latin-1"))
    with pytest.raises(PeopleFileError, match="n'est pas en UTF-8 \\(ligne 2\\)"):
        list(read_people_file(latin).rows)
    (tmp_path / "people.xlsx").write_bytes(b"PK")
    with pytest.raises(PeopleFileError, match="format non reconnu"):
        read_people_file(tmp_path / "people.xlsx")
    (tmp_path / "broken.parquet").write_bytes(b"not parquet")
    with pytest.raises(PeopleFileError, match="Parquet illisible"):
        read_people_file(tmp_path / "broken.parquet")


def test_partitions_hold_one_departement_each_in_file_order(profiles, engine, tmp_path):
    people_frame(profiles).to_csv(tmp_path / "people.csv", index=False)
    rows = _profiles_of(read_people_file(tmp_path / "people.csv"), engine)
    parts = partition(rows, 5)
    assert [d for d, _ in parts] == sorted(d for d, _ in parts)
    for department, people in parts:
        assert 1 <= len(people) <= 5
        assert {p.department for p in people} == {department}
        assert [p.line for p in people] == sorted(p.line for p in people)
    assert sorted(p.person_id for _, ps in parts for p in ps) == sorted(r.person_id for r in rows)
    assert all(isinstance(p, PersonRow) for _, ps in parts for p in ps)


def test_the_documented_columns_are_the_readers(tmp_path):
    doc = (REPO / "docs" / "batch.md").read_text(encoding="utf-8")
    for column in (*FLAT_COLUMNS, *JSON_COLUMNS):
        assert f"`{column}`" in doc, column


@pytest.fixture
def cli_env(monkeypatch, tmp_path, database_url):
    monkeypatch.setenv("IM_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("IM_DATABASE_URL", database_url)
    monkeypatch.setenv("IM_SEED_DEMO_OFFERS_ON_START", "false")
    monkeypatch.delenv("IM_MODEL_PATH", raising=False)


def test_cli_refuses_the_whole_file_for_one_bad_row(cli_env, tmp_path, capsys):
    path, out = tmp_path / "people.csv", tmp_path / "out.parquet"
    path.write_text(BAD_ROWS, encoding="utf-8")
    assert main(["batch", str(path), str(out)]) == 1
    err = capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob(".out.parquet*"))  # nothing written
    out.write_bytes(b"yesterday's answer")
    assert main(["batch", str(path), str(out), "--workers", "2"]) == 1
    assert out.read_bytes() == b"yesterday's answer"  # an existing output stays as it was
    capsys.readouterr()
    assert "ligne 4 (id bad-2) : age : valeur trop grande" in err
    assert "ligne 3 (id bad-1) : home.commune : commune inconnue" in err
    assert "6 ligne(s) refusée(s)" in err and "rien n'a été écrit" in err
    assert "--skip-invalid" in err


def test_cli_usage_errors_exit_non_zero(cli_env, tmp_path, capsys):
    path = tmp_path / "people.csv"
    path.write_text("id,home.insee\nu-1,61169\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        main(["batch", str(path), str(tmp_path / "o.parquet"), "--kinds", "action,jobs"])
    assert exc.value.code == 2
    assert "type(s) inconnu(s) : jobs" in capsys.readouterr().err
    assert main(["batch", str(tmp_path / "absent.csv"), str(tmp_path / "o.parquet")]) == 1
    assert "fichier introuvable" in capsys.readouterr().err
    assert main(["batch", str(path), str(tmp_path / "no" / "o.parquet")]) == 1
    assert "dossier de sortie introuvable" in capsys.readouterr().err


def test_people_frame_writes_json_text_for_nested_parts(profiles):
    frame = people_frame(profiles)
    assert list(frame.columns) == [*FLAT_COLUMNS, *JSON_COLUMNS]
    with_jobs = frame[frame["target_jobs"].notna()]
    assert len(with_jobs) and all(isinstance(json.loads(v), list) for v in with_jobs.target_jobs)
    assert pd.isna(frame.loc[6, "freins"])  # the home-only profile


def test_an_unreachable_scheduler_leaves_the_previous_output_untouched(tmp_path, database_url):
    from insertion_match.batch import BatchFailed, BatchOptions, run_batch
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, database_url, seed_demo_offers_on_start=False)
    path, out = tmp_path / "people.csv", tmp_path / "out.parquet"
    path.write_text("id,home.insee\nu-1,61169\n", encoding="utf-8")
    out.write_bytes(b"yesterday's answer")
    with pytest.raises(BatchFailed, match="impossible de joindre le planificateur Dask"):
        run_batch(settings, path, out, BatchOptions(scheduler="tcp://127.0.0.1:9",
                                                    connect_timeout=1))
    assert out.read_bytes() == b"yesterday's answer"
    assert sorted(p.name for p in tmp_path.glob(".out.parquet*")) == []
    with pytest.raises(BatchFailed, match="missing port number"):
        run_batch(settings, path, out, BatchOptions(scheduler="scheduler-without-port"))


def test_an_audit_the_database_refuses_stops_the_run_with_nothing_written(tmp_path,
                                                                          database_url):
    from sqlalchemy import text

    from insertion_match.batch import BatchFailed, BatchOptions, run_batch
    from insertion_match.service import db
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, database_url, seed_demo_offers_on_start=False)
    engine = db.make_engine(settings.sqlalchemy_url)
    db.init_db(engine)
    with engine.begin() as conn:  # the audit table gone: every insert into it fails
        conn.execute(text("DROP TABLE recommendation_log"))
    engine.dispose()
    path, out = tmp_path / "people.csv", tmp_path / "out.parquet"
    path.write_text("id,home.insee\na-1,61169\na-2,61001\n", encoding="utf-8")
    out.write_bytes(b"yesterday's answer")
    with pytest.raises(BatchFailed, match="le journal d'audit n'a pas pu être écrit"):
        run_batch(settings, path, out, BatchOptions(workers=1))
    assert out.read_bytes() == b"yesterday's answer"  # no ranking delivered unaudited
    assert sorted(p.name for p in tmp_path.glob(".out.parquet*")) == []


def test_nobody_to_rank_writes_an_empty_answer_with_the_schema(cli_env, tmp_path, capsys):
    import pyarrow.parquet as pq

    from insertion_match.batch.rows import SCHEMA

    path, out = tmp_path / "people.csv", tmp_path / "out.parquet"
    path.write_text("id,home.commune\nz-1,Qwertyville\n", encoding="utf-8")
    assert main(["batch", str(path), str(out), "--skip-invalid"]) == 0
    captured = capsys.readouterr()
    assert "ligne 2 (id z-1) : home.commune : commune inconnue" in captured.err
    assert "0 personne(s) classée(s), 1 ligne(s) refusée(s) ignorée(s)" in captured.out
    table = pq.read_table(out)
    assert table.num_rows == 0 and table.schema.equals(SCHEMA)


def test_a_bad_byte_deep_in_a_csv_names_its_line_and_writes_nothing(cli_env, tmp_path, capsys):
    path, out = tmp_path / "people.csv", tmp_path / "out.parquet"
    body = "".join(f"d-{k},61169\n" for k in range(2000))  # read as a stream, past one buffer
    path.write_bytes(("id,home.insee\n" + body).encode() + "d-x,Alençon\n".encode("latin-1"))
    assert main(["batch", str(path), str(out)]) == 1
    err = capsys.readouterr().err
    assert "n'est pas en UTF-8 (ligne 2002)" in err and "rien n'a été écrit" in err
    assert not out.exists()


def test_the_example_caseload_is_valid(engine):
    rows = _profiles_of(read_people_file(REPO / "examples" / "caseload.csv"), engine)
    assert [r.person_id for r in rows] == ["b-0042", "b-0043", "b-0044", "b-0045", "b-0046"]
    assert [r.department for r in rows] == ["61", "61", "72", "91", "61"]
