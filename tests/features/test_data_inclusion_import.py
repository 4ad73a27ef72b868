"""data·inclusion import (``catalogue import-di``): files built here in the official v1 formats,
validated by the official models; conversion rules; deduplication; atomic and idempotent storage
(real SQLite, or IM_TEST_DATABASE_URL's PostgreSQL); the round trip export → import; an imported
service in a recommendation, with its reasons; the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from insertion_match.domain import BeneficiaryProfile
from insertion_match.features.data_inclusion import export_catalogue
from insertion_match.features.di_import import (
    DI_DOCUMENT,
    DiReference,
    action_id_of,
    convert,
    validate,
)
from insertion_match.service import db
from insertion_match.service.db.catalogue import load_di_links
from insertion_match.service.di_catalogue import import_data_inclusion
from tests.conftest import DATA, REPO, add_key, make_settings


def structure(**over) -> dict:
    return {"source": "test", "id": "test--st1", "nom": "Centre social Croix-Mercier",
            "date_maj": "2025-06-01", "commune": "Alençon", "code_insee": "61001",
            "code_postal": "61000", "adresse": "2 rue des Tisserands",
            "telephone": "0233000000", **over}


def service(**over) -> dict:
    return {"source": "test", "structure_id": "test--st1", "id": "test--1",
            "nom": "Atelier numérique du mardi",
            "description": "Atelier collectif pour apprendre à utiliser un ordinateur, une "
            "messagerie et les sites des administrations.",
            "date_maj": "2025-06-01", "thematiques": [("numerique--maitriser-les-fondamentaux-du-"
                                                      "numerique")],
            "publics": ["tous-publics"], "modes_accueil": ["en-presentiel"],
            "code_insee": "61001", "commune": "Alençon", "adresse": "2 rue des Tisserands",
            "zone_eligibilite": ["61"], "frais": "gratuit", **over}


def dump(records: list[dict], lines: bool = False) -> str:
    if lines:
        return "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n"
    return json.dumps(records, ensure_ascii=False)


@pytest.fixture(scope="module")
def ref(gazetteer, territories) -> DiReference:
    return DiReference.load(DATA, gazetteer, territories)


def one(ref, svc: dict, st: dict | None = None):
    batch = validate(dump([svc]), dump([st or structure()]))
    assert not batch.rejected, [r.message_fr() for r in batch.rejected]
    (_, model), = batch.services
    return convert(model, batch.structures[model.structure_id], ref)


# -- validation ---------------------------------------------------------------------------------


def test_every_rejection_names_record_field_and_reason_in_french():
    services = [service(), service(id="test--2", nom="ab", date_maj="2031-01-01"),
                service(id="test--3", structure_id="test--absent"),
                service(id="test--4", thematiques=["pas-une-thematique"], code_postal="6100"),
                service(id="test--1")]
    batch = validate(dump(services, lines=True), dump([structure(), structure(id="x", nom="")]))
    messages = [r.message_fr() for r in batch.rejected]
    by = {(r.file, r.position): dict(r.errors) for r in batch.rejected}
    assert len(batch.services) == 1 and len(batch.rejected) == 5, messages
    assert by[("structures", 2)]["nom"] == "au moins 3 caractère(s)"
    assert by[("services", 2)]["nom"] == "au moins 3 caractère(s)"
    assert "futur" in by[("services", 2)]["date_maj"]  # the package's own French message
    assert "absente du fichier des structures" in by[("services", 3)]["structure_id"]
    assert "valeur inconnue" in by[("services", 4)]["thematiques.0"]
    assert by[("services", 4)]["code_postal"] == "au moins 5 caractère(s)"
    assert "en double" in by[("services", 5)]["id"]
    assert all("service n° " in m or "structure n° " in m for m in messages)


def test_json_array_and_json_lines_read_the_same():
    records = [service(), service(id="test--2")]
    a = validate(dump(records), dump([structure()]))
    b = validate(dump(records, lines=True), dump([structure()], lines=True))
    assert [s.id for _, s in a.services] == [s.id for _, s in b.services] == ["test--1", "test--2"]


# -- conversion ---------------------------------------------------------------------------------


def test_thematiques_become_freins_and_the_place_is_geocoded(ref):
    conv = one(ref, service(thematiques=["numerique--maitriser-les-fondamentaux-du-numerique",
                                         "famille--garde-denfants"]))
    a = conv.action
    assert a.id == action_id_of("test--1") and a.source.document == DI_DOCUMENT
    assert [f.value for f in a.freins] == ["garde_enfants", "numerique"]
    assert a.territory.department == "61" and a.territory.scope == "departement"
    assert a.sites[0].insee == "61001" and a.sites[0].precision == "address"
    assert a.cost_eur == 0 and not a.itinerant and not a.prescription_required
    assert a.operator == "Centre social Croix-Mercier"
    assert a.data_inclusion.service_ids == ("test--1",) and not a.data_inclusion.merged
    assert "Fiche data·inclusion (source « test », mise à jour le 01/06/2025)" in \
        a.eligibility.other_fr


def test_postcode_and_name_locate_a_service_without_insee(ref):
    conv = one(ref, service(code_insee=None, commune="Flers", code_postal="61100", adresse=None))
    assert conv.action.sites[0].insee == "61169" and conv.action.sites[0].precision == "commune"


def test_without_a_locatable_place_it_says_so(ref):
    st = structure(commune=None, code_insee=None, code_postal=None, adresse=None)
    conv = one(ref, service(code_insee=None, commune=None, adresse=None), st)
    assert conv.placeless and conv.action.sites[0].precision == "unspecified"
    assert "aucune adresse localisable" in conv.action.eligibility.other_fr


def test_rules_from_publics_fees_conditions_and_modes(ref):
    women = one(ref, service(publics=["femmes"])).action
    assert women.eligibility.sex == "f"
    young = one(ref, service(publics=["jeunes"], publics_precisions="16-25 ans")).action
    assert young.eligibility.age_max is None and young.eligibility.age_min is None  # not invented
    assert "public visé : jeunes" in young.eligibility.other_fr
    assert young.public_fr == "jeunes : 16-25 ans"
    rsa = one(ref, service(publics=["jeunes", "beneficiaires-des-minimas-sociaux"])).action
    assert "public visé" not in rsa.eligibility.other_fr  # the person is in one of the publics
    paid = one(ref, service(frais="payant", frais_precisions="5 € par séance",
                            conditions_acces="Savoir lire")).action
    assert paid.cost_eur is None and paid.cost_note_fr == "5 € par séance"
    assert "service payant (5 € par séance)" in paid.eligibility.other_fr
    assert "conditions d'accès : Savoir lire" in paid.eligibility.other_fr
    unknown_fee = one(ref, service(frais=None)).action
    assert unknown_fee.cost_eur is None  # "À vérifier", never invented
    remote = one(ref, service(modes_accueil=["a-distance"])).action
    assert remote.itinerant
    both = one(ref, service(modes_accueil=["a-distance", "en-presentiel"])).action
    assert not both.itinerant and "aussi proposé à distance" in both.eligibility.other_fr
    pro = one(ref, service(mobilisable_par=["professionnels"])).action
    assert pro.prescription_required


def test_zone_eligibilite_becomes_the_territory(ref):
    communes = one(ref, service(zone_eligibilite=["61001", "61169", "72181"])).action
    assert communes.territory.scope == "communes"
    assert communes.territory.communes == ("61001", "61169")
    epci = one(ref, service(zone_eligibilite=["200035459"])).action
    assert epci.territory.scope == "departement" and "EPCI" in epci.eligibility.other_fr
    none = one(ref, service(zone_eligibilite=None)).action
    assert "zone d'éligibilité non précisée" in none.eligibility.other_fr
    # a structure in the Calvados serving Orne communes: its place is kept, the territory is 61
    caen = structure(commune="Caen", code_insee="14118", code_postal="14000")
    served = one(ref, service(code_insee="14118", commune="Caen", zone_eligibilite=["61"]), caen)
    assert served.action.territory.department == "61" and served.action.sites[0].insee == "14118"


def test_outside_the_served_departments_or_without_frein_it_is_skipped(ref):
    caen = structure(commune="Caen", code_insee="14118", code_postal="14000")
    out = one(ref, service(code_insee="14118", commune="Caen", zone_eligibilite=["14"]), caen)
    assert out.action is None and "hors des départements servis" in out.skipped_fr
    abroad = one(ref, service(thematiques=[
        "souvrir-a-linternational--connaitre-les-opportunites-demploi-a-letranger"]))
    assert abroad.action is None and "frein" in abroad.skipped_fr


# -- storage: atomic, idempotent, deduplicated ---------------------------------------------------


@pytest.fixture
def state(tmp_path, database_url):
    from insertion_match.service.state import build_state

    settings = make_settings(tmp_path, database_url, seed_demo_offers_on_start=False)
    st = build_state(settings)
    yield st
    st.close()


def _import(state, ref, services, structures, skip_invalid=False):
    return import_data_inclusion(state, validate(dump(services), dump(structures)), ref,
                                 skip_invalid=skip_invalid)


def test_one_bad_record_and_nothing_is_stored_unless_skip_invalid(state, ref, catalogue):
    records = [service(), service(id="test--2", nom="x")]
    outcome = _import(state, ref, records, [structure()])
    assert not outcome.imported
    assert db.count_actions(state.sessions) == len(catalogue) and not load_di_links(state.sessions)
    outcome = _import(state, ref, records, [structure()], skip_invalid=True)
    assert outcome.imported and outcome.plan.new_created == 1
    assert db.count_actions(state.sessions) == len(catalogue) + 1


def test_reimport_changes_nothing_and_a_changed_record_is_updated(state, ref, catalogue):
    records = [service(), service(id="test--2", nom="Permanence budget",
                                  thematiques=[("difficultes-financieres--ameliorer-sa-gestion-"
                                               "budgetaire")])]
    first = _import(state, ref, records, [structure()]).plan
    assert (first.new_created, first.unchanged) == (2, 0)
    links = {k: (v.action_id, v.content_sha256) for k, v in load_di_links(state.sessions).items()}
    stored = sorted(a.model_dump_json() for a in db.load_actions(state.sessions))
    again = _import(state, ref, records, [structure()]).plan
    assert (again.new_created, again.new_merged, again.updated, again.unchanged) == (0, 0, 0, 2)
    assert sorted(a.model_dump_json() for a in db.load_actions(state.sessions)) == stored
    assert {k: (v.action_id, v.content_sha256)
            for k, v in load_di_links(state.sessions).items()} == links
    records[1]["nom"] = "Permanence conseil budget"
    changed = _import(state, ref, records, [structure()]).plan
    assert (changed.updated, changed.unchanged) == (1, 1)
    titles = {a.title for a in db.load_actions(state.sessions)}
    assert "Permanence conseil budget" in titles and "Permanence budget" not in titles
    assert db.count_actions(state.sessions) == len(catalogue) + 2
    records[1]["zone_eligibilite"], records[1]["code_insee"] = ["14"], "14118"  # now in Caen
    records[1]["commune"] = "Caen"
    moved = _import(state, ref, records, [structure()]).plan
    assert moved.withdrawn == ["test--2"] and moved.unchanged == 1
    assert db.count_actions(state.sessions) == len(catalogue) + 1
    assert set(load_di_links(state.sessions)) == {"test--1"}
    assert action_id_of("test--2") not in state.engine.by_id


def test_another_worker_follows_each_data_inclusion_import(state, ref, tmp_path, database_url):
    """A data·inclusion import through one worker (or the CLI) reaches another worker at its
    next check: a new service, a changed one (same counts), a withdrawn one (moved out of the
    served départements)."""
    from insertion_match.service.follow import Follower
    from insertion_match.service.state import build_state

    other = build_state(state.settings)
    try:
        follower = Follower(other, 60)
        records = [service(), service(id="test--2", nom="Permanence budget", thematiques=[
            "difficultes-financieres--ameliorer-sa-gestion-budgetaire"])]

        def titles() -> set[str]:
            return {a.title for a in other.engine.actions if a.source.document == DI_DOCUMENT}

        assert _import(state, ref, records, [structure()]).plan.new_created == 2
        assert follower.check() == {"catalogue"}
        assert titles() == {"Atelier numérique du mardi", "Permanence budget"}
        records[1]["nom"] = "Permanence conseil budget"
        assert _import(state, ref, records, [structure()]).plan.updated == 1
        assert follower.check() == {"catalogue"}
        assert titles() == {"Atelier numérique du mardi", "Permanence conseil budget"}
        records[1].update(zone_eligibilite=["14"], code_insee="14118", commune="Caen")
        assert _import(state, ref, records, [structure()]).plan.withdrawn == ["test--2"]
        assert follower.check() == {"catalogue"} and titles() == {"Atelier numérique du mardi"}
        assert follower.check() == set()
    finally:
        other.close()


def test_a_duplicate_of_a_curated_action_is_merged_and_linked(state, ref, catalogue):
    curated = next(a for a in catalogue if a.id == "flers-asti-langue-francaise")
    site = curated.sites[0]
    st = structure(id="dora--asti", nom=curated.operator, commune=site.commune,
                   code_insee=site.insee, code_postal="61100")
    dup = service(id="dora--asti-1", structure_id="dora--asti", source="dora",
                  nom=f"{curated.title} à {site.commune}", code_insee=site.insee,
                  commune=site.commune, thematiques=[("lecture-ecriture-calcul--maitriser-le-"
                                                     "francais")])
    other = {**dup, "id": "dora--asti-2", "nom": "Permanence d'écrivain public"}
    plan = _import(state, ref, [dup, other], [st]).plan
    assert plan.merged == [("dora--asti-1", curated.id)] and plan.new_created == 1
    stored = {a.id: a for a in db.load_actions(state.sessions)}
    assert stored[curated.id].data_inclusion.service_ids == ("dora--asti-1",)
    assert stored[curated.id].data_inclusion.merged and stored[curated.id].title == curated.title
    assert action_id_of("dora--asti-1") not in stored
    # shown by GET /v1/actions/{id}, from the engine swapped in after the import
    from insertion_match.service.app import create_app

    with TestClient(create_app(state.settings, state=state)) as client:
        client.headers["X-API-Key"] = add_key(client.app, "admin")
        body = client.get(f"/v1/actions/{curated.id}").json()
        assert body["data_inclusion"]["service_ids"] == ["dora--asti-1"]
        created = client.get(f"/v1/actions/{action_id_of('dora--asti-2')}").json()
        assert created["source"]["document"] == DI_DOCUMENT
        assert created["data_inclusion"]["source"] == "dora"


def test_round_trip_export_then_import_merges_everything(state, ref, catalogue, gazetteer,
                                                         territories):
    export = export_catalogue(catalogue, gazetteer, territories, DATA)
    outcome = import_data_inclusion(
        state, validate(dump(export.services), dump(export.structures)), ref)
    plan = outcome.plan
    assert not plan.skipped and plan.new_created == 0
    assert len(plan.merged) == len(export.services)
    assert all(action_id == service_id.split("--")[0] for service_id, action_id in plan.merged)
    assert db.count_actions(state.sessions) == len(catalogue)
    stored = {a.id: a for a in db.load_actions(state.sessions)}
    for action in (a for a in catalogue if a.active):
        assert stored[action.id].data_inclusion is not None, action.id
    assert _import(state, ref, export.services, export.structures).plan.unchanged == len(
        export.services)


def test_curated_reimport_keeps_the_imported_actions(state, ref, catalogue):
    _import(state, ref, [service()], [structure()])
    db.replace_catalogue(state.sessions, catalogue, origin="test:curated again")
    ids = {a.id for a in db.load_actions(state.sessions)}
    assert action_id_of("test--1") in ids and len(ids) == len(catalogue) + 1


def test_an_imported_service_is_recommended_with_its_reasons(state, ref):
    svc = service(id="test--fle", nom="Cours de français langue étrangère",
                  thematiques=["lecture-ecriture-calcul--maitriser-le-francais"],
                  code_insee="61001", mobilisable_par=["professionnels", "usagers"])
    _import(state, ref, [svc], [structure()])
    profile = BeneficiaryProfile.model_validate({
        "id": "t-di-1", "home": {"commune": "Alençon"}, "age": 40,
        "freins": {"langue_francaise": 3}, "mobility": {"public_transport": True}})
    rec = state.engine.recommend(profile, kinds=("action",), limit=10)
    item = next(i for i in rec.items if i.id == action_id_of("test--fle"))
    codes = {r.code for r in item.reasons}
    assert any("langue française" in r.label for r in item.reasons), item.reasons
    assert item.score > 0 and codes
    assert any("Fiche data·inclusion" in w.label for w in item.warnings)
    assert item.provider == "Centre social Croix-Mercier" and item.commune == "Alençon"


# -- command line -------------------------------------------------------------------------------


def _cli(tmp_path: Path, database_url: str, *args: str) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "IM_DATABASE_URL": database_url, "IM_VAR_DIR": str(tmp_path),
           "IM_SEED_DEMO_OFFERS_ON_START": "false", "IM_LOG_LEVEL": "WARNING"}
    return subprocess.run([sys.executable, "-m", "insertion_match.service.cli", "catalogue",
                           "import-di", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, check=False)


def test_cli_import_di(tmp_path, database_url):
    services, structures = tmp_path / "services.jsonl", tmp_path / "structures.json"
    services.write_text(dump([service(), service(id="test--2", date_maj="hier")], lines=True),
                        encoding="utf-8")
    structures.write_text(dump([structure()]), encoding="utf-8")
    bad = _cli(tmp_path, database_url, str(services), str(structures))
    assert bad.returncode == 1
    assert "service n° 2 (test--2) : date_maj : date invalide" in bad.stderr
    assert "rien n'est importé" in bad.stderr
    ok = _cli(tmp_path, database_url, str(services), str(structures), "--skip-invalid")
    assert ok.returncode == 0, ok.stderr
    assert "1 action(s) créée(s)" in ok.stdout
    again = _cli(tmp_path, database_url, str(services), str(structures), "--skip-invalid")
    assert "0 action(s) créée(s)" in again.stdout and "1 inchangé(s)" in again.stdout
    broken = tmp_path / "broken.json"
    broken.write_text("[{", encoding="utf-8")
    res = _cli(tmp_path, database_url, str(broken), str(structures))
    assert res.returncode == 1 and "JSON illisible" in res.stderr
