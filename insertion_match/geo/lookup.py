"""Name and code indexes behind ``Gazetteer``: exact lookups in dicts, fuzzy search on fallback.

Rows are positions in the gazetteer's ``communes`` tuple. ``allowed`` arguments restrict a search
to a set of rows (``None`` = all France). Every search returns ``Suggestion`` lists ranked by
score, then population (largest first), so ties favour the commune people most often mean.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Hamming

from insertion_match.geo.commune import Commune, Suggestion
from insertion_match.geo.names import clearly_best, compact, normalise_name, rank_names

_NAME = "name"
_FUZZY_CANDIDATES = 25  # distinct names looked at by a fuzzy search before ranking communes


class NameIndex:
    """Normalised current and former names → rows; département and postcode-prefix indexes."""

    def __init__(
        self,
        communes: Sequence[Commune],
        row_of: Mapping[str, int],
        former_names: Sequence[tuple[str, int]],
    ) -> None:
        self._communes = communes
        self._codes = list(row_of)
        self._by_key: dict[str, dict[int, str]] = defaultdict(dict)
        self._by_compact: dict[str, dict[int, str]] = defaultdict(dict)
        self._keys_of_row: list[list[str]] = [[] for _ in communes]
        names = [(commune.name, row, _NAME) for row, commune in enumerate(communes)]
        names += [(old, row, f"former commune '{old}'") for old, row in former_names]
        for name, row, reason in names:
            key = normalise_name(name)
            if key and row not in self._by_key[key]:
                self._by_key[key][row] = reason
                self._by_compact[compact(key)].setdefault(row, reason)
                self._keys_of_row[row].append(key)
        self._all_keys = list(self._by_key)
        self._all_compact = list(self._by_compact)
        self._rows_of_department: dict[str, set[int]] = defaultdict(set)
        self._departments_of_prefix: dict[str, set[str]] = defaultdict(set)
        self._rows_memo: dict[frozenset[str], frozenset[int]] = {}
        for row, commune in enumerate(communes):
            self._rows_of_department[commune.department].add(row)
            for postcode in commune.postcodes:
                self._departments_of_prefix[postcode[:2]].add(commune.department)

    # ---- restrictions ----------------------------------------------------------------------

    def departments_of_postcode(self, postcode: str, rows: Collection[int]) -> set[str]:
        """Départements of the postcode's communes, else of every postcode with its 2 digits."""
        if rows:
            return {self._communes[r].department for r in rows}
        return set(self._departments_of_prefix.get(postcode.strip()[:2], ()))

    def rows_in_departments(self, departments: Collection[str]) -> frozenset[int]:
        """Rows of the communes of ``departments`` (memoised: every home resolution asks for
        the served départements' rows)."""
        key = frozenset(departments)
        rows = self._rows_memo.get(key)
        if rows is None:
            rows = frozenset().union(*(self._rows_of_department.get(d, ()) for d in key))
            if len(self._rows_memo) < 1024:
                self._rows_memo[key] = rows
        return rows

    # ---- names ---------------------------------------------------------------------------------

    def exact(self, key: str, allowed: Collection[int] | None = None) -> list[Suggestion]:
        """Communes whose current or former normalised name is ``key`` (spaces ignored if none
        is); score 100."""
        found = self._expand([(key, 100.0)], allowed, fuzzy=False)
        return found or self._expand([(compact(key), 100.0)], allowed, False, self._by_compact)

    def fuzzy(self, key: str, allowed: Collection[int] | None, limit: int) -> list[Suggestion]:
        """Up to ``limit`` communes with the most similar names (WRatio 0–100), for display."""
        return self._expand(
            rank_names(key, self._keys(allowed), _FUZZY_CANDIDATES), allowed, fuzzy=True
        )[:limit]

    def fuzzy_best(self, key: str, allowed: Collection[int] | None) -> list[Suggestion] | None:
        """The communes of the one clearly best misspelt name, or None when none stands out.

        Scored with ``fuzz.ratio`` on compact keys (see ``names``), so a name contained in the
        query ("Ville" in "Zzzyxville") is not accepted.
        """
        if allowed is not None and not allowed:
            return None
        keys = (
            self._all_compact
            if allowed is None
            else sorted({compact(k) for k in self._keys(allowed)})
        )
        ranked = rank_names(compact(key), keys, _FUZZY_CANDIDATES, scorer=fuzz.ratio)
        best = clearly_best(ranked)
        if best is None:
            return None
        return self._expand([(best, ranked[0][1])], allowed, True, self._by_compact) or None

    def unique_prefix(self, key: str, allowed: Collection[int]) -> list[Suggestion] | None:
        """The one commune of ``allowed`` whose name starts with the words of ``key``, if any.

        For short forms inside a postcode: "Mortagne" + 61400 → Mortagne-au-Perche.
        """
        rows = {
            row for row in allowed if any(k.startswith(key + " ") for k in self._keys_of_row[row])
        }
        if len(rows) != 1:
            return None
        row = rows.pop()
        return [Suggestion(self._communes[row], 90.0, f"name starting with '{key}'")]

    def _keys(self, allowed: Collection[int] | None) -> list[str]:
        if allowed is None:
            return self._all_keys
        return sorted({key for row in allowed for key in self._keys_of_row[row]})

    def _expand(
        self,
        ranked: Sequence[tuple[str, float]],
        allowed: Collection[int] | None,
        fuzzy: bool,
        index: Mapping[str, dict[int, str]] | None = None,
    ) -> list[Suggestion]:
        index = self._by_key if index is None else index
        best: dict[int, Suggestion] = {}
        for key, score in ranked:
            for row, reason in index.get(key, {}).items():
                if row in best or (allowed is not None and row not in allowed):
                    continue
                if fuzzy:
                    reason = "fuzzy name" if reason == _NAME else f"fuzzy, {reason}"
                best[row] = Suggestion(self._communes[row], round(score, 1), reason)
        return sorted(best.values(), key=lambda s: (-s.score, -s.commune.population))

    # ---- codes ---------------------------------------------------------------------------------

    def similar_codes(self, code: str, exclude: Collection[str]) -> list[Suggestion]:
        """Communes whose INSEE code differs from ``code`` in one position (score 80)."""
        found = process.extract(
            code, self._codes, scorer=Hamming.similarity, limit=10, score_cutoff=len(code) - 1
        )
        suggestions = [
            Suggestion(self._communes[row], 80.0, "similar INSEE code")
            for _, score, row in found
            if self._codes[row] not in exclude
        ]
        return sorted(suggestions, key=lambda s: (-s.score, -s.commune.population))


