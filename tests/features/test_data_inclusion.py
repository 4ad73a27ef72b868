"""data·inclusion v1 export: every record validated by the official package (``Service``,
``Structure``; no constraint copied here), one record per site, structures beside the services,
the source document's date, thématiques of the action's own purpose; and the official quality
score, printed before (the previous export, from git history) and after."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from datetime import date
from statistics import mean

import pytest
from data_inclusion.schema.v1 import Service, Structure
from data_inclusion.schema.v1.score_qualite import score

from insertion_match.features.data_inclusion import (
    NOT_A_PLACE,
    export_catalogue,
    load_document_dates,
)
from tests.conftest import DATA, REPO

#: The commit whose export the issue describes ("today's export"), for the "before" score.
BEFORE_COMMIT = "a273ce6"
STRICT = {"ignore_warnings": False}  # the package's warnings (e.g. a name ending with '.') fail


@pytest.fixture(scope="module")
def export(catalogue, gazetteer, territories):
    return export_catalogue(catalogue, gazetteer, territories, DATA)


def test_every_record_validates_with_the_official_models(export, catalogue):
    services = [Service.model_validate(s, context=STRICT) for s in export.services]
    structures = [Structure.model_validate(s, context=STRICT) for s in export.structures]
    assert len(services) >= sum(a.active for a in catalogue)
    assert len({s.id for s in services}) == len(services)
    assert len({s.id for s in structures}) == len(structures)


def test_structures_are_exported_with_consistent_ids(export, catalogue):
    structure_ids = {s["id"] for s in export.structures}
    used = {s["structure_id"] for s in export.services}
    assert used == structure_ids  # no service points nowhere, no structure is orphan
    by_id = {s["id"]: s for s in export.structures}
    infrep = next(s for s in export.services if s["id"].startswith("flers-infrep-formation-base"))
    assert by_id[infrep["structure_id"]]["nom"] == "INFREP"


def test_one_record_per_named_site(export, catalogue):
    by_action: dict[str, list[dict]] = {}
    for s in export.services:
        by_action.setdefault(s["id"].split("--")[0], []).append(s)
    for action in (a for a in catalogue if a.active):
        named = [s for s in action.sites if s.precision not in NOT_A_PLACE]
        records = by_action[action.id]
        assert len(records) == max(1, len(named)), action.id
        if named:
            assert [r["code_insee"] for r in records] == [s.insee for s in named]
            assert all(r["modes_accueil"] and "en-presentiel" in r["modes_accueil"]
                       for r in records)
        else:  # no invented place
            assert records[0].get("code_insee") is None and records[0].get("adresse") is None
    flers = by_action["flers-infrep-formation-base"]
    assert [r["commune"] for r in flers] == ["Flers", "La Ferté-Macé"]


def test_date_maj_is_the_source_documents_date_not_today(export, catalogue):
    dates = load_document_dates(DATA)
    by_id = {a.id: a for a in catalogue}
    for s in export.services:
        action = by_id[s["id"].split("--")[0]]
        assert s["date_maj"] == dates[action.source.document].isoformat()
        assert date.fromisoformat(s["date_maj"]) < date(2023, 1, 1)
    assert {s["date_maj"] for s in export.services} >= {"2021-11-30", "2022-03-28"}


def test_thematiques_follow_the_actions_purpose(export, catalogue):
    by_id = {s["id"]: s for s in export.services}
    assert all(1 <= len(s["thematiques"]) <= 2 for s in export.services)
    french = by_id["flers-asti-langue-francaise"]["thematiques"]
    assert french == ["lecture-ecriture-calcul--maitriser-le-francais"]
    assert not any(t.startswith("famille--") for t in french)
    permis = [s for s in export.services if s["id"].startswith("flers-mobylis-permis-b")]
    assert permis and all("mobilite--preparer-un-permis" in s["thematiques"] for s in permis)
    aci = by_id["ess-iae-aci"]["thematiques"]
    assert aci[0].startswith("trouver-un-emploi--")


def test_modes_and_mobilisation_from_what_we_know(export, catalogue):
    by_action = {a.id: a for a in catalogue}
    for s in export.services:
        action = by_action[s["id"].split("--")[0]]
        if action.contact:
            assert "telephoner" in s["modes_mobilisation"] and s["telephone"] == action.contact
        else:
            assert not s.get("modes_mobilisation") or "telephoner" not in s["modes_mobilisation"]
        assert s["mobilisable_par"] == (["professionnels"] if action.prescription_required
                                        else ["professionnels", "usagers"])
        assert s.get("courriel") is None and s.get("lien_source") is None  # unknown: not invented


def test_territory_and_rules_are_carried_over(export):
    by_id = {s["id"]: s for s in export.services}
    flers = next(s for s in export.services if s["id"].startswith("flers-mobylis-permis-b"))
    assert flers["frais"] == "payant" and flers["frais_precisions"]
    assert "61169" in flers["zone_eligibilite"] and "61001" not in flers["zone_eligibilite"]
    assert by_id["ess-e2c"]["zone_eligibilite"] == ["91"]
    assert "jeunes" in by_id["ess-e2c"]["publics"]


def _legacy_export(catalogue, gazetteer, territories) -> list[dict] | None:
    """The export as it was before (git history), run on the same catalogue; None without git."""
    try:
        source = subprocess.run(
            ["git", "show", f"{BEFORE_COMMIT}:insertion_match/features/data_inclusion.py"],
            cwd=REPO, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("legacy_data_inclusion")
    exec(compile(source, "legacy_data_inclusion.py", "exec"), module.__dict__)  # noqa: S102
    from insertion_match.features.freins_mapping import FreinsMapping

    return module.export_services(catalogue, FreinsMapping.load(DATA), gazetteer, territories,
                                  date_maj=date.today())


def _quality(services: list[dict]) -> tuple[float, dict[str, float]]:
    scored = [score(Service.model_validate(s)) for s in services]
    criteria: dict[str, list[float]] = {}
    for _, detail in scored:
        for name, value in detail.items():
            if value is not None:
                criteria.setdefault(name, []).append(value)
    detail = {k: round(mean(v), 2) for k, v in criteria.items()}
    undated = [mean(v for k, v in d.items() if v is not None and k != "date_maj_recente")
               for _, d in scored]
    detail["(score sans date_maj_recente)"] = round(mean(undated), 3)
    return round(mean(s for s, _ in scored), 3), detail


def test_official_quality_score_before_and_after(export, catalogue, gazetteer, territories):
    after, after_detail = _quality(export.services)
    legacy = _legacy_export(catalogue, gazetteer, territories)
    print("\nquality score (data_inclusion.schema.v1.score_qualite), mean over services:")
    if legacy is not None:
        before, before_detail = _quality(legacy)
        print(f"  before ({BEFORE_COMMIT}, {len(legacy)} services): {before}  {before_detail}")
    print(f"  after  ({len(export.services)} services): {after}  {after_detail}")
    # the criteria the export can honestly fill are filled
    assert after_detail["au_moins_une_thematique"] == 1.0
    assert after_detail["au_moins_un_public"] == 1.0
    assert after_detail["description_bien_definie"] >= 0.95
    assert after_detail["modes_mobilisation_bien_definis"] > 0.5  # was 0.5: mobilisable_par only
    assert after_detail["telephone_bien_defini"] == 1.0
    # freshness now tells the truth: documents of 2020-2022
    assert after_detail["date_maj_recente"] == 0.0
    if legacy is not None:
        assert before_detail["date_maj_recente"] == 1.0  # the export date inflated it


def test_cli_export_writes_services_and_structures(tmp_path):
    out = tmp_path / "di"
    res = subprocess.run([sys.executable, "-m", "insertion_match.service.cli", "catalogue",
                          "export", f"{out}/"], check=False, cwd=REPO, capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stderr
    services = json.loads((out / "services.json").read_text(encoding="utf-8"))
    structures = json.loads((out / "structures.json").read_text(encoding="utf-8"))
    assert len(services) > 100 and services[0]["source"] == "insertion-match"
    assert {s["structure_id"] for s in services} == {s["id"] for s in structures}
    single = tmp_path / "services.json"
    res = subprocess.run([sys.executable, "-m", "insertion_match.service.cli", "catalogue",
                          "export", str(single), "--structures", str(tmp_path / "st.json")],
                         check=False, cwd=REPO, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert json.loads(single.read_text(encoding="utf-8")) == services
