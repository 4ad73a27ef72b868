"""A seeded test set of job-title variants built from the ROME appellations.

Each variant is what a person or a coach might type for one appellation: a typo, no accents, the
feminine form, words in another order, abbreviations, "H/F" noise, or two of these at once. The
expected answer is the appellation's ROME code. Appellations whose normalised title is shared by
several fiches are skipped: no matcher could tell them apart.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

import pandas as pd

from insertion_match.features.rome import APPELLATIONS_CSV, RomeReferential, split_genders

#: word → how people shorten it (the reverse of a few of the matcher's expansions and more).
SHORT_FORMS = {
    "agent": "agt", "agente": "agt", "technicien": "tech", "technicienne": "tech",
    "responsable": "resp", "assistant": "assist", "assistante": "assist",
    "conducteur": "cond", "conductrice": "cond", "préparateur": "prépa",
    "préparatrice": "prépa", "maintenance": "maint", "commercial": "cial",
    "commerciale": "cial", "employé": "empl", "employée": "empl", "adjoint": "adj",
    "adjointe": "adj", "directeur": "dir", "directrice": "dir", "opérateur": "opé",
    "opératrice": "opé", "ouvrier": "ouv", "ouvrière": "ouv", "polyvalent": "poly",
    "polyvalente": "poly", "entretien": "entr", "électricien": "élec", "mécanicien": "méca",
    "administratif": "admin", "administrative": "admin", "bâtiment": "bât",
    "industriel": "indus", "industrielle": "indus", "logistique": "logist",
}

TRANSFORMS = ("typo", "no_accents", "feminine", "word_order", "abbreviation", "noise_typo")


@dataclass(frozen=True)
class Variant:
    text: str
    code: str
    source: str  # the appellation it was made from
    transform: str


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _typo(text: str, rng: random.Random) -> str:
    words = text.split()
    long_words = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long_words:
        return text + "s"
    i = rng.choice(long_words)
    w = words[i]
    j = rng.randrange(1, len(w) - 1)
    op = rng.choice(("swap", "drop", "double", "replace"))
    if op == "swap":
        w = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    elif op == "drop":
        w = w[:j] + w[j + 1:]
    elif op == "double":
        w = w[:j] + w[j] + w[j:]
    else:
        w = w[:j] + rng.choice("aeiourstnl") + w[j + 1:]
    words[i] = w
    return " ".join(words)


def _word_order(text: str, rng: random.Random) -> str:
    words = text.split()
    if len(words) < 2:
        return text.lower()
    content = [w for w in words if len(w) > 3]
    if len(content) < 2:
        return " ".join(reversed(words))
    # "Vendeur en épicerie" → "épicerie vendeur": the head noun goes last, small words dropped.
    head, rest = content[0], content[1:]
    rng.shuffle(rest)
    return " ".join([*rest, head])


def _abbreviate(text: str) -> str:
    words = text.split()
    out = [SHORT_FORMS.get(w.lower(), w) for w in words]
    if out == words:  # nothing to shorten: keep the content words, as in a quick note
        out = [w for w in words if len(w) > 3 or w[:1].isupper()]
    return " ".join(out)


def title_variants(rome: RomeReferential, n: int = 240, seed: int = 20260423) -> list[Variant]:
    from tests.conftest import DATA

    rng = random.Random(seed)
    table = pd.read_csv(DATA / APPELLATIONS_CSV, dtype=str).fillna("")
    table = table[table.peu_usite != "O"]
    # Only appellations whose title names one fiche.
    key_codes: dict[str, set[str]] = {}
    for row in table.itertuples(index=False):
        for form in split_genders(row.libelle_appellation_long):
            key_codes.setdefault(rome.normalise(form), set()).add(row.code_rome)
    rows = [r for r in table.itertuples(index=False)
            if all(len(key_codes[rome.normalise(f)]) == 1
                   for f in split_genders(r.libelle_appellation_long))]
    picks = rng.sample(rows, n)
    out = []
    for k, row in enumerate(picks):
        transform = TRANSFORMS[k % len(TRANSFORMS)]
        masc, fem = split_genders(row.libelle_appellation_long)
        if transform == "typo":
            text = _typo(masc, rng)
        elif transform == "no_accents":
            text = _strip_accents(masc).lower()
        elif transform == "feminine":
            text = fem if fem != masc else _strip_accents(masc)
        elif transform == "word_order":
            text = _word_order(masc, rng)
        elif transform == "abbreviation":
            text = _abbreviate(masc if rng.random() < 0.5 else fem)
        else:
            text = _typo(_strip_accents(fem if rng.random() < 0.5 else masc), rng) + " H/F"
        out.append(Variant(text=text, code=row.code_rome, source=row.libelle_appellation_long,
                           transform=transform))
    return out
