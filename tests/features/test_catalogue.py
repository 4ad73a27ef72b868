"""The embedded catalogue: complete, located, and loaded strictly."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from insertion_match.features.action_index import build_indexes
from insertion_match.features.catalogue import load_catalogue
from insertion_match.features.errors import CatalogueError

EXPECTED_PER_SOURCE = {
    "000_44075c2b42ed8fdd.txt": 25,  # PLICS Flers 2022
    "001_e649cea49b78f669.txt": 31,  # PLICS Alençon 2022
    "002_8d96251258cf8cae.txt": 18,  # PTI Orne 2020-2022
    "003_1d6f18fab0902f55.txt": 11,  # PDI bilan Sarthe 2019/2021
    "004_4c8bd96e83b9016c.txt": 34,  # PTI-PDI Essonne 2022-2026
}


def test_counts_per_source(catalogue):
    assert Counter(a.source.document for a in catalogue) == EXPECTED_PER_SOURCE


def test_every_action_has_coordinates_in_its_departement(catalogue, gazetteer):
    indexes = build_indexes(catalogue, gazetteer)
    assert sum(len(ix) for ix in indexes.values()) == len(catalogue)
    for dept, ix in indexes.items():
        assert np.isfinite(ix.site_lat).all() and np.isfinite(ix.site_lon).all()
        # Every site lies in metropolitan France, roughly.
        assert ((ix.site_lat > 41) & (ix.site_lat < 51.5)).all()
        assert set(ix.department) == {dept}


def test_ids_are_unique_and_sources_are_named(catalogue):
    ids = [a.id for a in catalogue]
    assert len(ids) == len(set(ids))
    assert all(a.source.section or a.source.extract_id for a in catalogue)


def test_document_rules_are_encoded(catalogue):
    by_id = {a.id: a for a in catalogue}
    assert by_id["orne-aden-travailleurs-independants"].eligibility.independent_worker_required
    assert by_id["orne-aden-travailleurs-independants"].eligibility.farmers_excluded
    assert by_id["alencon-bonnem-location-voitures"].eligibility.driving_licence_required == "b"
    assert by_id["flers-mobylis-permis-b"].eligibility.no_driving_licence_required
    assert by_id["flers-mobylis-permis-b"].cost_eur == 250
    assert by_id["ess-e2c"].eligibility.age_min == 16 and by_id["ess-e2c"].eligibility.age_max == 34
    intensive = by_id["ess-accompagnement-intensif-moins-36-ans"].eligibility
    assert intensive.age_max == 35 and intensive.rsa_months_max is not None
    fle = [a for a in catalogue if a.category == "langue" and a.eligibility.foreign_newcomer_required]
    assert len(fle) >= 3
    qpv = [a for a in catalogue if a.eligibility.qpv_required]
    assert any("Qu@rtier" in a.title for a in qpv)


def _write(tmp_path: Path, actions: list[dict], name: str = "x.json") -> Path:
    (tmp_path / name).write_text(json.dumps(
        {"source_document": "t", "title": "t", "actions": actions}), encoding="utf-8")
    return tmp_path


GOOD = {
    "id": "ok-action", "title": "Action", "description_fr": "Une action de test valide.",
    "category": "mobilite", "territory": {"department": "61", "scope": "departement"},
    "sites": [{"commune": "Flers", "insee": "61169"}], "freins": ["mobilite"],
    "source": {"document": "t"},
}


@pytest.mark.parametrize(("change", "expected"), [
    ({"freins": ["teleportation"]}, "ok-action : freins.0"),
    ({"freins": []}, "ok-action : freins"),
    ({"sites": []}, "ok-action : sites"),
    ({"category": "magic"}, "ok-action : category"),
    ({"territory": {"department": "61", "scope": "commissions"}}, "ok-action : territory"),
    ({"eligibility": {"age_min": 30, "age_max": 20}}, "ok-action : eligibility"),
    ({"unexpected": 1}, "ok-action : unexpected"),
    ({"places": -1}, "ok-action : places"),
])
def test_invalid_entry_fails_loudly_naming_entry_and_field(tmp_path, change, expected):
    directory = _write(tmp_path, [{**GOOD, **change}])
    with pytest.raises(CatalogueError) as err:
        load_catalogue(directory)
    assert any(p.startswith(f"x.json : {expected}") for p in err.value.problems), err.value.problems


def test_problems_are_in_french_for_the_operator(tmp_path):
    directory = _write(tmp_path, [{**GOOD, "category": "magic",
                                   "eligibility": {"age_min": 30, "age_max": 20}}])
    with pytest.raises(CatalogueError) as err:
        load_catalogue(directory)
    text = "\n".join(err.value.problems)
    assert "x.json : ok-action : category : valeur non autorisée" in text
    assert "age_min 30 supérieur à age_max 20" in text
    assert str(err.value).startswith("catalogue invalide (2 problème(s)) :")


def test_duplicate_ids_across_files_fail(tmp_path):
    _write(tmp_path, [GOOD], "a.json")
    _write(tmp_path, [GOOD], "b.json")
    with pytest.raises(CatalogueError, match="identifiant en double"):
        load_catalogue(tmp_path)


def test_unknown_site_commune_fails_at_index_build(tmp_path, gazetteer):
    bad = {**GOOD, "sites": [{"commune": "Nowhere", "insee": "61999"}]}
    actions = load_catalogue(_write(tmp_path, [bad]))
    with pytest.raises(CatalogueError, match="code INSEE inconnu 61999"):
        build_indexes(actions, gazetteer)


def test_empty_or_unreadable_directory_fails(tmp_path):
    with pytest.raises(CatalogueError, match="aucun fichier de catalogue"):
        load_catalogue(tmp_path)
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    with pytest.raises(CatalogueError, match="JSON illisible"):
        load_catalogue(tmp_path)
