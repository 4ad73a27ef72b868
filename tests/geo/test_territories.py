from __future__ import annotations

from pathlib import Path

import pytest

from insertion_match.geo import COMMISSIONS_61, Gazetteer, Territories, UnknownCommission
from insertion_match.geo.build_territories import build, to_csv_text
from insertion_match.geo.territories import TERRITORIES_CSV


def test_commissions() -> None:
    assert COMMISSIONS_61 == ("Alençon", "Argentan", "Flers", "Mortagne-au-Perche")


@pytest.mark.parametrize(
    ("insee", "commission"),
    [
        ("61169", "Flers"),
        ("61168", "Flers"),  # La Ferté-Macé
        ("61145", "Flers"),  # Domfront en Poiraie
        ("61001", "Alençon"),
        ("61464", "Alençon"),  # Sées
        ("61006", "Argentan"),
        ("61293", "Mortagne-au-Perche"),
    ],
)
def test_documented_memberships(territories: Territories, insee: str, commission: str) -> None:
    assert territories.commission_of(insee) == commission
    assert territories.method_of(insee) == "document"


def test_every_orne_commune_has_a_commission(
    gazetteer: Gazetteer, territories: Territories
) -> None:
    orne = [c.insee for c in gazetteer.communes if c.department == "61"]
    assert len(orne) > 370
    for insee in orne:
        assert territories.commission_of(insee) in COMMISSIONS_61
        assert territories.method_of(insee) in ("document", "nearest_seat")
    assert set().union(*(territories.communes_of(c) for c in COMMISSIONS_61)) == set(orne)


def test_nearest_seat_rows(territories: Territories) -> None:
    assert territories.commission_of("61214") == "Mortagne-au-Perche"  # L'Aigle
    assert territories.method_of("61214") == "nearest_seat"


def test_essonne_and_sarthe_have_no_commission(territories: Territories) -> None:
    assert territories.commission_of("91228") is None  # Évry-Courcouronnes
    assert territories.method_of("91228") == "none"
    assert territories.department_of("72181") == "72"  # Le Mans
    assert territories.commission_of("72181") is None
    assert territories.commission_of("75056") is None  # not in the table at all
    assert "75056" not in territories


def test_communes_of(territories: Territories) -> None:
    flers = territories.communes_of("Flers")
    assert {"61169", "61168", "61391"} <= flers
    assert "61001" not in flers
    with pytest.raises(UnknownCommission):
        territories.communes_of("Alencon")


def test_csv_is_reproducible(gazetteer: Gazetteer, data_dir: Path) -> None:
    on_disk = (data_dir / TERRITORIES_CSV).read_text(encoding="utf-8")
    assert to_csv_text(build(gazetteer)) == on_disk
