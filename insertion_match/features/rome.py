"""The ROME 4.0 referential and the job-title matcher, loaded once at start-up.

``RomeReferential`` holds the 1,584 fiches (code, label, domaine professionnel, grand domaine,
parent ROME v3 code) and the 13k appellations. ``match_title`` maps what a person or a coach
types — a ROME code (v4, or v3: every v3 code is also a v4 code whose v4 "children" share it as
``code_rome_parent``), or a free-text title with typos, missing accents, feminine forms,
abbreviations or words in another order — to one fiche.

Normalisation (``normalise_title``): lowercase ASCII, punctuation as spaces, "H/F" and
contract words dropped, court-label suffixes "(ne)"/"(e)"/"(trice)" dropped, abbreviations and
acronyms expanded (``ABBREVIATIONS``), feminine words mapped to the masculine through the
pairs the referential itself writes ("Vendeur / Vendeuse en épicerie" teaches
vendeuse → vendeur), articles and prepositions dropped, repeated words dropped.

Matching: a ROME code is taken as it is; a ROME 4.0 appellation code ("code OGR", 5 or 6
digits, e.g. "10537", optionally written "OGR 10537") is read as its appellation and so its
fiche; then the exact normalised key; then rapidfuzz over every
distinct key (masculine and feminine forms of the long and short labels): the best score wins,
ties go to the exact word set, then the shorter title, then the fiche's main appellation.
Results are cached per text (``functools.lru_cache``): a profile's targets are resolved once.

A target that matches nothing is never dropped silently: :meth:`RomeReferential.closest_titles`
gives the closest appellations (a lower similarity bar than a match), and
:func:`unrecognised_targets` the list the answer carries, with a French note each.
"""

from __future__ import annotations

import heapq
import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

ROME_DIR = Path("rome")
APPELLATIONS_CSV = ROME_DIR / "unix_referentiel_appellation_v460_utf8.csv"
FICHES_CSV = ROME_DIR / "unix_referentiel_code_rome_v460_utf8.csv"
HIERARCHY_CSV = ROME_DIR / "cr_gd_dp_v4_utf8.csv"
V3_JSON = ROME_DIR / "romes_v3_les_emplois.json"
#: Project's own: generic titles the referential lacks ("plongeur", "vendeur"), see the file.
GENERIC_TITLES_CSV = ROME_DIR / "generic_titles.csv"

CODE_RE = re.compile(r"^[A-N]\d{4}$")
#: A ROME 4.0 appellation code (code OGR), bare or written "OGR 10537" / "code OGR : 10537".
OGR_RE = re.compile(r"^(?:(?:code\s*)?ogr\s*[:#-]?\s*)?(\d{5,6})$", re.IGNORECASE)
#: Suggestions for a target that matches nothing start from this similarity (0-100).
SUGGEST_MIN_SCORE = 50.0

#: A fuzzy match is accepted from this score (0-100) on.
MIN_SCORE = 75.0

