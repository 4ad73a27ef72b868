"""The judged test collection (data/evaluation/judged): complete, refused when inconsistent, and
its metrics on tiny hand-checked cases. The goal figures are not asserted here: they move with
the scorer, and the lead reports them (``insertion-match evaluate-judged``)."""

from __future__ import annotations

import copy
import csv
import json
import math
from collections import Counter

import numpy as np
import pytest

from insertion_match.domain import BeneficiaryProfile
from insertion_match.features.catalogue import load_catalogue
from insertion_match.matcher.evaluation import judged as J
from insertion_match.service.settings import REPO_ROOT

DIRECTORY = REPO_ROOT / "data" / "evaluation" / "judged"


@pytest.fixture(scope="module")
def actions():
    return load_catalogue(REPO_ROOT / "data" / "catalogue")


@pytest.fixture(scope="module")
def collection(actions):
    return J.load_collection(DIRECTORY, actions)


@pytest.fixture(scope="module")
def raw():
    personas = json.loads((DIRECTORY / J.PERSONAS_FILE).read_text(encoding="utf-8"))["personas"]
    with (DIRECTORY / J.QRELS_FILE).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return personas, rows


# ------------------------------------------------------------------ the shipped collection


def test_the_collection_loads_and_covers_the_three_departements(collection, actions):
    summary = collection.summary()
    assert summary["personas"] >= 60
    assert set(summary["by_department"]) == {"61", "72", "91"}
    assert set(summary["by_commission"]) == {"Flers", "Alençon", "Argentan", "Mortagne-au-Perche"}
    for grade in ("1", "2", "3"):
        assert summary["grades"][grade] > 0


def test_every_action_of_the_departement_is_judged_for_every_persona(collection, actions):
    by_dept = Counter(a.territory.department for a in actions)
    for p in collection.personas:
        judged = collection.qrels[p.id]
        assert len(judged) == by_dept[p.department], p.id
        assert all(a.territory.department == p.department
                   for a in actions if a.id in judged), p.id
        assert any(j.grade >= 2 for j in judged.values()), p.id


def test_every_positive_judgment_has_a_french_rationale(collection):
    for pid, judged in collection.qrels.items():
        for aid, j in judged.items():
            if j.grade > 0:
                assert len(j.rationale_fr) > 10, (pid, aid)


# ------------------------------------------------------------------ the loader refuses


def _refusal(raw, actions, personas=None, rows=None) -> str:
    with pytest.raises(J.CollectionError) as info:
        J.build_collection(personas if personas is not None else raw[0],
                           rows if rows is not None else raw[1], actions)
    return str(info.value)


def test_a_missing_judgment_is_named(raw, actions):
    rows = raw[1]
    dropped = rows[5]
    message = _refusal(raw, actions, rows=[r for r in rows if r is not dropped])
    assert f"persona {dropped[0]}" in message and dropped[1] in message
    assert "non jugée(s)" in message


def test_an_unknown_action_id_is_named(raw, actions):
    rows = copy.deepcopy(raw[1])
    rows[3][1] = "flers-no-such-action"
    message = _refusal(raw, actions, rows=rows)
    assert "identifiant d'action inconnu 'flers-no-such-action'" in message
    assert "ligne 4" in message


def test_an_action_of_another_departement_is_named(raw, actions):
    rows = copy.deepcopy(raw[1])
    orne_row = next(i for i, r in enumerate(rows) if r[0].startswith("j61-"))
    rows.insert(orne_row + 1, [rows[orne_row][0], "ess-e2c", "0", ""])
    message = _refusal(raw, actions, rows=rows)
    assert "l'action ess-e2c est dans le département 91" in message
    assert f"la persona {rows[orne_row][0]} dans le 61" in message


def test_an_invalid_grade_is_named(raw, actions):
    rows = copy.deepcopy(raw[1])
    rows[7][2] = "4"
    message = _refusal(raw, actions, rows=rows)
    assert "note invalide '4'" in message and rows[7][0] in message and rows[7][1] in message


def test_a_duplicate_judgment_and_a_grade_without_rationale_are_named(raw, actions):
    rows = copy.deepcopy(raw[1])
    positive = next(i for i, r in enumerate(rows[1:], start=1) if r[2] != "0")
    rows.append(list(rows[positive]))
    rows[positive][3] = ""
    message = _refusal(raw, actions, rows=rows)
    assert "jugé deux fois" in message and "demande une justification" in message


def test_an_invalid_profile_is_named(raw, actions):
    personas = copy.deepcopy(raw[0])
    personas[2]["profile"]["age"] = 12
    personas[4]["profile"]["freins"] = {"mobilite": 5}
    message = _refusal(raw, actions, personas=personas)
    assert f"persona {personas[2]['id']} : profil invalide (age" in message
    assert f"persona {personas[4]['id']} : profil invalide (freins" in message


def test_a_persona_whose_home_is_in_another_departement_is_refused(raw, actions):
    personas = copy.deepcopy(raw[0])
    personas[0]["profile"]["home"] = {"insee": "91228"}
    assert "n'est pas dans le département 61" in _refusal(raw, actions, personas=personas)


# ------------------------------------------------------------------ metrics by hand

PROFILE = BeneficiaryProfile(id="p", home={"insee": "61169"}, age=40,
                             freins={"mobilite": 1, "logement": 3})
PERSONA = J.Persona(id="p", department="61", commission="Flers", narrative_fr="test",
                    profile=PROFILE)
TINY = J.JudgedCollection(personas=(PERSONA,), qrels={"p": {
    "a": J.Judgment(3, "faite pour elle"), "b": J.Judgment(2, "utile"),
    "c": J.Judgment(0, "réservée aux jeunes"), "d": J.Judgment(1, "marginale"),
    "e": J.Judgment(0), "f": J.Judgment(2, "utile"),
}})
IDEAL_5 = 3 + 2 / math.log2(3) + 2 / math.log2(4) + 1 / math.log2(5)


