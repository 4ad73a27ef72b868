from __future__ import annotations

import pytest

from insertion_match.geo import normalise_name


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("La Ferté-Macé", "la ferte mace"),
        ("  la   ferte  MACE ", "la ferte mace"),
        ("Ferté-Macé (La)", "la ferte mace"),
        ("St Germain du Corbeis", "saint germain du corbeis"),
        ("Ste-Marie", "sainte marie"),
        ("St. Georges", "saint georges"),
        ("L'Aigle", "l aigle"),
        ("L’Aigle", "l aigle"),
        ("Œuilly", "oeuilly"),
        ("Évry-Courcouronnes", "evry courcouronnes"),
    ],
)
def test_normalise_name(raw: str, key: str) -> None:
    assert normalise_name(raw) == key


def test_normalise_name_is_idempotent() -> None:
    key = normalise_name("Saint-Germain-du-Corbéis")
    assert normalise_name(key) == key


def test_words_containing_st_are_left_alone() -> None:
    assert normalise_name("Stenay") == "stenay"
    assert normalise_name("Estissac") == "estissac"
