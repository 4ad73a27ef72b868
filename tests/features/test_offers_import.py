"""Parsing and validating France Travail JSON and CSV offers, record by record."""

from __future__ import annotations

from datetime import date

import pytest

from insertion_match.features.offers_import import (
    atypical_of,
    contract_months,
    hours_of,
    licence_category,
    parse_csv,
    parse_france_travail,
    training_level_of,
)
from tests.features.offer_records import FT_OFFER, offer


def test_real_format_record_is_read_field_by_field(gazetteer, rome):
    batch = parse_france_travail([FT_OFFER], gazetteer, rome)
    assert not batch.rejected
    (o,) = batch.opportunities
    assert o.id == "france-travail:190XKLM" and o.source == "france-travail"
    assert o.kind == "job" and o.rome_code == "K2204" and not o.rome_inferred
    assert o.location.insee == "61169" and o.location.commune == "Flers"
    assert o.location.department == "61" and o.location.lat == pytest.approx(48.7486)
    assert o.contract_type == "CDD" and o.contract_months == 6
    assert o.hours_per_week == 24 and o.full_time is False
    assert {a.value for a in o.atypical_hours} == {"early_late"}
    assert o.training_level.value == "3" and o.training_required is False
    assert o.experience == "D"
    assert [(lic.category, lic.required) for lic in o.licences] == [("B", True)]
    assert o.skills == ("Nettoyer des locaux", "Utiliser des produits d'entretien")
    assert o.soft_skills == ("Faire preuve de rigueur et de précision",)
    assert o.employer == "PROPRETE DU BOCAGE" and o.positions == 2 and o.accessible_rqth
    assert o.created_at == date(2026, 10, 28) and o.url.endswith("190XKLM")
    assert o.synthetic is False


def test_document_shapes(gazetteer, rome):
    one = parse_france_travail(FT_OFFER, gazetteer, rome)
    search = parse_france_travail({"resultats": [FT_OFFER]}, gazetteer, rome)
    assert one.opportunities == search.opportunities
    with pytest.raises(ValueError):
        parse_france_travail("not offers", gazetteer, rome)


def test_work_place_without_insee_code(gazetteer, rome):
    lieu = {"libelle": "61 - ALENCON", "codePostal": "61000"}
    (o,) = parse_france_travail([offer(lieuTravail=lieu)], gazetteer, rome).opportunities
    assert o.location.insee == "61001"
    batch = parse_france_travail([offer(lieuTravail={"libelle": "49 - Maine et Loire"})],
                                 gazetteer, rome)
    assert not batch.opportunities
    assert batch.rejected[0].errors[0].field == "lieuTravail"


def test_missing_rome_code_is_inferred_from_the_title(gazetteer, rome):
    batch = parse_france_travail([offer(romeCode=None, appellationlibelle=None,
                                        intitule="Cariste H/F")], gazetteer, rome)
    (o,) = batch.opportunities
    assert o.rome_code == "N1101" and o.rome_inferred
    batch = parse_france_travail([offer(romeCode=None, appellationlibelle=None,
                                        intitule="Zorglub qwertz")], gazetteer, rome)
    assert batch.rejected and batch.rejected[0].errors[0].field == "romeCode"
    volunteering = offer(romeCode=None, appellationlibelle=None, kind="volunteering",
                         intitule="Bénévole pour des visites de convivialité")
    (v,) = parse_france_travail([volunteering], gazetteer, rome).opportunities
    assert v.kind == "volunteering" and v.rome_code is None


