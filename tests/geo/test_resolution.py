"""A home as the caller means it (geo.resolution): the caller's territories first, then the
served départements, then population — on the real commune and territory files."""

from __future__ import annotations

import pytest

from insertion_match.geo import (
    AmbiguousCommune,
    Gazetteer,
    GeoError,
    HomeScope,
    NotServed,
    SharedPostcode,
    Territories,
    UnknownCommune,
)

SERVED = ("61", "72", "91")
FLERS = HomeScope((("61", "Flers"),), SERVED)
ARGENTAN = HomeScope((("61", "Argentan"),), SERVED)
ORNE = HomeScope((("61", None),), SERVED)
SARTHE = HomeScope((("72", None),), SERVED)
ESSONNE = HomeScope((("91", None),), SERVED)
ADMIN = HomeScope((), SERVED)  # no territory named: the served départements only
EVERYONE = {"flers": FLERS, "orne": ORNE, "essonne": ESSONNE, "admin": ADMIN}


@pytest.fixture(scope="module")
def resolve(gazetteer: Gazetteer, territories: Territories):
    def run(scope: HomeScope, commune=None, postcode=None, insee=None):
        return gazetteer.resolve_home(commune, postcode, insee, scope, territories)

    return run


# ---- bare names: territories, then served départements ---------------------------------------


@pytest.mark.parametrize("who", ["orne", "admin", "flers", "essonne"])
def test_mortagne_is_mortagne_au_perche_for_everyone(resolve, gazetteer, who) -> None:
    assert gazetteer.resolve(commune="Mortagne").insee == "88315"  # all France: the Vosges
    found = resolve(EVERYONE[who], "Mortagne")
    assert found.commune.insee == "61293"
    assert found.how == "prefix"
    assert found.tier == ("territory" if who == "orne" else "served")


@pytest.mark.parametrize(("who", "tier"), [("essonne", "territory"), ("admin", "served"),
                                           ("orne", "served")])
def test_corbeil_is_corbeil_essonnes_not_the_marne(resolve, gazetteer, who, tier) -> None:
    assert gazetteer.resolve(commune="Corbeil").insee == "51169"  # all France: the Marne
    found = resolve(EVERYONE[who], "Corbeil")
    assert (found.commune.insee, found.tier) == ("91174", tier)


@pytest.mark.parametrize(("name", "insee", "who"), [
    ("Flers", "61169", "flers"), ("Flers", "61169", "orne"),
    ("Domfront", "61145", "flers"), ("Domfront", "61145", "orne"),  # former name of the commune
    ("Massy", "91377", "essonne"), ("Massy", "91377", "admin"),
])
def test_homonyms_elsewhere_do_not_hide_the_one_of_the_territory(
    resolve, gazetteer, name, insee, who
) -> None:
    with pytest.raises(AmbiguousCommune):
        gazetteer.resolve(commune=name)
    found = resolve(EVERYONE[who], name)
    assert (found.commune.insee, found.how) == (insee, "exact")
    assert found.tier == ("served" if who == "admin" else "territory")
    assert found.among >= 2


def test_the_callers_territory_comes_before_the_other_served_departements(resolve) -> None:
    # Fay is a commune of the Orne and of the Sarthe (and of the Somme).
    assert resolve(ORNE, "Fay").commune.insee == "61159"
    assert resolve(SARTHE, "Fay").commune.insee == "72130"
    with pytest.raises(AmbiguousCommune) as caught:
        resolve(ADMIN, "Fay")  # two in the served départements: never guessed
    departments = [s.commune.department for s in caught.value.candidates]
    assert sorted(departments[:2]) == ["61", "72"] and departments[2:] == ["80"]


def test_an_exact_name_beats_a_longer_name_starting_with_it(resolve) -> None:
    # "Domfront" is a former name of Domfront en Poiraie (61); Domfront-en-Champagne (72)
    # only starts with it.
    assert resolve(ADMIN, "Domfront").commune.insee == "61145"
    assert resolve(SARTHE, "Domfront").commune.insee == "72119"  # the Sarthe's one, for it


def test_a_commission_grant_is_narrower_than_its_departement(resolve) -> None:
    found = resolve(FLERS, "Flerss")  # misspelt, clearly Flers within the commission
    assert (found.commune.insee, found.how, found.tier) == ("61169", "fuzzy", "territory")


def test_unambiguous_names_need_no_choice(resolve) -> None:
    found = resolve(FLERS, "la ferte mace")
    assert (found.commune.insee, found.tier, found.outside_served) == ("61168", None, False)


def test_a_name_with_a_postcode_keeps_the_gazetteer_rules(resolve) -> None:
    assert resolve(ESSONNE, "Mortagne", "61400").commune.insee == "61293"
    assert resolve(ORNE, "Saint-Denis", "93200").commune.insee == "93066"


