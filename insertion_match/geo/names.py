"""Normalisation and fuzzy comparison of French commune names.

``normalise_name`` is the key of every name index of the gazetteer: two spellings a person would
consider the same commune ("La Ferté-Macé", "la ferte mace", "Ferté-Macé (La)") give the same key;
"St"/"Ste" are expanded ("St Germain du Corbeis" → "saint germain du corbeis").

``compact`` removes the spaces of a key, so that "Laigle" finds "L'Aigle" and "Lemans" "Le Mans".

Two fuzzy scorers are used on purpose. *Accepting* a misspelt name uses the plain edit-based
``fuzz.ratio`` on compact keys, which does not reward substrings: "Zzzyxville" must not be taken
for "Ville". *Suggesting* names uses ``fuzz.WRatio``, which also ranks partial and reordered
names ("Mortagne" → "Mortagne-au-Perche") and is fine for a list a person chooses from.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence

from rapidfuzz import fuzz, process

Scorer = Callable[..., float]

#: A fuzzy match is accepted only with at least this ``fuzz.ratio`` score (0–100) ...
FUZZY_ACCEPT_SCORE = 88.0
#: ... and at least this many points above the next distinct name.
FUZZY_MARGIN = 4.0

_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss"})
_SEPARATORS = re.compile(r"[-'’‘`´.,;:/()_\"]+")
_SPACES = re.compile(r"\s+")
_TRAILING_ARTICLE = re.compile(
    r"^(?P<rest>.*?)\s*\((?P<article>l'|l’|la|le|les)\)\s*$", re.IGNORECASE
)


def normalise_name(name: str) -> str:
    """Return the index key of a commune name.

    Guarantees: lowercase ASCII letters, digits and single spaces only; no leading or trailing
    space; accents stripped (NFKD), ligatures expanded, hyphens, apostrophes and punctuation read
    as spaces, ``st``/``ste`` expanded to ``saint``/``sainte``, a trailing article in brackets
    moved to the front ("Ferté-Macé (La)" → "la ferte mace"). Idempotent.
    """
    text = name.strip()
    match = _TRAILING_ARTICLE.match(text)
    if match:
        article = match["article"].lower()
        text = article + ("" if article.endswith(("'", "’")) else " ") + match["rest"]
    text = text.lower().translate(_LIGATURES)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _SEPARATORS.sub(" ", text)
    words = [_ABBREVIATIONS.get(word, word) for word in _SPACES.split(text) if word]
    return " ".join(words)


def compact(key: str) -> str:
    """The normalised key without its spaces."""
    return key.replace(" ", "")


def rank_names(
    query_key: str, keys: Sequence[str], limit: int, scorer: Scorer = fuzz.WRatio
) -> list[tuple[str, float]]:
    """Return up to ``limit`` (key, score) pairs of ``keys``, best first, score 0–100.

    ``query_key`` and ``keys`` must already be normalised; ``keys`` should be distinct.
    """
    if not query_key or not keys:
        return []
    found = process.extract(
        query_key, keys, scorer=scorer, limit=limit, processor=None, score_cutoff=40
    )
    return [(key, float(score)) for key, score, _ in found]


def clearly_best(ranked: Sequence[tuple[str, float]]) -> str | None:
    """Return the best key if it is good enough and clearly ahead of the next one, else None."""
    if not ranked or ranked[0][1] < FUZZY_ACCEPT_SCORE:
        return None
    if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < FUZZY_MARGIN:
        return None
    return ranked[0][0]
