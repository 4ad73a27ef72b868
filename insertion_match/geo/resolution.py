"""Resolving a home as a coach means it: the caller's territories first, then the served
départements, then population (``Gazetteer.resolve_home``).

``Gazetteer.resolve`` answers for all France with no preference (offer imports use it). A coach
typing "Mortagne" means Mortagne-au-Perche (61), not the Mortagne of the Vosges; "61000" in
the commune field means Alençon. ``HomeScope`` says where the caller works, as plain data: the
caller's territories as (département, commission or None) pairs (empty for an admin, a platform
with ``*`` or the CLI) and the départements the catalogue serves.

Rules, in order (each resolution says which one decided, for the answer's ``assumptions``):

1. An INSEE code (``insee``) wins, as in ``Gazetteer.resolve``.
2. A 5-character code in ``commune`` (alone or with the same ``postcode``) is read as a postcode
   (rule 5); if it is no postcode, as an INSEE code. With a different ``postcode`` it can only be
   an INSEE code (checked against the postcode as in rule 1).
3. A name with a postcode: ``Gazetteer.resolve`` (the postcode already picks among homonyms).
4. A bare name, tier by tier — the caller's territories, then the served départements: an exact
   name (current or former) unique in the tier; several in one tier are ambiguous (homonyms are
   never guessed); else the one name of the tier starting with the query's words ("Mortagne" →
   Mortagne-au-Perche, "Corbeil" → Corbeil-Essonnes). Exact and prefix matches outside the tiers
   are ignored. Then a clearly best misspelt name (``names.FUZZY_ACCEPT_SCORE``), tier by tier.
   A name found only outside the served départements raises ``NotServed`` (a 422, never an
   empty answer); no match at all raises ``UnknownCommune``. Suggestions favour the served
   départements: their closest names by similarity (``WRatio``; the caller's territories first
   on equal scores), then the rest of France.
5. A postcode: its one commune; else the one of its communes in the caller's territories; else
   the largest commune of those (of the territories if any, else all) when it holds at least
   ``POPULATION_SHARE`` of their population (61000 → Alençon, 85 %); else ``SharedPostcode``
   listing them (those of the caller's territories first, then by population).

A resolved commune outside the served départements is flagged (``outside_served``) so that the
answer can say why it is empty.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from insertion_match.geo.commune import Commune, Suggestion
from insertion_match.geo.errors import (
    AmbiguousCommune,
    GeoError,
    NotServed,
    SharedPostcode,
    UnknownCommune,
)
from insertion_match.geo.names import normalise_name

if TYPE_CHECKING:
    from insertion_match.geo.gazetteer import Gazetteer
    from insertion_match.geo.territories import Territories

#: A postcode shared by several communes is read as its largest commune when that commune holds
#: at least this share of their population (61000: Alençon 85 %; 61100: Flers 46 %, ambiguous).
POPULATION_SHARE = 0.8
#: Served communes suggested for a name found only outside the served départements must be at
#: least this similar (WRatio 0–100); "Lens" must not suggest "Les Ulis".
NOT_SERVED_SUGGESTION_SCORE = 80.0

_CODE = re.compile(r"^\d[\dAB]\d{3}$")
_LIMIT = 5


@dataclass(frozen=True)
class HomeScope:
    """Where the caller works: searched first when a home is not given unambiguously.

    ``territories``: the caller's grants as (département, commission or None) pairs, e.g.
    ``(("61", "Flers"),)``; empty when the caller has no territory preference (admin, ``*``,
    command line). ``served``: the départements the catalogue serves, e.g. ``("61", "72", "91")``;
    empty: all France (rule 4 then falls back to ``Gazetteer.resolve``).
    """

    territories: tuple[tuple[str, str | None], ...] = ()
    served: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resolution:
    """A resolved home and how it was understood.

    ``how``: ``insee`` (the insee field), ``code_insee`` (an INSEE code in the commune field),
    ``name_postcode``, ``exact``, ``prefix``, ``fuzzy`` (a bare name) or ``postcode``.
    ``tier``: what singled the commune out among several: ``territory`` (the caller's),
    ``served`` (the served départements), ``population`` (the largest of a postcode), or None
    when nothing had to be chosen. ``among``: how many communes the query could mean (same
    name in France, or same postcode); ``share``: the population share for ``population``;
    ``also_insee``: another commune whose INSEE code is the code read as a postcode.
    """

    commune: Commune
    query: str
    how: str
    tier: str | None = None
    among: int = 1
    share: float | None = None
    also_insee: Commune | None = None
    outside_served: bool = False


def resolve_home(
    gazetteer: Gazetteer,
    commune: str | None,
    postcode: str | None,
    insee: str | None,
    scope: HomeScope,
    territories: Territories | None = None,
) -> Resolution:
    """Resolve a home within ``scope`` (rules in the module docstring); raise geo errors."""
    resolver = _Resolver(gazetteer, scope, territories)
    found = resolver.resolve(_clean(commune), _clean_code(postcode), _clean_code(insee))
    if scope.served and found.commune.department not in scope.served:
        found = replace(found, outside_served=True)
    return found


def _clean(value: str | None) -> str | None:
    value = value.strip() if value is not None else None
    return value or None


def _clean_code(value: str | None) -> str | None:
    return _clean(value.replace(" ", "").upper()) if value is not None else None


class _Resolver:
    def __init__(
        self, gazetteer: Gazetteer, scope: HomeScope, territories: Territories | None
    ) -> None:
        self.g = gazetteer
        self.index = gazetteer._index
        self.scope = scope
        self.served: AbstractSet[int] = self.index.rows_in_departments(scope.served)
        self.mine: AbstractSet[int] = self._territory_rows(scope, territories)
        tiers = [("territory", self.mine)] if self.mine else []
        self.tiers: list[tuple[str, AbstractSet[int]]] = [*tiers, ("served", self.served)]

    def _territory_rows(self, scope: HomeScope, territories: Territories | None
                        ) -> AbstractSet[int]:
        if all(commission is None for _, commission in scope.territories):
            return self.index.rows_in_departments([d for d, _ in scope.territories])
        rows: set[int] = set()
        for department, commission in scope.territories:
            in_department = self.index.rows_in_departments([department])
            if commission is None:
                rows |= in_department
                continue
            if territories is None:
                raise GeoError("a commission territory needs the territories table")
            members = territories.communes_of(commission)
            rows |= {r for r in in_department if self.g.communes[r].insee in members}
        return rows

    def row(self, commune: Commune) -> int:
        return self.g.index_of(commune.insee)

    # ---- entry ---------------------------------------------------------------------------------

    def resolve(self, commune: str | None, postcode: str | None, insee: str | None) -> Resolution:
        if insee is not None:
            return Resolution(self.g.resolve(postcode=postcode, insee=insee), insee, "insee")
        if commune is not None:
            code = commune.replace(" ", "").upper()
            if _CODE.match(code):
                if postcode is None or postcode == code:
                    return self.code(code)
                found = self.g.resolve(postcode=postcode, insee=code)
                return Resolution(found, code, "code_insee")
            if postcode is not None or not self.scope.served:
                return Resolution(self.g.resolve(commune, postcode), commune, "name_postcode")
            return self.name(commune)
        if postcode is not None:
            return self.postcode(postcode)
        raise UnknownCommune("", [], "no commune name, postcode or INSEE code given")

    # ---- codes ---------------------------------------------------------------------------------

    def code(self, code: str) -> Resolution:
        rows = self.g._postcode_rows(code)
        insee_row = self.g._row.get(code, self.g._former_code.get(code))
        if not rows:
            if insee_row is not None:
                return Resolution(self.g.communes[insee_row], code, "code_insee")
            raise UnknownCommune(
                code, self.g._postcodes.near(code), "neither a postcode nor an INSEE code"
            )
        try:
            found = self.postcode(code)
        except SharedPostcode as exc:
            if insee_row is None or insee_row in rows:
                raise
            also = Suggestion(self.g.communes[insee_row], 100.0, f"INSEE code {code}")
            raise SharedPostcode(code, [*exc.candidates, also], str(exc.args[0])) from None
        if insee_row is not None and insee_row != self.row(found.commune):
            found = replace(found, also_insee=self.g.communes[insee_row])
        return found

    def postcode(self, postcode: str) -> Resolution:
        rows = self.g._postcode_rows(postcode)  # largest population first
        if not rows:
            raise UnknownCommune(postcode, self.g._postcodes.near(postcode), "unknown postcode")
        communes = self.g.communes
        if len(rows) == 1:
            return Resolution(communes[rows[0]], postcode, "postcode")
        mine = [r for r in rows if r in self.mine]
        if len(mine) == 1:
            return Resolution(communes[mine[0]], postcode, "postcode", "territory", len(rows))
        pool = mine or rows
        total = sum(communes[r].population for r in pool)
        largest = communes[pool[0]].population
        if total > 0 and largest >= POPULATION_SHARE * total:
            return Resolution(communes[pool[0]], postcode, "postcode", "population", len(pool),
                              share=largest / total)
        ordered = pool + [r for r in rows if r not in pool]
        candidates = [
            Suggestion(communes[r], 100.0,
                       f"postcode {postcode}" + (", caller's territory" if r in self.mine else ""))
            for r in ordered
        ]
        detail = f"postcode {postcode} is shared by {len(rows)} communes"
        if mine:
            detail += f", {len(mine)} of them in the caller's territories"
        raise SharedPostcode(postcode, candidates, detail)

    # ---- names ---------------------------------------------------------------------------------

    def name(self, name: str) -> Resolution:
        key = normalise_name(name)
        exact = self.index.exact(key)
        for tier, rows in self.tiers:
            hits = [s for s in exact if self.row(s.commune) in rows]
            if len(hits) == 1:
                return Resolution(hits[0].commune, name, "exact",
                                  tier if len(exact) > 1 else None, len(exact))
            if hits:
                where = "caller's territories" if tier == "territory" else "served départements"
                others = [s for s in exact if s not in hits]
                raise AmbiguousCommune(
                    name, _by_population(hits) + _by_population(others),
                    f"{len(hits)} communes have this name in the {where}",
                )
            prefix = self.index.unique_prefix(key, rows) if key else None
            if prefix:
                return Resolution(prefix[0].commune, name, "prefix", tier)
        for tier, rows in self.tiers:
            best = self.index.fuzzy_best(key, rows)
            if best and len(best) == 1:
                return Resolution(best[0].commune, name, "fuzzy", tier)
            if best:
                raise AmbiguousCommune(name, _by_population(best), "close to several homonyms")
        if exact:
            close = [s for s in self.suggestions(key)
                     if self.row(s.commune) in self.served
                     and s.score >= NOT_SERVED_SUGGESTION_SCORE]
            outside = _by_population(exact)
            keep = min(len(outside), 2)
            raise NotServed(name, [s.commune for s in outside], self.scope.served,
                            close[: _LIMIT - keep] + outside[:keep])
        raise UnknownCommune(name, self.suggestions(key))

    def suggestions(self, key: str) -> list[Suggestion]:
        """Up to 5 communes for a name: the served départements' closest names first (the
        caller's territories first on equal scores), then the rest of France."""
        served = self.index.fuzzy(key, self.served, 2 * _LIMIT) if self.served else []
        served.sort(key=lambda s: (-s.score, self.row(s.commune) not in self.mine,
                                   -s.commune.population))
        found = {s.commune.insee: s for s in served[:_LIMIT]}
        for s in self.index.fuzzy(key, None, _LIMIT):
            found.setdefault(s.commune.insee, s)
        return list(found.values())[:_LIMIT]


def _by_population(found: Sequence[Suggestion]) -> list[Suggestion]:
    return sorted(found, key=lambda s: (-s.commune.population, s.commune.insee))