class PostcodeIndex:
    """Postcode → rows, largest population first.

    A city split into arrondissements municipaux is dropped from a postcode's rows when one of
    its arrondissements has the postcode (the more precise answer): 75001 → Paris 1er only.
    """

    def __init__(
        self, communes: Sequence[Commune], row_of: Mapping[str, int], parents: Mapping[str, str]
    ) -> None:
        self._communes = communes
        self._rows: dict[str, list[int]] = defaultdict(list)
        for row, commune in enumerate(communes):
            for postcode in commune.postcodes:
                self._rows[postcode].append(row)
        for rows in self._rows.values():
            rows.sort(key=lambda r: -communes[r].population)
        self._parent_of: dict[int, int] = {}
        for row, commune in enumerate(communes):
            parent = row_of.get(parents.get(commune.department, ""))
            if (
                parent is not None
                and parent != row
                and commune.name.startswith(communes[parent].name + " ")
            ):
                self._parent_of[row] = parent

    def rows(self, postcode: str) -> list[int]:
        rows = self._rows.get(postcode.strip(), [])
        parents = {self._parent_of[r] for r in rows if r in self._parent_of}
        return [r for r in rows if r not in parents]

    def near(self, postcode: str) -> list[Suggestion]:
        """Up to 5 communes whose postcode shares the longest prefix with ``postcode``."""
        postcode = postcode.strip()
        for length in (4, 3, 2):
            rows = {
                row
                for other, other_rows in self._rows.items()
                if other[:length] == postcode[:length]
                for row in other_rows
            }
            if rows:
                ranked = sorted(rows, key=lambda r: -self._communes[r].population)[:5]
                return [
                    Suggestion(self._communes[r], 50.0, f"postcode close to {postcode}")
                    for r in ranked
                ]
        return []