def test_a_name_found_only_outside_the_served_departements_is_not_served(resolve) -> None:
    with pytest.raises(NotServed) as caught:
        resolve(ORNE, "Lens")
    error = caught.value
    assert isinstance(error, UnknownCommune)  # a 422 with suggestions, as an unknown name
    assert [c.insee for c in error.matches] == ["62498"]
    assert error.served == SERVED
    assert error.suggestions and error.suggestions[-1].commune.insee == "62498"
    assert "Les Ulis" not in [s.commune.name for s in error.suggestions]


@pytest.mark.parametrize("who", list(EVERYONE))
def test_typo_suggestions_favour_the_served_departements(resolve, gazetteer, who) -> None:
    assert gazetteer.suggest("Alenson")[0].commune.insee != "61001"  # all France: Lens first
    with pytest.raises(UnknownCommune) as caught:
        resolve(EVERYONE[who], "Alenson")
    suggestions = caught.value.suggestions
    assert suggestions[0].commune.insee == "61001"
    assert 1 <= len(suggestions) <= 5


def test_without_served_departements_a_name_is_resolved_as_before(resolve) -> None:
    assert resolve(HomeScope(), "Mortagne").commune.insee == "88315"


def test_a_commission_grant_needs_the_territories_table(gazetteer) -> None:
    with pytest.raises(GeoError):
        gazetteer.resolve_home("Flers", None, None, FLERS, None)


# ---- codes and postcodes -------------------------------------------------------------------


@pytest.mark.parametrize("who", list(EVERYONE))
@pytest.mark.parametrize("field", ["commune", "postcode"])
def test_61000_is_alencon_by_population(resolve, who, field) -> None:
    found = resolve(EVERYONE[who], **{field: "61000"})
    assert (found.commune.insee, found.how, found.tier) == ("61001", "postcode", "population")
    assert found.among == 3 and 0.8 <= found.share < 0.9


def test_a_shared_postcode_resolves_to_the_one_commune_of_the_territory(resolve) -> None:
    found = resolve(ARGENTAN, postcode="61390")  # 9 communes of Mortagne, 1 of Argentan
    assert (found.commune.insee, found.tier, found.among) == ("61416", "territory", 10)
    assert resolve(ARGENTAN, "61390").commune.insee == "61416"


@pytest.mark.parametrize("scope", [ORNE, FLERS, ADMIN])
def test_a_shared_postcode_the_scope_cannot_settle_asks_for_the_commune(resolve, scope) -> None:
    with pytest.raises(SharedPostcode) as caught:
        resolve(scope, postcode="61390")
    candidates = caught.value.candidates
    assert len(candidates) == 10
    assert all("61390" in s.commune.postcodes for s in candidates)
    assert "give the commune" in str(caught.value)


def test_a_shared_postcode_lists_the_callers_communes_first(resolve) -> None:
    with pytest.raises(SharedPostcode) as caught:
        resolve(FLERS, postcode="61210")  # 9 communes of Argentan, 5 of Flers
    reasons = [s.reason for s in caught.value.candidates]
    assert all(r.endswith("caller's territory") for r in reasons[:5])
    assert not any(r.endswith("caller's territory") for r in reasons[5:])


def test_a_code_that_is_a_shared_postcode_and_an_insee_code_offers_both(resolve) -> None:
    with pytest.raises(SharedPostcode) as caught:
        resolve(ORNE, "61100")  # Flers' postcode, and La Chapelle-Viel's INSEE code
    codes = [s.commune.insee for s in caught.value.candidates]
    assert codes[0] == "61169" and codes[-1] == "61100"


def test_a_code_read_as_a_postcode_says_it_is_also_an_insee_code(resolve) -> None:
    found = resolve(ADMIN, "72100")  # Le Mans' postcode, Courcelles-la-Forêt's INSEE code
    assert found.commune.insee == "72181"
    assert found.also_insee is not None and found.also_insee.insee == "72100"


def test_an_insee_code_given_as_the_commune(resolve) -> None:
    found = resolve(FLERS, "61001")
    assert (found.commune.insee, found.how) == ("61001", "code_insee")
    assert resolve(FLERS, "61001", "61000").commune.insee == "61001"
    with pytest.raises(AmbiguousCommune):
        resolve(FLERS, "61001", "61100")  # the code is no postcode; the postcode is not its


def test_an_unknown_code_suggests_near_postcodes(resolve) -> None:
    with pytest.raises(UnknownCommune) as caught:
        resolve(ORNE, "61999")
    assert caught.value.suggestions
    assert all(s.commune.department == "61" for s in caught.value.suggestions)


def test_a_home_outside_the_served_departements_is_flagged(resolve) -> None:
    found = resolve(ADMIN, postcode="62300")
    assert found.commune.insee == "62498" and found.outside_served
    assert not resolve(ADMIN, postcode="72000").outside_served
