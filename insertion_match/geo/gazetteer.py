"""The commune gazetteer: INSEE code, postcode or (misspelt) name → one located commune.

Loaded once at start-up from ``data/geo/communes_france.csv`` (all France, arrondissements
municipaux included) and ``data/geo/communes_deleguees_associees.csv`` (former communes). Rows
without coordinates (about 100: overseas collectivities and a few communes re-established after
2018) are **skipped entirely**: they cannot be positioned, so they are neither resolvable nor in
the vectorised arrays; asking for one raises ``UnknownCommune``.

Resolution rules (``Gazetteer.resolve``):

1. An INSEE code wins (former codes of merged communes map to the current commune). If a postcode
   is also given and is not one of that commune's postcodes, ``AmbiguousCommune`` is raised with
   the INSEE commune first and the postcode's communes after it: the caller must choose.
2. A name (with an optional postcode to pick among homonyms) is matched exactly on its normalised
   form (``names.normalise_name``), current and former-commune names together, then with spaces
   ignored ("Laigle" → L'Aigle). An exact match whose postcode differs is still accepted when it
   is the only one in the postcode's département (postcodes get outdated or mistyped).
   Without an exact match, a misspelt name is accepted only when clearly best (``fuzz.ratio`` ≥
   ``names.FUZZY_ACCEPT_SCORE`` and ``names.FUZZY_MARGIN`` points above the next distinct name),
   searching among the postcode's communes (where the one name starting with the query's words
   is also accepted: "Mortagne" + 61400), then the postcode's départements, or all of France
   without a postcode. Otherwise ``UnknownCommune`` carries up to 5 suggestions ranked by
   rapidfuzz ``WRatio``, larger population first on ties.
3. A postcode alone gives its commune when it has exactly one, else ``AmbiguousCommune``.

Homonyms are never guessed: several communes with the same name and no postcode to separate them
raise ``AmbiguousCommune``, candidates ranked by population (largest first).

These rules know no caller. ``Gazetteer.resolve_home`` reads a home as a caller means it (their
territories, then the served départements, then population) and says how: ``geo.resolution``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from insertion_match.geo import lookup
from insertion_match.geo.commune import Commune, Suggestion
from insertion_match.geo.errors import AmbiguousCommune, GeoError, UnknownCommune
from insertion_match.geo.names import normalise_name
from insertion_match.geo.resolution import HomeScope, Resolution, resolve_home

if TYPE_CHECKING:
    from insertion_match.geo.territories import Territories

COMMUNES_CSV = Path("geo") / "communes_france.csv"
FORMER_CSV = Path("geo") / "communes_deleguees_associees.csv"
COMMUNE_COLUMNS = ("insee_code", "name", "postcodes", "lat", "lon", "population", "department")
FORMER_COLUMNS = ("old_insee_code", "old_name", "current_insee_code")

#: Mergers into a commune nouvelle *without* communes déléguées are missing from the former-commune
#: file. Known ones are added here (INSEE COG): Évry-Courcouronnes (91228) was created on
#: 2019-01-01 from Évry (91228) and Courcouronnes (91182).
SUPPLEMENTARY_FORMER_COMMUNES: tuple[tuple[str, str, str], ...] = (
    ("91228", "Évry", "91228"),
    ("91182", "Courcouronnes", "91228"),
)

#: The communes split into arrondissements municipaux, by département.
_ARRONDISSEMENT_PARENTS = {"75": "75056", "69": "69123", "13": "13055"}


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _clean_code(value: str | None) -> str | None:
    return _clean(value.replace(" ", "").upper()) if value is not None else None


class Gazetteer:
    """All positioned communes, with O(1) indexes by INSEE code, postcode and normalised name.

    ``insee_codes``, ``lat``, ``lon``, ``population`` and ``departments`` are aligned arrays (one
    entry per commune, same order as ``communes``) for vectorised distance computations;
    ``index_of`` maps an INSEE code to a position in them.
    """

    def __init__(self, communes: pd.DataFrame, former: pd.DataFrame | None = None) -> None:
        _check_columns(communes, COMMUNE_COLUMNS, "communes")
        lat = pd.to_numeric(communes["lat"], errors="coerce").to_numpy(dtype=float)
        lon = pd.to_numeric(communes["lon"], errors="coerce").to_numpy(dtype=float)
        keep = ~(np.isnan(lat) | np.isnan(lon))
        frame = communes.loc[keep]
        population = pd.to_numeric(frame["population"], errors="coerce").fillna(0)
        table = frame.assign(lat=lat[keep], lon=lon[keep], population=population)
        # Plain lists (iterating pandas' Arrow-backed strings row by row is slow).
        self.communes: tuple[Commune, ...] = tuple(
            Commune(code, name, tuple(p for p in postcodes.split(";") if p), la, lo, pop, dept)
            for code, name, postcodes, la, lo, pop, dept in zip(
                table["insee_code"].tolist(), table["name"].tolist(),
                table["postcodes"].tolist(), table["lat"].astype(float).tolist(),
                table["lon"].astype(float).tolist(), table["population"].astype(int).tolist(),
                table["department"].tolist(), strict=True)
        )  # fmt: skip
        self.insee_codes: NDArray[np.str_] = np.array([c.insee for c in self.communes], dtype="<U5")
        self.lat: NDArray[np.float64] = lat[keep]
        self.lon: NDArray[np.float64] = lon[keep]
        self.population: NDArray[np.int64] = population.to_numpy(dtype=np.int64)
        self.departments: NDArray[np.str_] = np.array([c.department for c in self.communes])
        self._row: dict[str, int] = {c.insee: i for i, c in enumerate(self.communes)}
        self._build_former(former)
        self._index = lookup.NameIndex(self.communes, self._row, self._former_names)
        self._postcodes = lookup.PostcodeIndex(self.communes, self._row, _ARRONDISSEMENT_PARENTS)

    def _build_former(self, former: pd.DataFrame | None) -> None:
        rows: list[tuple[str, str, str]] = []
        if former is not None:
            _check_columns(former, FORMER_COLUMNS, "former communes")
            rows = list(former[list(FORMER_COLUMNS)].itertuples(index=False, name=None))
        rows.extend(SUPPLEMENTARY_FORMER_COMMUNES)
        self._former_code: dict[str, int] = {}
        self._former_names: list[tuple[str, int]] = []
        for old_code, old_name, current in rows:
            row = self._row.get(current)
            if row is None:
                continue
            if old_code not in self._row:
                self._former_code.setdefault(old_code, row)
            self._former_names.append((old_name, row))

    # ---- loading ------------------------------------------------------------------------------

    @classmethod
    def from_csv(cls, communes_csv: Path, former_csv: Path | None = None) -> Gazetteer:
        """Read the commune file (and optionally the former-commune file) and index them."""
        try:
            communes = pd.read_csv(communes_csv, dtype=str, keep_default_na=False)
            former = (
                pd.read_csv(former_csv, dtype=str, keep_default_na=False)
                if former_csv is not None
                else None
            )
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
            raise GeoError(f"cannot read the commune files: {exc}") from exc
        return cls(communes, former)

    @classmethod
    def load(cls, data_dir: Path) -> Gazetteer:
        """Load from the repository's ``data/`` directory (reads ``data/geo/…``)."""
        former = data_dir / FORMER_CSV
        return cls.from_csv(data_dir / COMMUNES_CSV, former if former.exists() else None)

    def __len__(self) -> int:
        return len(self.communes)

    # ---- lookups by code ------------------------------------------------------------------------

    def index_of(self, insee: str) -> int:
        """Position of the commune in the arrays; former INSEE codes give the current commune."""
        code = insee.strip().upper()
        row = self._row.get(code)
        if row is None:
            row = self._former_code.get(code)
        if row is None:
            raise UnknownCommune(insee, self._code_suggestions(code), "unknown INSEE code")
        return row

    def indices_of(self, insee_codes: Iterable[str]) -> NDArray[np.int64]:
        """Vectorised ``index_of``: -1 for unknown codes instead of raising."""
        get, former = self._row.get, self._former_code.get
        return np.array(
            [r if (r := get(code)) is not None else former(code, -1) for code in insee_codes],
            dtype=np.int64,
        )

    def by_insee(self, code: str) -> Commune:
        """The commune with this INSEE code (current or former); ``UnknownCommune`` otherwise."""
        return self.communes[self.index_of(code)]

    def communes_with_postcode(self, postcode: str) -> tuple[Commune, ...]:
        """Communes served by ``postcode``, largest first; empty for an unknown postcode.

        A city split into arrondissements (Paris, Lyon, Marseille) is left out when one of its
        arrondissements has the postcode, which is the more precise answer.
        """
        return tuple(self.communes[i] for i in self._postcode_rows(postcode))

    def _postcode_rows(self, postcode: str) -> list[int]:
        return self._postcodes.rows(postcode)

    def _code_suggestions(self, code: str) -> list[Suggestion]:
        found = [
            Suggestion(self.communes[r], 90.0, f"postcode {code}, not an INSEE code")
            for r in self._postcode_rows(code)
        ]
        found += self._index.similar_codes(code, exclude={s.commune.insee for s in found})
        return found[:5]

    # ---- resolution --------------------------------------------------------------------------

    def resolve(
        self, commune: str | None = None, postcode: str | None = None, insee: str | None = None
    ) -> Commune:
        """Resolve one home to exactly one commune, or raise (rules in the module docstring).

        ``gazetteer.resolve(**home.model_dump())`` works with a ``domain.Home``. When an INSEE
        code is given the name is not checked (names are too variable to veto a code).
        """
        commune, postcode, insee = _clean(commune), _clean_code(postcode), _clean_code(insee)
        if insee is not None:
            found = self.by_insee(insee)
            if postcode is not None and postcode not in found.postcodes:
                others = [
                    Suggestion(c, 100.0, f"postcode {postcode}")
                    for c in self.communes_with_postcode(postcode)
                ]
                raise AmbiguousCommune(
                    f"{insee} / {postcode}",
                    [Suggestion(found, 100.0, f"INSEE code {insee}"), *others],
                    f"postcode {postcode} is not a postcode of INSEE {found.insee}",
                )
            return found
        if commune is not None:
            return self._resolve_name(commune, postcode)
        if postcode is not None:
            return self._resolve_postcode(postcode)
        raise UnknownCommune("", [], "no commune name, postcode or INSEE code given")

    def resolve_home(
        self,
        commune: str | None = None,
        postcode: str | None = None,
        insee: str | None = None,
        scope: HomeScope | None = None,
        territories: Territories | None = None,
    ) -> Resolution:
        """Resolve a home as the caller means it: within ``scope`` (the caller's territories,
        then the served départements, then population; rules in ``geo.resolution``), and say
        how. ``territories`` is needed for commission grants. Without a scope, as ``resolve``.
        """
        if scope is None:
            return Resolution(self.resolve(commune, postcode, insee), commune or postcode
                              or insee or "", "insee" if insee else "name_postcode")
        return resolve_home(self, commune, postcode, insee, scope, territories)

    def _resolve_postcode(self, postcode: str) -> Commune:
        rows = self._postcode_rows(postcode)
        if not rows:
            raise UnknownCommune(
                postcode,
                self._postcodes.near(postcode),
                "unknown postcode",
            )
        found = [Suggestion(self.communes[r], 100.0, f"postcode {postcode}") for r in rows]
        return _one_or_ambiguous(
            postcode, found, f"postcode {postcode} covers {len(rows)} communes"
        )

    def _resolve_name(self, name: str, postcode: str | None) -> Commune:
        key = normalise_name(name)
        exact = self._index.exact(key)
        if postcode is None:
            if exact:
                return _one_or_ambiguous(name, exact, f"{len(exact)} communes have this name")
            best = self._index.fuzzy_best(key, None)
            if best:
                return _one_or_ambiguous(name, best, "close to several homonyms")
            raise UnknownCommune(name, self._index.fuzzy(key, None, 5))
        in_postcode = set(self._postcode_rows(postcode))
        departments = self._index.departments_of_postcode(postcode, in_postcode)
        in_departments = self._index.rows_in_departments(departments)
        if exact:
            with_postcode = [s for s in exact if self._row[s.commune.insee] in in_postcode]
            if with_postcode:
                return _one_or_ambiguous(name, with_postcode, f"several with postcode {postcode}")
            near = [s for s in exact if s.commune.department in departments]
            if len(near) == 1:  # an outdated or mistyped postcode of the right département
                return near[0].commune
        best = (
            self._index.fuzzy_best(key, in_postcode)
            or self._index.unique_prefix(key, in_postcode)
            or self._index.fuzzy_best(key, in_departments)
        )
        if best:
            return _one_or_ambiguous(name, best, f"several near postcode {postcode}")
        nearby = self._index.fuzzy(key, in_departments or None, 5)
        raise UnknownCommune(name, _merge(nearby, exact), f"none with postcode {postcode}")

    def suggest(self, query: str, postcode: str | None = None, limit: int = 5) -> list[Suggestion]:
        """Up to ``limit`` communes for a free-text query, best first; never raises.

        A 5-character code is also tried as an INSEE code and as a postcode. With a postcode,
        names are searched in the postcode's départements only (all France if it is unknown).
        """
        query, postcode = query.strip(), _clean_code(postcode)
        found: dict[str, Suggestion] = {}
        if len(query) == 5 and query[:2].isalnum() and query[2:].isdigit():
            row = self._row.get(query.upper(), self._former_code.get(query.upper()))
            if row is not None:
                found[self.communes[row].insee] = Suggestion(
                    self.communes[row], 100.0, "INSEE code"
                )
            for commune in self.communes_with_postcode(query):
                found.setdefault(commune.insee, Suggestion(commune, 100.0, f"postcode {query}"))
        allowed = None
        if postcode is not None:
            rows = set(self._postcode_rows(postcode))
            allowed = (
                self._index.rows_in_departments(self._index.departments_of_postcode(postcode, rows))
                or None
            )
        key = normalise_name(query)
        exact = self._index.exact(key, allowed)
        return _merge(
            list(found.values()), exact, self._index.fuzzy(key, allowed, limit), limit=limit
        )


def _one_or_ambiguous(query: str, found: list[Suggestion], detail: str) -> Commune:
    if len(found) == 1:
        return found[0].commune
    ranked = sorted(found, key=lambda s: (-s.commune.population, s.commune.insee))
    raise AmbiguousCommune(query, ranked, detail)


def _merge(*lists: list[Suggestion], limit: int = 5) -> list[Suggestion]:
    """The first ``limit`` distinct communes of the lists, best score then population first."""
    found: dict[str, Suggestion] = {}
    for suggestions in lists:
        for suggestion in suggestions:
            found.setdefault(suggestion.commune.insee, suggestion)
    return sorted(found.values(), key=lambda s: (-s.score, -s.commune.population))[:limit]


def _check_columns(frame: pd.DataFrame, required: tuple[str, ...], what: str) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise GeoError(f"{what} table lacks columns {missing}; has {list(frame.columns)}")