#: Words and acronyms written short in offers and by coaches, expanded before matching.
ABBREVIATIONS: dict[str, str] = {
    "agt": "agent", "ag": "agent", "tech": "technicien", "techn": "technicien",
    "tec": "technicien", "resp": "responsable", "respo": "responsable", "rsp": "responsable",
    "assist": "assistant", "asst": "assistant", "cond": "conducteur", "prep": "preparateur",
    "prepa": "preparateur", "maint": "maintenance", "manut": "manutentionnaire",
    "vend": "vendeur", "empl": "employe", "emp": "employe", "adj": "adjoint",
    "dir": "directeur", "cial": "commercial", "comm": "commercial", "mag": "magasinier",
    "ope": "operateur", "op": "operateur", "ouv": "ouvrier", "ouvr": "ouvrier",
    "qualif": "qualifie", "poly": "polyvalent", "polyv": "polyvalent", "elec": "electricien",
    "electr": "electricien", "meca": "mecanicien", "mecan": "mecanicien",
    "chauff": "chauffeur", "secr": "secretaire", "secret": "secretaire", "compta": "comptable",
    "admin": "administratif", "adm": "administratif", "info": "informatique",
    "ent": "entretien", "entr": "entretien", "nett": "nettoyage", "hosp": "hospitalier",
    "resto": "restauration", "rest": "restauration", "cuis": "cuisinier", "serv": "service",
    "ets": "etablissement", "etab": "etablissement", "bat": "batiment", "indus": "industriel",
    "ind": "industriel", "logist": "logistique", "transp": "transport",
    # acronyms
    "ash": "agent service hospitalier", "aes": "accompagnant educatif social",
    "avs": "auxiliaire vie sociale", "advf": "assistant vie familles",
    "atsem": "agent specialise ecoles maternelles", "ide": "infirmier",
    "amp": "aide medico psychologique", "asv": "auxiliaire specialise veterinaire",
    "aps": "agent prevention securite", "els": "employe libre service",
    "btp": "batiment travaux publics", "tp": "travaux publics", "pl": "poids lourd",
    "spl": "super poids lourd", "vl": "vehicule leger", "rh": "ressources humaines",
    "sav": "service apres vente", "assmat": "assistant maternel", "as": "aide soignant",
    "auxi": "auxiliaire",
}
#: Two-word abbreviations ("ass mat").
PHRASE_ABBREVIATIONS: dict[tuple[str, str], str] = {
    ("ass", "mat"): "assistant maternel",
    ("aide", "soign"): "aide soignant",
    ("aux", "vie"): "auxiliaire vie",
    ("aux", "puer"): "auxiliaire puericulture",
    ("agent", "ent"): "agent entretien",
}
#: Words that carry no job meaning in titles ("H/F", contract words, articles, prepositions).
STOPWORDS = frozenset({
    "de", "d", "du", "des", "la", "le", "l", "les", "en", "et", "a", "au", "aux", "pour",
    "sur", "par", "dans", "un", "une", "h", "f", "hf", "fh", "cdi", "cdd", "ou",
})
#: Hand-written feminine → masculine pairs the referential's labels do not teach.
EXTRA_FEMININE: dict[str, str] = {"aide": "aide", "assistante": "assistant"}

_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss"})
_GENDER_MARK = re.compile(r"\(?\b[hf]\s*[/-]\s*[fh]\b\)?", re.IGNORECASE)
_SUFFIX = re.compile(r"(?<=[a-zà-ÿ])\((?:e|ne|se|euse|trice|rice|ère|ere|le|ve|te|fe|sse|ice|es)\)",
                     re.IGNORECASE)
_NON_WORD = re.compile(r"[^a-z0-9]+")


def _ascii(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower().translate(_LIGATURES))
    return text.encode("ascii", "ignore").decode("ascii")


def _tokens(text: str) -> list[str]:
    text = _GENDER_MARK.sub(" ", text)
    text = _SUFFIX.sub("", text)
    return [t for t in _NON_WORD.split(_ascii(text)) if t]


def split_genders(label: str) -> tuple[str, str]:
    """The masculine and feminine forms of a ROME label ("Chef pâtissier / Cheffe pâtissière
    de restaurant" → "Chef pâtissier de restaurant", "Cheffe pâtissière de restaurant").

    The part before " / " is the masculine head; the feminine head has as many words, and the
    rest is shared. A label without " / " is returned twice.
    """
    if " / " not in label:
        return label, label
    masc_head, fem = label.split(" / ", 1)
    n = len(masc_head.split())
    fem_words = fem.split()
    rest = " ".join(fem_words[n:])
    return (f"{masc_head} {rest}".strip(), fem)


@dataclass(frozen=True)
class TitleMatch:
    """How one target job was understood. ``code`` is None when nothing matched well enough."""

    query: str
    code: str | None
    label: str | None  # the appellation (or fiche) label matched
    score: float  # 0-100
    method: str  # "code" | "appellation" (code OGR) | "exact" | "fuzzy" | "none"


