"""The referential → frein mapping is complete, valid, and used as documented."""

from __future__ import annotations

import pytest

from insertion_match.domain import FREINS
from insertion_match.features.freins_mapping import FreinsMapping, MappingError
from tests.conftest import DATA


@pytest.fixture(scope="module")
def mapping() -> FreinsMapping:
    return FreinsMapping.load(DATA)


def test_every_carnet_de_bord_situation_is_mapped(mapping):
    import csv

    with (DATA / "reference" / "carnet_de_bord_ref_situation.csv").open(encoding="utf-8") as fh:
        ids = [r["id"] for r in csv.DictReader(fh)]
    assert len(ids) == 88
    for situation_id in ids:
        assert mapping.lookup("carnet_de_bord_situation", situation_id).severity is not None


def test_every_depart_parcours_dimension_and_frein_keys_are_valid(mapping):
    dims = [r for r in mapping.rows if r.referential == "depart_parcours"]
    assert len(dims) == 15
    assert all(r.frein in FREINS for r in dims)
    assert {r.frein for r in mapping.rows if r.frein} <= set(FREINS)


def test_situations_give_the_worst_severity_per_frein(mapping):
    freins = mapping.freins_from_situations([
        "Dépendant des transports en commun",             # mobilite 2
        "Aucun moyen de transport à disposition",         # mobilite 3
        "Enfant(s) de moins de 3 ans sans solution de garde",  # garde_enfants 3
        "Permis B",                                       # an asset: no frein
    ])
    assert freins == {"mobilite": 3, "garde_enfants": 3}


def test_depart_parcours_dimensions(mapping):
    got = mapping.freins_from_depart_parcours({"Mobilité": 2, "Lien social": 3, "Relationnel": 1,
                                               "Santé": 0})
    assert got == {"mobilite": 2, "isolement_confiance": 3}
    with pytest.raises(MappingError):
        mapping.freins_from_depart_parcours({"Mobilité": 5})


def test_unknown_code_is_an_error_and_thematiques_cover_most_freins(mapping):
    with pytest.raises(MappingError, match="unknown code"):
        mapping.lookup("carnet_de_bord_situation", "no such situation")
    assert "mobilite--preparer-un-permis" in mapping.thematiques_for("mobilite")
    covered = {r.frein for r in mapping.rows if r.referential == "data_inclusion_thematique"}
    assert set(FREINS) - covered <= {"experience_professionnelle"}


def test_invalid_file_fails_loudly(tmp_path):
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "freins_mapping.csv").write_text(
        "referential,code,label,frein,severity\ndepart_parcours,x,X,teleportation,7\n",
        encoding="utf-8")
    with pytest.raises(MappingError, match="unknown frein 'teleportation'.*severity"):
        FreinsMapping.load(tmp_path)
