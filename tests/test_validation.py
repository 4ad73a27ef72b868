"""One wording for field errors, in the API and in import reports."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from insertion_match.domain import BeneficiaryProfile
from insertion_match.validation import field_errors, field_path, french_message


def test_paths_drop_the_request_location():
    assert field_path(("body", "beneficiary", "home", "commune")) == "beneficiary.home.commune"
    assert field_path(("query", "limit")) == "limit"
    assert field_path(()) == "body" and field_path((), default="row") == "row"
    assert field_path(("records", 3, "romeCode")) == "records.3.romeCode"


def test_french_messages_carry_the_bound_or_the_allowed_values():
    with pytest.raises(ValidationError) as exc:
        BeneficiaryProfile.model_validate(
            {"home": {"commune": "Flers"}, "age": 12, "orientation": "autre", "nir": "x"})
    errors = {e.field: e for e in field_errors(exc.value.errors())}
    assert errors["age"].message_fr == "valeur trop petite (ge = 16)"
    assert errors["orientation"].message_fr.startswith("valeur non autorisée : valeurs possibles")
    assert errors["nir"].message_fr == "champ inconnu"
    assert not any(e.message.startswith("Value error, ") for e in errors.values())


def test_unknown_type_falls_back_and_value_errors_keep_their_reason():
    assert french_message({"type": "something_new"}) == "valeur invalide"
    assert french_message({"type": "value_error", "msg": "Value error, trop tard"}) == (
        "valeur invalide : trop tard")


def test_the_allowed_values_are_listed_in_french():
    from insertion_match.validation import french_message

    two = french_message({"type": "enum", "ctx": {"expected": "'a', 'b' or 'c'"}})
    assert two == "valeur non autorisée : valeurs possibles 'a', 'b' ou 'c'"
    assert french_message({"type": "enum", "ctx": {"expected": "'a'"}}).endswith("possibles 'a'")
