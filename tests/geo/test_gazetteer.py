"""Gazetteer behaviour on the real commune files (data/geo)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from insertion_match.domain import Home
from insertion_match.geo import AmbiguousCommune, Gazetteer, GeoError, UnknownCommune


def test_loads_all_france(data_dir: Path) -> None:
    # Load time is measured by bench/bench_recommend.py (start-up), not asserted here.
    gazetteer = Gazetteer.load(data_dir)
    assert 34_800 < len(gazetteer) < 35_014  # ~100 rows without coordinates are skipped


def test_arrays_are_aligned(gazetteer: Gazetteer) -> None:
    n = len(gazetteer)
    assert gazetteer.insee_codes.shape == gazetteer.lat.shape == gazetteer.lon.shape == (n,)
    assert not np.isnan(gazetteer.lat).any() and not np.isnan(gazetteer.lon).any()
    row = gazetteer.index_of("61169")
    assert gazetteer.insee_codes[row] == "61169"
    assert gazetteer.communes[row].name == "Flers"
    assert gazetteer.lat[row] == pytest.approx(gazetteer.communes[row].lat)


def test_indices_of_marks_unknown_with_minus_one(gazetteer: Gazetteer) -> None:
    rows = gazetteer.indices_of(["61001", "99999", "91182"])
    assert rows[0] == gazetteer.index_of("61001")
    assert rows[1] == -1
    assert rows[2] == gazetteer.index_of("91228")  # Courcouronnes, merged


def test_rows_without_coordinates_are_skipped(gazetteer: Gazetteer) -> None:
    with pytest.raises(UnknownCommune):
        gazetteer.by_insee("15031")  # Celles (Cantal): re-established after 2018, no position


def test_by_insee(gazetteer: Gazetteer) -> None:
    flers = gazetteer.by_insee("61169")
    assert (flers.name, flers.postcodes, flers.department) == ("Flers", ("61100",), "61")
    assert flers.population > 10_000
    assert 48.7 < flers.lat < 48.8 and -0.6 < flers.lon < -0.5


def test_by_insee_maps_former_codes_to_the_current_commune(gazetteer: Gazetteer) -> None:
    assert gazetteer.by_insee("61431").insee == "61483"  # Saint-Michel-des-Andaines → Bagnoles
    assert gazetteer.by_insee("91182").insee == "91228"  # Courcouronnes → Évry-Courcouronnes


def test_unknown_insee_suggests_the_communes_of_a_postcode_given_by_mistake(
    gazetteer: Gazetteer,
) -> None:
    with pytest.raises(UnknownCommune) as caught:
        gazetteer.by_insee("61000")  # Alençon's postcode, not its INSEE code (61001)
    suggestions = caught.value.suggestions
    assert 1 <= len(suggestions) <= 5
    assert suggestions[0].commune.insee == "61001"
    assert "61000" in str(caught.value)


# ---- resolve by code -----------------------------------------------------------------------


def test_resolve_insee_wins(gazetteer: Gazetteer) -> None:
    assert gazetteer.resolve(commune="Paris", insee="61169").insee == "61169"
    assert gazetteer.resolve(insee="61169", postcode="61100").insee == "61169"


def test_resolve_insee_and_inconsistent_postcode_is_ambiguous(gazetteer: Gazetteer) -> None:
    with pytest.raises(AmbiguousCommune) as caught:
        gazetteer.resolve(insee="61169", postcode="61000")
    codes = [s.commune.insee for s in caught.value.candidates]
    assert codes[0] == "61169"
    assert "61001" in codes


def test_resolve_unique_postcode(gazetteer: Gazetteer) -> None:
    assert gazetteer.resolve(postcode="91000").insee == "91228"
    assert gazetteer.resolve(postcode="72000").name == "Le Mans"


def test_resolve_shared_postcode_is_ambiguous(gazetteer: Gazetteer) -> None:
    with pytest.raises(AmbiguousCommune) as caught:
        gazetteer.resolve(postcode="61100")
    candidates = caught.value.candidates
    assert len(candidates) > 5
    assert candidates[0].commune.insee == "61169"  # Flers, the largest
    populations = [s.commune.population for s in candidates]
    assert populations == sorted(populations, reverse=True)


def test_postcode_of_an_arrondissement_gives_the_arrondissement(gazetteer: Gazetteer) -> None:
    assert gazetteer.resolve(postcode="75001").insee == "75101"


def test_unknown_postcode(gazetteer: Gazetteer) -> None:
    with pytest.raises(UnknownCommune) as caught:
        gazetteer.resolve(postcode="61999")
    assert 1 <= len(caught.value.suggestions) <= 5
    assert all(s.commune.postcodes[0].startswith("61") for s in caught.value.suggestions)


def test_nothing_given(gazetteer: Gazetteer) -> None:
    with pytest.raises(UnknownCommune):
        gazetteer.resolve(commune="  ", postcode=None)


# ---- resolve by name -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "insee"),
    [
        ("La Ferte Mace", "61168"),
        ("la ferté-macé", "61168"),
        ("LA FERTE-MACE", "61168"),
        ("Ferté-Macé (La)", "61168"),
        ("St Germain du Corbeis", "61397"),
        ("Mortagne au perche", "61293"),
        ("Évry-Courcouronnes", "91228"),
        ("Alençon", "61001"),
        ("Laigle", "61214"),  # spaces ignored: L'Aigle
    ],
)
def test_resolve_exact_names(gazetteer: Gazetteer, name: str, insee: str) -> None:
    assert gazetteer.resolve(commune=name).insee == insee


@pytest.mark.parametrize(
    ("name", "insee"),
    [("Courcouronnes", "91228"), ("Saint-Michel-des-Andaines", "61483")],
)
def test_resolve_former_commune_names(gazetteer: Gazetteer, name: str, insee: str) -> None:
    assert gazetteer.resolve(commune=name).insee == insee


def test_evry_is_a_former_name_and_a_small_commune_of_the_yonne(gazetteer: Gazetteer) -> None:
    with pytest.raises(AmbiguousCommune) as caught:
        gazetteer.resolve(commune="Evry")
    candidates = caught.value.candidates
    assert [s.commune.insee for s in candidates] == ["91228", "89162"]
    assert candidates[0].reason == "former commune 'Évry'"
    assert gazetteer.resolve(commune="Évry", postcode="91000").insee == "91228"


@pytest.mark.parametrize(
    ("name", "postcode", "insee"),
    [
        ("Alencn", None, "61001"),
        ("Argentann", None, "61006"),
        ("Corbeil Essonne", None, "91174"),
        ("Flerss", "61100", "61169"),
        ("St Georges des Groseiller", "61100", "61391"),
        ("Mortagne", "61400", "61293"),  # the one name of 61400 starting with "mortagne"
    ],
)
def test_resolve_typos(gazetteer: Gazetteer, name: str, postcode: str | None, insee: str) -> None:
    assert gazetteer.resolve(commune=name, postcode=postcode).insee == insee


def test_typo_of_a_homonym_without_postcode_is_ambiguous(gazetteer: Gazetteer) -> None:
    with pytest.raises(AmbiguousCommune) as caught:
        gazetteer.resolve(commune="Flerss")
    candidates = caught.value.candidates
    assert {s.commune.name for s in candidates} == {"Flers"}
    assert candidates[0].commune.insee == "61169"


def test_unknown_name_gets_at_most_five_ranked_suggestions(gazetteer: Gazetteer) -> None:
    with pytest.raises(UnknownCommune) as caught:
        gazetteer.resolve(commune="Zzzyxville")  # contains "ville", which must not be accepted
    error = caught.value
    assert error.query == "Zzzyxville"
    assert 1 <= len(error.suggestions) <= 5
    scores = [s.score for s in error.suggestions]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= s <= 100 for s in scores)
    assert "Zzzyxville" in str(error)


def test_homonyms_without_postcode_are_ambiguous(gazetteer: Gazetteer) -> None:
    with pytest.raises(AmbiguousCommune) as caught:
        gazetteer.resolve(commune="Saint-Denis")
    candidates = caught.value.candidates
    assert len(candidates) >= 4
    assert {s.commune.name for s in candidates} == {"Saint-Denis"}
    populations = [s.commune.population for s in candidates]
    assert populations == sorted(populations, reverse=True)
    assert isinstance(caught.value, GeoError)


def test_postcode_picks_the_homonym(gazetteer: Gazetteer) -> None:
    assert gazetteer.resolve(commune="Saint-Denis", postcode="93200").insee == "93066"
    assert gazetteer.resolve(commune="Domfront", postcode="61700").insee == "61145"


def test_name_and_postcode_of_another_departement(gazetteer: Gazetteer) -> None:
    with pytest.raises(UnknownCommune) as caught:
        gazetteer.resolve(commune="Alençon", postcode="93200")
    assert "61001" in [s.commune.insee for s in caught.value.suggestions]


def test_every_commune_of_the_served_departements_resolves_by_name_and_postcode(
    gazetteer: Gazetteer,
) -> None:
    for commune in gazetteer.communes:
        if commune.department in ("61", "72", "91"):
            for postcode in commune.postcodes:
                assert gazetteer.resolve(commune.name, postcode).insee == commune.insee


def test_resolve_accepts_a_domain_home(gazetteer: Gazetteer) -> None:
    home = Home(commune="La Ferté-Macé", postcode="61600")
    assert gazetteer.resolve(**home.model_dump()).insee == "61168"


def test_exact_resolution_never_runs_a_fuzzy_search(
    gazetteer: Gazetteer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Exact names (accents, case, hyphens, "St") are dictionary lookups; fuzzy matching is the
    # fallback only. Make any fuzzy ranking fail loudly while resolving exact names.
    from insertion_match.geo import lookup

    def no_fuzzy(*args: object, **kwargs: object) -> None:
        raise AssertionError("fuzzy search on an exact name")

    monkeypatch.setattr(lookup, "rank_names", no_fuzzy)
    for name in ("La Ferté-Macé", "la ferte mace", "ALENCON", "St Germain du Corbeis"):
        assert gazetteer.resolve(commune=name).department == "61"
    with pytest.raises(AssertionError, match="fuzzy search"):
        gazetteer.resolve(commune="Flerrrs")


# ---- suggest --------------------------------------------------------------------------------


def test_suggest_ranks_and_limits(gazetteer: Gazetteer) -> None:
    suggestions = gazetteer.suggest("Alencn", limit=3)
    assert len(suggestions) == 3
    assert suggestions[0].commune.insee == "61001"
    assert suggestions[0].reason == "fuzzy name"


def test_suggest_with_a_postcode_stays_in_its_departement(gazetteer: Gazetteer) -> None:
    suggestions = gazetteer.suggest("Saint Germain", postcode="61000")
    assert suggestions and all(s.commune.department == "61" for s in suggestions)


def test_suggest_a_code(gazetteer: Gazetteer) -> None:
    found = {s.commune.insee: s.reason for s in gazetteer.suggest("61169")}
    assert found["61169"] == "INSEE code"
    assert "postcode 61100" in gazetteer.suggest("61100")[0].reason


def test_suggest_never_raises(gazetteer: Gazetteer) -> None:
    assert gazetteer.suggest("") == []
    assert gazetteer.suggest("???") == []


def test_codes_are_tidied(gazetteer: Gazetteer) -> None:
    assert gazetteer.resolve(postcode=" 91 000 ").insee == "91228"
    assert gazetteer.resolve(insee="2a004").name == "Ajaccio"