def view(eligible=(True,) * 6, km=(5, 1, 3, 2, 0, 9), territory=(True,) * 6):
    return J.PersonaView(
        ids=np.array(list("abcdef")), titles=tuple(f"Action {x}" for x in "abcdef"),
        in_territory=np.array(territory), eligible=np.array(eligible),
        reasons=tuple(() if ok else ("Réservée aux personnes de 16 à 25 ans",) for ok in eligible),
        km=np.array(km, dtype=float),
        freins=(frozenset({"logement"}), frozenset({"mobilite"}), frozenset({"logement"}),
                frozenset({"sante"}), frozenset({"mobilite"}), frozenset({"logement"})),
    )


def test_a_perfect_ranking_has_ndcg_one_and_nothing_struck():
    results = J.evaluate_method(lambda p, v: ["a", "b", "f", "d", "c", "e"], TINY, {"p": view()})
    assert results[0].ndcg[5] == pytest.approx(1.0) and results[0].ndcg[10] == pytest.approx(1.0)
    figures = J._figures(results)
    assert figures["struck_top5"] == 1  # "c" (grade 0) is 5th: a référent strikes it
    perfect_top4 = J.evaluate_method(lambda p, v: ["a", "b", "f", "d"], TINY, {"p": view()})
    assert J._figures(perfect_top4)["struck_top5"] == 0


def test_graded_ndcg_by_hand_with_the_ideal_from_all_judgments():
    # e(0) c(0) d(1) b(2) a(3): DCG@5 = 1/log2(4) + 2/log2(5) + 3/log2(6)
    dcg = 1 / 2 + 2 / math.log2(5) + 3 / math.log2(6)
    ndcg = J.ndcg_by_persona({"p": ["e", "c", "d", "b", "a"]}, TINY, 5)
    assert ndcg["p"] == pytest.approx(dcg / IDEAL_5)
    # A method that returns only "b" still faces the ideal of every judged action.
    assert J.ndcg_by_persona({"p": ["b"]}, TINY, 5)["p"] == pytest.approx(2 / IDEAL_5)
    assert J.ndcg_by_persona({"p": []}, TINY, 5)["p"] == 0.0


def test_struck_items_count_grade_zero_and_ineligible_ones_by_hand():
    # top 5: c (grade 0), a (ineligible), e (grade 0), b, d; f is 6th and does not count.
    v = view(eligible=(False, True, True, True, True, True))
    results = J.evaluate_method(lambda p, v: ["c", "a", "e", "b", "d", "f"], TINY, {"p": v})
    struck = results[0].struck
    assert [t.action_id for t in struck] == ["c", "a", "e"]
    assert struck[0].reasons_fr == ("note 0 : réservée aux jeunes",)
    assert struck[1].reasons_fr == ("inéligible : Réservée aux personnes de 16 à 25 ans",)
    figures = J._figures(results)
    assert (figures["struck_top5"], figures["struck_grade0"], figures["struck_ineligible"],
            figures["personas_struck"]) == (3, 2, 1, 1)


def test_baselines_rank_the_territory_nearest_first_and_by_main_frein_theme():
    v = view(territory=(True, True, True, True, True, False))
    assert J.distance_method(PERSONA, v) == ["e", "b", "d", "c", "a"]
    assert J.main_frein(PROFILE) == "logement"
    assert J.directory_method(PERSONA, v) == ["c", "a", "e", "b", "d"]
    shuffled = J.random_method(seed=1)(PERSONA, v)
    assert sorted(shuffled) == list("abcde") and shuffled == J.random_method(seed=1)(PERSONA, v)


def test_worst_personas_come_lowest_ndcg_first():
    good = J.PersonaResult(PERSONA, [], {5: 0.9, 10: 0.9})
    bad = J.PersonaResult(J.Persona("q", "61", None, "x", PROFILE), [], {5: 0.2, 10: 0.3})
    assert [r.persona.id for r in J.worst_personas([good, bad], 1)] == ["q"]


# ------------------------------------------------------------------ end to end


def test_evaluate_judged_command_prints_the_table_and_the_worst_personas(capsys):
    from insertion_match.service.cli import main

    assert main(["evaluate-judged", "--worst", "2", "--model", "missing.joblib"]) == 0
    out = capsys.readouterr().out
    for label in ("aléatoire", "distance seule", "annuaire national", "score transparent"):
        assert label in out
    assert "modèle appris" in out and "Personas les moins bien servies" in out

    assert main(["evaluate-judged", "--json", "--worst", "1", "--model", "missing.joblib"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["methods"]) == {"random", "distance", "directory", "transparent"}
    transparent = result["methods"]["transparent"]
    assert set(transparent["by_department"]) == {"61", "72", "91"}
    assert 0 <= transparent["ndcg@10"] <= 1 and transparent["personas"] >= 60
    # The engine never proposes an action its own rules exclude.
    assert transparent["struck_ineligible"] == 0
    assert len(result["worst"]["transparent"]) == 1
    # at most 5: only actions that work on one of the person's freins are listed
    assert 1 <= len(result["worst"]["transparent"][0]["top5"]) <= 5


def test_an_incomplete_collection_stops_the_command(tmp_path, raw, capsys):
    from insertion_match.service.cli import main

    personas, rows = raw
    (tmp_path / J.PERSONAS_FILE).write_text(json.dumps({"personas": personas}), encoding="utf-8")
    with (tmp_path / J.QRELS_FILE).open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows[:-1])
    assert main(["evaluate-judged", "--judged-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "collection jugée refusée" in err and rows[-1][1] in err