class RomeReferential:
    """ROME 4.0 fiches and appellations, with the title matcher. Build with :meth:`load`."""

    def __init__(
        self, fiches: pd.DataFrame, appellations: pd.DataFrame,
        generic_titles: pd.DataFrame | None = None,
    ) -> None:
        fiches = fiches.sort_values("code_rome").reset_index(drop=True)
        self.codes: tuple[str, ...] = tuple(fiches.code_rome)
        self.position: dict[str, int] = {c: i for i, c in enumerate(self.codes)}
        self.labels: dict[str, str] = dict(zip(fiches.code_rome, fiches.libelle_rome, strict=True))
        self.domaine: dict[str, str] = dict(
            zip(fiches.code_rome, fiches.code_domaine_professionel, strict=True))
        self.domaine_labels: dict[str, str] = dict(
            zip(fiches.code_domaine_professionel, fiches.libelle_domaine_professionel,
                strict=False))
        self.grand_domaine_labels: dict[str, str] = dict(
            zip(fiches.code_grand_domaine, fiches.libelle_grand_domaine, strict=False))
        self.v3_parent: dict[str, str] = dict(
            zip(fiches.code_rome, fiches.code_rome_parent, strict=True))
        # Aligned integer arrays (position = index in ``codes``) for vectorised proximity.
        dps = sorted(set(self.domaine.values()))
        v3s = sorted(set(self.v3_parent.values()))
        self.dp_index = np.array([dps.index(self.domaine[c]) for c in self.codes], dtype=np.int32)
        self.gd_index = np.array([ord(c[0]) - ord("A") for c in self.codes], dtype=np.int32)
        self.v3_index = np.array([v3s.index(self.v3_parent[c]) for c in self.codes],
                                 dtype=np.int32)
        self.appellation_count = len(appellations)
        #: code OGR -> (ROME code, appellation label), every appellation of the referential.
        self.appellation_by_ogr: dict[str, tuple[str, str]] = dict(zip(
            appellations.code_ogr, zip(appellations.code_rome,
                                       appellations.libelle_appellation_long, strict=True),
            strict=True))
        self._feminine = self._learn_feminine(appellations.libelle_appellation_long)
        self._build_title_index(appellations, generic_titles)

    # ----------------------------------------------------------------------------- loading

    @classmethod
    def load(cls, data_dir: Path) -> RomeReferential:
        """Read the embedded ROME files of ``data_dir`` (data/rome/...)."""
        fiches = pd.read_csv(data_dir / FICHES_CSV, dtype=str)
        hierarchy = pd.read_csv(data_dir / HIERARCHY_CSV, dtype=str)
        fiches = fiches[["code_rome", "libelle_rome", "code_rome_parent"]].merge(
            hierarchy.drop(columns=["libelle_rome"]), on="code_rome", how="left", validate="1:1")
        missing = fiches[fiches.code_domaine_professionel.isna()].code_rome.tolist()
        if missing:
            raise ValueError(f"ROME codes without domain hierarchy: {missing[:10]}")
        v3 = json.loads((data_dir / V3_JSON).read_text(encoding="utf-8"))
        unknown_v3 = {f["code"] for f in v3} - set(fiches.code_rome_parent)
        if unknown_v3:
            raise ValueError(f"ROME v3 codes without a v4 descendant: {sorted(unknown_v3)[:10]}")
        appellations = pd.read_csv(data_dir / APPELLATIONS_CSV, dtype=str).fillna("")
        generic = pd.read_csv(data_dir / GENERIC_TITLES_CSV, dtype=str)
        unknown = sorted(set(generic.code_rome) - set(fiches.code_rome))
        if unknown:
            raise ValueError(f"{GENERIC_TITLES_CSV}: unknown ROME codes {unknown}")
        return cls(fiches, appellations, generic)

    @staticmethod
    def _learn_feminine(labels: pd.Series) -> dict[str, str]:
        """feminine word → masculine word, from the labels' "masc / fem" heads."""
        votes: dict[str, Counter[str]] = defaultdict(Counter)
        as_masculine: Counter[str] = Counter()
        for label in labels:
            if " / " not in label:
                continue
            masc_head, fem = label.split(" / ", 1)
            masc = _tokens(masc_head)
            femw = _tokens(fem)[: len(masc)]
            as_masculine.update(masc)
            for m, f in zip(masc, femw, strict=False):
                if m != f and m[:3] == f[:3]:
                    votes[f][m] += 1
        # A word written first (masculine) more often than second is not a feminine form
        # ("Agente / Agent de bio-nettoyage" is one label against hundreds).
        out = {f: c.most_common(1)[0][0] for f, c in votes.items()
               if as_masculine[f] < sum(c.values())}
        out.update(EXTRA_FEMININE)
        return out

    def _build_title_index(
        self, appellations: pd.DataFrame, generic_titles: pd.DataFrame | None
    ) -> None:
        entries: dict[str, tuple[str, str, int]] = {}  # key -> (code, label, rank)
        # Plain lists: iterating pandas' Arrow-backed strings row by row costs more than the
        # matching keys themselves.
        codes = cast(list[str], appellations.code_rome.tolist())
        long_labels = cast(list[str], appellations.libelle_appellation_long.tolist())
        short_labels = cast(list[str], appellations.libelle_appellation_court.tolist())
        rare = [v == "O" for v in appellations.peu_usite.tolist()]
        principal = [v == "PRINCIPALE" for v in appellations.classification.tolist()]
        usual_by_code: dict[str, list[str]] = defaultdict(list)
        for code, long_label, is_rare in zip(codes, long_labels, rare, strict=True):
            if not is_rare:
                usual_by_code[code].append(long_label)
        self.appellations_by_code: dict[str, tuple[str, ...]] = {
            code: tuple(usual_by_code[code]) for code in sorted(usual_by_code)}
        principal_ogr = {ogr for ogr, is_principal in zip(
            appellations.code_ogr.tolist(), principal, strict=True) if is_principal}
        for ogr, code, long_label, short_label, is_rare in zip(
                appellations.code_ogr.tolist(), codes, long_labels, short_labels, rare,
                strict=True):
            rank = 2 if is_rare else (0 if ogr in principal_ogr else 1)
            for label in {long_label, short_label}:
                for form in split_genders(label):
                    key = self.normalise(form)
                    if not key:
                        continue
                    old = entries.get(key)
                    candidate = (code, long_label, rank)
                    if old is None or (rank, len(candidate[1])) < (old[2], len(old[1])):
                        entries[key] = candidate
        for code, label in self.labels.items():  # the fiche titles themselves
            for form in split_genders(label):
                key = self.normalise(form)
                if key and key not in entries:
                    entries[key] = (code, label, 0)
        if generic_titles is not None:  # generic titles win over a longer title's subset
            for row in generic_titles.itertuples(index=False):
                generic_code = cast(str, row.code_rome)
                entries[self.normalise(cast(str, row.title))] = (
                    generic_code, self.labels[generic_code], 0)
        self._keys: list[str] = sorted(entries, key=lambda k: (len(k), k))
        self._entries = entries
        self._keys_of_word: dict[str, list[str]] = defaultdict(list)
        for key in self._keys:
            for word in key.split():
                self._keys_of_word[word].append(key)
        self._vocabulary: list[str] = sorted(self._keys_of_word)
        self._by_words: dict[str, str] = {}
        for key in self._keys:  # shortest first: the first key of a word set wins
            self._by_words.setdefault(" ".join(sorted(key.split())), key)

    # ---------------------------------------------------------------------------- matching

    def normalise(self, text: str) -> str:
        """The matching key of a job title (see the module docstring). Idempotent."""
        words = _tokens(text)
        out: list[str] = []
        i = 0
        while i < len(words):
            pair = tuple(words[i:i + 2])
            if len(pair) == 2 and pair in PHRASE_ABBREVIATIONS:
                out.extend(PHRASE_ABBREVIATIONS[pair].split())
                i += 2
                continue
            word = words[i]
            if word == "aux" and i == 0:
                word = "auxiliaire"
            out.extend(ABBREVIATIONS.get(word, word).split())
            i += 1
        seen: set[str] = set()
        key: list[str] = []
        for word in out:
            word = self._feminine.get(word, word)
            if word in STOPWORDS or word in seen:
                continue
            seen.add(word)
            key.append(word)
        return " ".join(key)

    def is_code(self, text: str) -> bool:
        return text.strip().upper() in self.position

    def match_title(self, text: str) -> TitleMatch:
        """The fiche a target job means. Cached per text: call it freely."""
        return self._match_cached(text.strip())

    @lru_cache(maxsize=65536)  # noqa: B019 - the referential lives as long as the process
    def _match_cached(self, text: str) -> TitleMatch:
        code = text.upper()
        if CODE_RE.match(code):
            if code in self.position:
                return TitleMatch(text, code, self.labels[code], 100.0, "code")
            return TitleMatch(text, None, None, 0.0, "none")
        ogr = OGR_RE.match(text)
        if ogr:
            hit_ogr = self.appellation_by_ogr.get(ogr[1])
            if hit_ogr is None:
                return TitleMatch(text, None, None, 0.0, "none")
            return TitleMatch(text, hit_ogr[0], hit_ogr[1], 100.0, "appellation")
        key = self.normalise(text)
        if not key:
            return TitleMatch(text, None, None, 0.0, "none")
        hit = self._entries.get(key)
        if hit is not None:
            return TitleMatch(text, hit[0], hit[1], 100.0, "exact")
        same_words = self._by_words.get(" ".join(sorted(key.split())))
        if same_words is not None:
            code, label, _ = self._entries[same_words]
            return TitleMatch(text, code, label, 99.0, "exact")
        found = process.extract(key, self._keys, scorer=_title_score, limit=12,
                                processor=None, score_cutoff=MIN_SCORE)
        if not found:
            return TitleMatch(text, None, None, 0.0, "none")
        # Best score; ties: shorter title, then main appellation (stable on the key order).
        best_key, best_score, _ = min(
            found, key=lambda f: (-round(f[1], 1), len(f[0]), self._entries[f[0]][2]))
        code, label, _ = self._entries[best_key]
        return TitleMatch(text, code, label, round(float(best_score), 1), "fuzzy")

    def suggest_titles(self, text: str, limit: int = 8) -> list[tuple[str, str]]:
        """Up to ``limit`` (appellation, ROME code) for a partly typed job title, best first
        (autocompletion); never raises."""
        key = self.normalise(text)
        if len(key) < 2:
            return []
        starts = [k for k in self._keys if k.startswith(key)][:limit]
        found = process.extract(key, self._keys, scorer=_title_score, limit=limit * 3,
                                processor=None, score_cutoff=MIN_SCORE)
        ordered = list(dict.fromkeys([*starts, *(f[0] for f in found)]))
        seen: dict[str, str] = {}
        for k in ordered:
            code, label, _ = self._entries[k]
            seen.setdefault(label, code)
        return list(seen.items())[:limit]

    def closest_titles(self, text: str, limit: int = 5) -> list[tuple[str, str]]:
        """Up to ``limit`` (appellation, ROME code) closest to a target that matched nothing,
        best first, for the "did you mean" list; never raises, may be empty.

        A ROME code the referential lacks ("K9999") suggests the fiches of its domaine
        professionnel ("K99"), else of its grand domaine; an unknown code OGR suggests nothing
        (a number says nothing about its neighbours); a text gets the appellations whose
        similarity is at least :data:`SUGGEST_MIN_SCORE`, one per label.
        """
        return list(self._closest_cached(text.strip(), limit))

    @lru_cache(maxsize=4096)  # noqa: B019 - the referential lives as long as the process
    def _closest_cached(self, text: str, limit: int) -> tuple[tuple[str, str], ...]:
        code = text.upper()
        if CODE_RE.match(code):
            for prefix in (code[:3], code[:1]):
                same = [c for c in self.codes if c.startswith(prefix)]
                if same:
                    return tuple((self.labels[c], c) for c in same[:limit])
            return ()
        if OGR_RE.match(text):
            return ()
        key = self.normalise(text)
        if not key:
            return ()
        # Candidates: the titles holding a word near a query word (through the vocabulary),
        # and the closest titles as a whole; the word-level score then orders them.
        weight: defaultdict[str, float] = defaultdict(float)  # fuzz scores are floats
        for word in key.split():
            for near, score, _ in process.extract(word, self._vocabulary, scorer=fuzz.ratio,
                                                  limit=10, processor=None, score_cutoff=70):
                for k in self._keys_of_word[near]:
                    weight[k] += score
        pool = {k for k, _ in heapq.nlargest(300, weight.items(), key=itemgetter(1))} | {
            k for k, _, _ in process.extract(key, self._keys, scorer=fuzz.ratio, limit=50,
                                             processor=None)}
        found = [(k, sc, 0) for k in pool
                 if (sc := _suggest_score(key, k, score_cutoff=SUGGEST_MIN_SCORE))]
        found.sort(key=lambda f: (-f[1], len(f[0]), self._entries[f[0]][2], f[0]))
        seen: dict[str, str] = {}
        for k, _, _ in found:
            code_k, label, _ = self._entries[k]
            seen.setdefault(label, code_k)
        return tuple(seen.items())[:limit]

    def match_titles(self, texts: list[str]) -> list[TitleMatch]:
        return [self.match_title(t) for t in texts]

    # --------------------------------------------------------------------------- proximity

    def fiche_label(self, code: str) -> str:
        return self.labels.get(code, code)


