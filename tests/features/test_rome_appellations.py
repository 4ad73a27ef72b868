"""ROME 4.0 appellation codes (code OGR) and suggestions for targets that match nothing."""

from __future__ import annotations

import csv

import pytest

from insertion_match.features.rome import unrecognised_targets
from tests.conftest import DATA


def test_every_appellation_code_reads_as_its_fiche(rome):
    with (DATA / "rome" / "unix_referentiel_appellation_v460_utf8.csv").open(
            encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rome.appellation_by_ogr) == len(rows) == rome.appellation_count
    for row in rows[::97]:
        match = rome.match_title(row["code_ogr"])
        assert (match.code, match.label, match.method) == (
            row["code_rome"], row["libelle_appellation_long"], "appellation")


@pytest.mark.parametrize("text", ["10537", " 10537 ", "OGR 10537", "code OGR : 10537", "ogr10537"])
def test_ways_of_writing_an_appellation_code(rome, text):
    assert rome.match_title(text).code == "K2204"


@pytest.mark.parametrize("text", ["99999", "1053", "1053700"])
def test_unknown_or_malformed_codes_match_nothing(rome, text):
    assert rome.match_title(text).code is None


def test_unrecognised_targets_carry_suggestions_and_a_french_note(rome):
    found = unrecognised_targets(["agent d'entretien", "plombir du dimanche", "99999"], rome)
    assert [u.text for u in found] == ["plombir du dimanche", "99999"]
    plumber, code = found
    assert plumber.suggestions[0][1] == "F1603"
    assert all("lombi" in label for label, _ in plumber.suggestions[:4])
    assert "métiers proches : " in plumber.note_fr and "(F1603)" in plumber.note_fr
    assert code.suggestions == () and "code OGR inconnu" in code.note_fr


def test_closest_titles_never_raise(rome):
    for text in ["", "   ", "???", "K", "Z9999", "12345678", "a" * 200]:
        assert isinstance(rome.closest_titles(text), list)
