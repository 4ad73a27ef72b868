"""Target jobs through the HTTP API: ROME 4.0 appellation codes (code OGR) are understood, and a
target job that matches nothing is said, with the closest appellations (issue 12, item 5)."""

from __future__ import annotations

import pytest

from insertion_match.service.schemas import EXAMPLE_BENEFICIARY


def _ask(client, targets: list[str]) -> dict:
    body = {"beneficiary": {**EXAMPLE_BENEFICIARY, "target_jobs": targets},
            "kinds": ["job"], "limit": 10}
    res = client.post("/v1/recommendations", json=body)
    assert res.status_code == 200, res.text
    return res.json()


def test_an_appellation_code_is_read_as_its_appellation_and_fiche(client):
    # 10537 is "Agent / Agente de nettoyage industriel", of fiche K2204 (ROME 4.0 v460).
    by_ogr = _ask(client, ["10537"])
    by_code = _ask(client, ["K2204"])
    assert by_ogr["target_jobs_unrecognised"] == []
    assert not any("non reconnu" in u for u in by_ogr["unchecked"])
    # The same fiche: the same offers, in the same order, matched as the target job.
    assert [i["id"] for i in by_ogr["items"]] == [i["id"] for i in by_code["items"]]
    first = by_ogr["items"][0]
    assert first["opportunity"]["rome_code"].startswith("K22")
    rome = [r for r in first["reasons"] if r["code"] == "rome"]
    assert rome and "« 10537 »" in rome[0]["label"]
    # "OGR 10537" is read the same way.
    written = _ask(client, ["OGR 10537"])
    assert written["target_jobs_unrecognised"] == []


@pytest.mark.parametrize("text, expect_code", [
    ("plombir du dimanche", "F1603"),  # no match, but a plumber is the closest
    ("K9999", "K"),  # unknown ROME code: fiches of its grand domaine
])
def test_an_unrecognised_target_is_warned_with_suggestions(client, text, expect_code):
    data = _ask(client, [text, "10537"])
    unrecognised = data["target_jobs_unrecognised"]
    assert [u["text"] for u in unrecognised] == [text]
    suggestions = unrecognised[0]["suggestions"]
    assert suggestions and all(s["label"] and s["rome_code"] for s in suggestions)
    assert any(s["rome_code"].startswith(expect_code) for s in suggestions)
    notes = [u for u in data["unchecked"] if text in u]
    assert len(notes) == 1 and notes[0].startswith("métier visé non reconnu")
    assert "métiers proches" in notes[0]
    # The recognised target still drives the ranking.
    assert data["items"][0]["opportunity"]["rome_code"].startswith("K22")


def test_an_unknown_appellation_code_is_said_so_without_inventing_neighbours(client):
    data = _ask(client, ["99999"])
    assert data["target_jobs_unrecognised"] == [{"text": "99999", "suggestions": []}]
    note = next(u for u in data["unchecked"] if "99999" in u)
    assert "code OGR inconnu" in note and "préciser" in note
    # Nothing is matched as a target job.
    assert not any(r["code"] == "rome" for i in data["items"] for r in i["reasons"])


def test_action_only_answers_have_the_field_empty(client):
    res = client.post("/v1/recommendations", json={
        "beneficiary": {**EXAMPLE_BENEFICIARY, "target_jobs": ["xyzzy"]}})
    assert res.status_code == 200
    assert res.json()["target_jobs_unrecognised"] == []