@dataclass(frozen=True)
class UnrecognisedTarget:
    """A target job that matched no ROME fiche, with the closest appellations."""

    text: str
    suggestions: tuple[tuple[str, str], ...]  # (appellation, ROME code), best first

    @property
    def note_fr(self) -> str:
        """The French warning of the answer's ``unchecked`` list."""
        head = f"métier visé non reconnu : « {self.text} »"
        if OGR_RE.match(self.text):
            head += " (code OGR inconnu du ROME 4.0)"
        elif CODE_RE.match(self.text.strip().upper()):
            head += " (code ROME inconnu)"
        if not self.suggestions:
            return head + " ; aucun métier proche trouvé, préciser l'intitulé ou le code ROME"
        names = ", ".join(f"{label} ({code})" for label, code in self.suggestions[:3])
        return f"{head} ; métiers proches : {names}"


def unrecognised_targets(
    targets: Iterable[str], rome: RomeReferential, limit: int = 5
) -> tuple[UnrecognisedTarget, ...]:
    """The targets of ``targets`` that match no fiche, each with its closest appellations."""
    out = []
    for text in targets:
        if rome.match_title(text).code is None:
            out.append(UnrecognisedTarget(text, tuple(rome.closest_titles(text, limit))))
    return tuple(out)


def _suggest_score(query: str, choice: str, *, score_cutoff: float | None = None,
                   **kwargs: object) -> float:
    """Looser than :func:`_title_score` (suggestions, not matches): each query word counts by
    its closest word of the title when that one is near (70+), so a typo and an extra word ("plombir du dimanche") still
    point to the plumber; rounded, so that ties go to the shorter, main title."""
    cutoff = score_cutoff or 0
    words = choice.split()
    scores = [max(fuzz.ratio(q, w) for w in words) for q in query.split()]
    per_word = sum(x for x in scores if x >= 70) / max(len(scores), 1)  # near words only
    best = max(fuzz.ratio(query, choice), fuzz.token_sort_ratio(query, choice), 0.9 * per_word)
    best = float(round(best))
    return best if best >= cutoff else 0.0


def _title_score(query: str, choice: str, *, score_cutoff: float | None = None,
                 **kwargs: object) -> float:
    """Edit-based similarity that tolerates typos and word order but does not reward a query
    for being a mere substring of a long title (that is what ties on length are for)."""
    cutoff = score_cutoff or 0
    plain = fuzz.ratio(query, choice)
    ordered = fuzz.token_sort_ratio(query, choice)
    # A query whose every word is in a longer title ("agent entretien") scores 95; a query
    # with a word the title lacks (often a typo) does not get that credit.
    subset = 95.0 if set(query.split()) <= set(choice.split()) else 0.0
    best = max(plain, ordered, subset)
    return best if best >= cutoff else 0.0
