"""SIAE positions (les emplois de l'inclusion's SIAE API format) → IAE job offers."""

from __future__ import annotations

import json
from datetime import date

import pytest

from insertion_match.features.siae_import import contract_of, parse_siae, read_structures
from tests.features.siae_records import LIEU_FLERS, orne_page, page, poste, structure

TODAY = date(2026, 12, 1)


def _parse(doc, gazetteer, rome, stored=()):
    return parse_siae(read_structures(json.dumps(doc)), gazetteer, rome, stored, TODAY)


def test_open_positions_of_siae_become_iae_jobs(gazetteer, rome):
    parsed = _parse(orne_page(), gazetteer, rome)
    assert parsed.batch.rejected == []
    by_id = {o.id: o for o in parsed.batch.opportunities}
    assert sorted(by_id) == ["emplois-inclusion:12345678900011-101",
                             "emplois-inclusion:12345678900029-201",
                             "emplois-inclusion:12345678900037-301"]
    aci = by_id["emplois-inclusion:12345678900011-101"]
    assert (aci.kind, aci.iae, aci.siae_kind, aci.rome_code, aci.contract_type) == (
        "job", True, "ACI", "A1203", "DDI")
    assert aci.location.insee == "61169" and aci.employer == "Chantier test ACI"
    assert aci.title == "Entretien des espaces verts" and aci.positions == 2
    assert aci.created_at == date(2026, 10, 2) and aci.expires_at is None
    assert aci.training_level is None and aci.hours_per_week is None  # not in the API
    ei = by_id["emplois-inclusion:12345678900029-201"]
    assert ei.location.insee == "61006"  # no place of its own: the structure's commune
    assert ei.title == "Préparateur de commandes en insertion" and ei.contract_type == "DDI"
    etti = by_id["emplois-inclusion:12345678900037-301"]
    assert etti.contract_type == "TTI" and etti.rome_code == "K2204"
    skipped = {s.external_id: s.reason_fr for s in parsed.skipped}
    assert skipped["12345678900011-102"] == "recrutement fermé"
    assert "hors IAE" in skipped["12345678900045-401"]
    assert skipped["12345678900052-501"] == "la structure bloque les candidatures"
    assert parsed.structures == 5 and parsed.open_positions == 3


def test_every_bad_position_is_rejected_with_its_path_in_french(gazetteer, rome):
    doc = page(structure("22345678900011", "ACI", [
        poste(1, "Métier inconnu (Z9999)", lieu=LIEU_FLERS),
        poste(2, "A9999", lieu=LIEU_FLERS),
        poste(3, lieu={"nom": "Nulle-Part-sur-Mer", "departement": "99", "code_postaux": [],
                       "code_insee": "99999"}),
        poste(4, contract="Contrat lunaire", lieu=LIEU_FLERS),
        poste(5, lieu=LIEU_FLERS, recrutement_ouvert="peut-être"),
        poste(1, lieu=LIEU_FLERS),  # duplicate id
        {"rome": "A1203"},  # no id
        "not an object",
        poste(6, lieu=LIEU_FLERS),
    ]), "not a structure", {"type": "ACI", "postes": []})
    parsed = _parse(doc, gazetteer, rome)
    assert [o.external_id for o in parsed.batch.opportunities] == ["22345678900011-6"]
    paths = [e.field for r in parsed.batch.rejected for e in r.errors]
    assert paths == [
        "results[0].postes[0].rome", "results[0].postes[1].rome", "results[0].postes[2].lieu",
        "results[0].postes[3].type_contrat", "results[0].postes[4].recrutement_ouvert",
        "results[0].postes[5].id", "results[0].postes[6].id", "results[0].postes[7].poste",
        "results[1]", "results[2].siret"]
    messages = [e.message_fr for r in parsed.batch.rejected for e in r.errors]
    assert "code ROME inconnu : « A9999 »" in messages
    assert any(m.startswith("lieu de travail introuvable") for m in messages)
    assert all(m and m[0].islower() or m[0] in "«" for m in messages)  # French, not a trace


def test_positions_closed_since_expire_and_a_second_run_changes_nothing(gazetteer, rome):
    first = _parse(orne_page(), gazetteer, rome)
    stored = first.batch.opportunities
    # The ACI's open position is now closed, the EI's has gone from the API (closed too).
    doc = orne_page()
    doc["results"][0]["postes"][0]["recrutement_ouvert"] = "False"
    doc["results"][1]["postes"] = []
    later = _parse(doc, gazetteer, rome, stored)
    expired = {o.id: o.expires_at for o in later.batch.opportunities if o.expires_at}
    assert expired == {"emplois-inclusion:12345678900011-101": date(2026, 11, 19),
                       "emplois-inclusion:12345678900029-201": date(2026, 11, 30)}
    assert sorted(later.expired) == sorted(expired)
    again = _parse(doc, gazetteer, rome, [*stored[2:], *later.batch.opportunities])
    assert again.expired == []  # already expired: not written again
    # Open again: proposed again (no expiry).
    reopened = _parse(orne_page(), gazetteer, rome, [*stored[2:], *later.batch.opportunities])
    assert reopened.expired == []
    assert all(o.expires_at is None for o in reopened.batch.opportunities)
    # A structure absent from the file keeps its positions.
    only_etti = page(orne_page()["results"][2])
    assert _parse(only_etti, gazetteer, rome, stored).expired == []


@pytest.mark.parametrize("label, kind, code", [
    ("CDD insertion", "ACI", "DDI"), ("CDD-I PHC", "ACI", "DDI"), ("", "ACI", "DDI"),
    ("Autre type de contrat", "ETTI", "TTI"), ("Contrat de mission intérimaire", "ETTI", "TTI"),
    ("Contrat de mission intérimaire", "EI", "MIS"), ("CDD d'usage", "AI", "CDD"),
    ("", "AI", None), ("Accompagnement à la création d'entreprise", "EITI", None),
    ("CDI inclusion", "EI", "CDI"), ("FIXED_TERM_I", "EI", "DDI"),
])
def test_contracts(label, kind, code):
    got, shown = contract_of(label, kind)
    assert got == code and shown and kind in shown


def test_documents_of_other_shapes(gazetteer, rome):
    one = orne_page()["results"][0]
    assert len(read_structures(json.dumps(one))) == 1
    assert len(read_structures(json.dumps([one, one]))) == 2
    lines = "\n".join(json.dumps(s) for s in orne_page()["results"])
    assert len(read_structures(lines)) == 5
    for bad in ("{not json", '"a string"', '{"count": 0}'):
        with pytest.raises(ValueError):
            read_structures(bad)