MALFORMED = {
    "not an object": ["offre"],
    "no id": offer(id=None),
    "no title": offer(intitule=None, appellationlibelle=None),
    "unknown commune": offer(lieuTravail={"commune": "99999"}),
    "unknown rome": offer(romeCode="Z9999"),
    "bad licence": offer(permis=[{"libelle": "", "exigence": "E"}]),
    "bad positions": offer(nombrePostes=-3),
    "bad date": offer(dateCreation="hier"),
    "unknown kind": offer(kind="bénévolat"),
    "lieu not an object": offer(lieuTravail="Flers"),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_each_malformed_record_is_rejected_with_a_reason(gazetteer, rome, name):
    good = offer(id="GOOD1")
    bad = MALFORMED[name]
    bad = bad[0] if isinstance(bad, list) else bad
    batch = parse_france_travail([good, bad], gazetteer, rome)
    assert [o.external_id for o in batch.opportunities] == ["GOOD1"]
    (rejection,) = batch.rejected
    assert rejection.position == 2
    assert rejection.errors and all(e.field and e.message and e.message_fr
                                    for e in rejection.errors)


def test_several_errors_of_one_record_are_all_reported(gazetteer, rome):
    batch = parse_france_travail([offer(id=None, intitule=None, appellationlibelle=None,
                                        lieuTravail={"commune": "99999"})], gazetteer, rome)
    fields = {e.field for e in batch.rejected[0].errors}
    assert {"id", "intitule", "lieuTravail"} <= fields


def test_duplicates_in_a_file_are_rejected(gazetteer, rome):
    batch = parse_france_travail([offer(), offer(intitule="Autre titre"), offer(id="B2")],
                                 gazetteer, rome)
    assert [o.external_id for o in batch.opportunities] == ["190XKLM", "B2"]
    assert batch.rejected[0].position == 2
    assert "doublon" in batch.rejected[0].errors[0].message_fr


CSV = """external_id,kind,title,rome_code,employer,insee,contract_type,contract_months,\
hours_per_week,atypical_hours,training_level,licences,skills,positions,expires_at
C1,job,Cariste,N1101,Logistique du Perche,61484,CDI,,35,shifts,3,B:S,Conduire un chariot|CACES,1,
C2,job,Agent de propreté,,Net Orne,61001,CDD,6,20,early_late|split,,B:E,,2,2026-12-31
C3,immersion,Immersion en cuisine,G1602,Resto,61169,PMS,,35,,,,,1,
"""


def test_csv(gazetteer, rome):
    batch = parse_csv(CSV, gazetteer, rome, source="cd61")
    assert not batch.rejected, batch.rejected
    c1, c2, c3 = batch.opportunities
    assert c1.id == "cd61:C1" and c1.location.insee == "61484"
    assert c1.licences[0].required is False and c1.skills == ("Conduire un chariot", "CACES")
    assert c2.rome_code == "K2205" and c2.rome_inferred  # "Agent de propreté", no code given
    assert c2.expires_at == date(2026, 12, 31) and len(c2.atypical_hours) == 2
    assert c3.kind == "immersion"
    semicolons = parse_csv(CSV.replace(",", ";"), gazetteer, rome, source="cd61")
    assert semicolons.opportunities == batch.opportunities


def test_csv_errors(gazetteer, rome):
    with pytest.raises(ValueError, match="missing columns"):
        parse_csv("kind,title\njob,Cariste\n", gazetteer, rome)
    with pytest.raises(ValueError, match="unknown columns"):
        parse_csv("external_id,title,colour\nX,Cariste,red\n", gazetteer, rome)
    text = ("external_id,title,insee,licences,rome_code,positions\n"
            "A,Cariste,61001,B:maybe,N1101,1\n"
            "B,Cariste,61001,,N1101,zero\n"
            "C,Cariste,61001,,N1101,1\n")
    batch = parse_csv(text, gazetteer, rome)
    assert [o.external_id for o in batch.opportunities] == ["C"]
    assert [(r.position, r.errors[0].field) for r in batch.rejected] == [(2, "licences"),
                                                                        (3, "positions")]


@pytest.mark.parametrize(("label", "hours"), [
    ("35H Horaires normaux", 35.0), ("24H30 Travail en équipe", 24.5), ("35 H", 35.0),
    ("Horaires variables", None), (None, None), ("99H", None),
])
def test_hours_of(label, hours):
    assert hours_of(label) == hours


def test_small_parsers():
    assert contract_months("Contrat à durée déterminée - 6 Mois") == 6
    assert contract_months("Mission intérimaire - 15 Jour(s)") == pytest.approx(0.5)
    assert contract_months("Contrat à durée indéterminée") is None
    assert atypical_of("35H Travail de nuit", "Travail samedi et dimanche") == ("night",
                                                                              "weekend")
    assert atypical_of("35H Horaires normaux", "Travail en journée") == ()
    assert atypical_of("Travail en 3x8") == ("shifts",)
    assert training_level_of("CAP, BEP et équivalents") == "3"
    assert training_level_of("Bac+2 ou équivalents") == "5"
    assert training_level_of("Bac+5 et plus ou équivalents") == "7"
    assert training_level_of("Bac ou équivalent") == "4"
    assert licence_category("B - Véhicule léger") == "B"
    assert licence_category("CE - Poids lourd + remorque") == "CE"
    assert licence_category("Permis inconnu") is None
