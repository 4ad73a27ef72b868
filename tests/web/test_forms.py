"""The diagnostic form ↔ profile: a stored profile shown in the form comes back unchanged."""

from __future__ import annotations

import json

from insertion_match.domain import BeneficiaryProfile
from insertion_match.service.web.forms import form_to_profile, profile_to_form
from tests.conftest import REPO


def test_round_trip_of_every_example_and_the_new_fields():
    profiles = [json.loads(p.read_text())["beneficiary"] for p in (REPO / "examples").glob("*.json")]
    profiles.append({
        "id": "x-1", "home": {"commune": "Flers", "postcode": "61100"}, "age": 41, "sex": "m",
        "family": {"situation": "isole", "children_under_3": 1, "children_under_6": 2,
                   "children_3_to_11": 1, "children_12_plus": 0},
        "status": {"mdph_known": True, "rqth": True, "job_takeup": False},
        "availability": {"hours_per_week": 17.5, "atypical_hours": False},
        "target_jobs": ["K2204", "aide à domicile"], "skills": ["CACES 1", "nettoyage"]})
    for data in profiles:
        profile = BeneficiaryProfile.model_validate({**data, "history": []})
        again, errors = form_to_profile(profile_to_form(profile), profile.id or "x-1")
        assert errors == {}
        expected = profile.model_dump(exclude={"id"})
        assert again.model_dump(exclude={"id"}) == expected


def test_errors_are_per_field_and_french():
    profile, errors = form_to_profile({
        "home.commune": "", "age": "quinze", "frein.sante": "5", "status.rqth": "oui",
        "status.mdph_known": "non", "mobility.max_travel_minutes": "600"}, "x-1")
    assert profile is None
    assert errors["home.commune"] == "Indiquez la commune de résidence."
    assert errors["age"] == "Saisissez un nombre entier."
    assert errors["frein.sante"] == "Choisissez une sévérité de 0 à 3."
    assert errors["mobility.max_travel_minutes"] == "Saisissez une valeur d'au plus 240."
    _, errors = form_to_profile({"home.commune": "Flers", "status.rqth": "oui",
                                 "status.mdph_known": "non"}, "x-1")
    assert errors == {"status.mdph_known": "Une personne avec une RQTH est connue de la MDPH."}
