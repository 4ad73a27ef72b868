"""Skills as token sets, and how much of an offer's skills a person covers.

A skill label ("Nettoyer des surfaces", "Entretien des locaux") becomes the set of its content
words, lowercased, without accents, cut to their first ``STEM_LENGTH`` letters (a crude stem:
"nettoyer" and "nettoyage" meet at "nettoy"), hashed to int64 (CRC-32) so that people and offers
can be compared without a shared vocabulary.

Definition (the same in both directions): an offer skill is *covered* when at least
``COVER_SHARE`` of its words are among the person's skill words; the overlap is the share of the
offer's skills covered. NaN when the offer lists no skill or the person none (unknown, not 0).
``coverage_one_person`` computes it for one person against n offers; ``coverage_one_offer`` for
one offer against m people: both are vectorised.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterable

import numpy as np

STEM_LENGTH = 6
COVER_SHARE = 0.5
_STOP = frozenset({
    "des", "les", "une", "aux", "dans", "pour", "par", "sur", "avec", "sans", "son", "ses",
    "leur", "leurs", "selon", "etc", "tout", "tous", "toute", "toutes", "type", "types",
})
_WORD = re.compile(r"[a-z0-9]+")


def skill_tokens(label: str) -> np.ndarray:
    """Unique int64 hashes of the stems of a skill label's content words (3+ letters)."""
    text = unicodedata.normalize("NFKD", label.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    stems = {w[:STEM_LENGTH] for w in _WORD.findall(text) if len(w) >= 3 and w not in _STOP}
    return np.array(sorted(zlib.crc32(s.encode()) for s in stems), dtype=np.int64)


def person_tokens(skills: Iterable[str]) -> np.ndarray:
    """The union of the tokens of a person's skills (sorted, unique)."""
    parts = [skill_tokens(s) for s in skills]
    return np.unique(np.concatenate(parts)) if parts else np.empty(0, np.int64)


def coverage_one_person(
    tokens: np.ndarray, skill_start: np.ndarray, skill_count: np.ndarray,
    skill_tok_start: np.ndarray, skill_tok_count: np.ndarray, person: np.ndarray,
    person_known: bool,
) -> np.ndarray:
    """Overlap (0..1, NaN unknown) of one person's tokens with each of n offers' skills."""
    n = skill_count.shape[0]
    out = np.full(n, np.nan)
    if not person_known or skill_tok_count.size == 0:
        return out
    hits = np.isin(tokens, person).astype(float)
    per_skill = np.add.reduceat(hits, skill_tok_start) / skill_tok_count
    covered = (per_skill >= COVER_SHARE).astype(float)
    has = skill_count > 0
    sums = np.add.reduceat(covered, skill_start[has]) if has.any() else np.empty(0)
    out[has] = sums / skill_count[has]
    return out


def coverage_one_offer(
    offer_skills: list[np.ndarray], people_tokens: np.ndarray, token_owner: np.ndarray,
    people_known: np.ndarray,
) -> np.ndarray:
    """Overlap (0..1, NaN unknown) of one offer's skills with each of m people's tokens.

    ``people_tokens`` / ``token_owner``: every person's tokens, flattened, with the position of
    the person each belongs to; ``people_known``: (m,) bool, the person listed skills.
    """
    m = people_known.shape[0]
    if not offer_skills:
        return np.full(m, np.nan)
    wanted = np.unique(np.concatenate(offer_skills))
    has: dict[int, np.ndarray] = {}
    for tok in wanted.tolist():
        owners = token_owner[people_tokens == tok]
        flag = np.zeros(m, dtype=bool)
        flag[owners] = True
        has[tok] = flag
    covered = np.zeros(m)
    for skill in offer_skills:
        share = sum(has[t].astype(float) for t in skill.tolist()) / skill.size
        covered += share >= COVER_SHARE
    return np.where(people_known, covered / len(offer_skills), np.nan)
