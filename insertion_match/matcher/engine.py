"""The matching engine: reference data, catalogue index and scorer, loaded once.

Both the HTTP service and the CLI hold one `MatchingEngine`; it is immutable, so a catalogue
change builds a new engine and swaps it in (no request ever sees a half-built index). The same
goes for the opportunities (job, volunteering, internship, immersion offers), which change more
often: an offer import builds a new engine with :meth:`MatchingEngine.with_opportunities`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from insertion_match.domain import Action, BeneficiaryProfile, ItemKind, Opportunity
from insertion_match.features.action_index import ActionIndex, build_indexes
from insertion_match.features.opportunity_index import OfferTable, OpportunityIndex
from insertion_match.features.profile import person_context
from insertion_match.features.rome import RomeReferential
from insertion_match.geo import (
    Commune,
    Gazetteer,
    HomeScope,
    Resolution,
    Territories,
    normalise_name,
)
from insertion_match.matcher.errors import UnsupportedKind
from insertion_match.matcher.opportunity_scoring import OpportunityScorer
from insertion_match.matcher.recommend import recommend_actions
from insertion_match.matcher.recommend_all import recommend_all
from insertion_match.matcher.results import Recommendation
from insertion_match.matcher.scoring import Scorer, TransparentScorer

SUPPORTED_KINDS = frozenset(k.value for k in ItemKind)

#: A caller's territories as data: (département, commission or None) pairs; empty = none named.
CallerTerritories = Sequence[tuple[str, str | None]]


def action_search_text(action: Action) -> str:
    return normalise_name(f"{action.title} {action.operator or ''} {action.description_fr}")


@dataclass(frozen=True)
class MatchingEngine:
    gazetteer: Gazetteer
    territories: Territories
    actions: tuple[Action, ...]
    indexes: dict[str, ActionIndex]
    scorer: Scorer
    by_id: dict[str, Action]
    #: Normalised "title operator description" of each action, for text search (built once).
    search_text: tuple[str, ...] = ()
    rome: RomeReferential | None = None
    #: Every offer (read lazily from the table's compressed documents), (département, id) order.
    opportunities: Sequence[Opportunity] = ()
    opportunity_indexes: dict[str, OpportunityIndex] = field(default_factory=dict)
    #: The columnar offers (arrays, documents, spatial grid); the indexes are views of it.
    opportunity_table: OfferTable | None = None
    opportunity_scorer: OpportunityScorer = field(default_factory=OpportunityScorer)
    #: The départements of the catalogue (sorted): where a bare commune name is looked for
    #: after the caller's territories.
    served_departments: tuple[str, ...] = ()

    @classmethod
    def build(
        cls,
        actions: Sequence[Action],
        gazetteer: Gazetteer,
        territories: Territories,
        scorer: Scorer | None = None,
        rome: RomeReferential | None = None,
        opportunities: Sequence[Opportunity] = (),
    ) -> MatchingEngine:
        engine = cls(
            gazetteer=gazetteer,
            territories=territories,
            actions=tuple(actions),
            indexes=build_indexes(actions, gazetteer),
            scorer=scorer or TransparentScorer(),
            by_id={a.id: a for a in actions},
            search_text=tuple(action_search_text(a) for a in actions),
            rome=rome,
            served_departments=tuple(sorted({a.territory.department for a in actions})),
        )
        return engine.with_opportunities(opportunities) if opportunities else engine

    @classmethod
    def load_reference(cls, data_dir: Path) -> tuple[Gazetteer, Territories]:
        return Gazetteer.load(data_dir), Territories.load(data_dir)

    def action(self, action_id: str) -> Action | None:
        return self.by_id.get(action_id)

    def home_scope(self, caller_territories: CallerTerritories = ()) -> HomeScope:
        """Where a home is looked for: the caller's territories, then the served départements."""
        return HomeScope(tuple((d, c) for d, c in caller_territories), self.served_departments)

    def locate_home(
        self, profile: BeneficiaryProfile, caller_territories: CallerTerritories = ()
    ) -> Resolution:
        """The home commune of ``profile`` as the caller means it, and how it was understood
        (``geo.resolution``). Raises geo errors for an unknown, unserved or ambiguous one."""
        home = profile.home
        return self.gazetteer.resolve_home(home.commune, home.postcode, home.insee,
                                           self.home_scope(caller_territories), self.territories)

    def locate(
        self, profile: BeneficiaryProfile, caller_territories: CallerTerritories = ()
    ) -> Commune:
        """The home commune of ``profile`` (see :meth:`locate_home`)."""
        return self.locate_home(profile, caller_territories).commune

    def with_actions(self, actions: Sequence[Action]) -> MatchingEngine:
        return replace(MatchingEngine.build(actions, self.gazetteer, self.territories, self.scorer),
                       **self._opportunity_state())

    def _opportunity_state(self) -> dict:
        return {"rome": self.rome, "opportunities": self.opportunities,
                "opportunity_indexes": self.opportunity_indexes,
                "opportunity_table": self.opportunity_table,
                "opportunity_scorer": self.opportunity_scorer}

    def with_opportunities(self, opportunities: Sequence[Opportunity] | OfferTable
                           ) -> MatchingEngine:
        """The same engine serving ``opportunities`` (indexes built here, before any swap);
        an :class:`OfferTable` (e.g. loaded from a snapshot) is served as it is."""
        if self.rome is None:
            raise ValueError("an engine serving opportunities needs the ROME referential")
        table = opportunities if isinstance(opportunities, OfferTable) else OfferTable.build(
            opportunities, self.rome)
        return replace(self, opportunities=table.docs, opportunity_table=table,
                       opportunity_indexes=table.indexes())

    def with_opportunities_added(self, opportunities: Sequence[Opportunity]) -> MatchingEngine:
        """The same engine with ``opportunities`` added (same id: replaced): only the new
        offers are turned into arrays, the others' columns and documents are copied."""
        if self.opportunity_table is None:
            return self.with_opportunities(opportunities)
        assert self.rome is not None
        return self.with_opportunities(self.opportunity_table.with_added(opportunities,
                                                                         self.rome))

    def opportunity(self, opportunity_id: str) -> tuple[OpportunityIndex, int] | None:
        """The index holding an offer and its position there, or None."""
        table = self.opportunity_table
        if table is not None:
            pos = int(table.positions_of([opportunity_id])[0])
            if pos < 0:
                return None
            index = self.opportunity_indexes[str(table.department[pos])]
            return index, pos - index.start
        for index in self.opportunity_indexes.values():
            found = index.position(opportunity_id)
            if found is not None:
                return index, found
        return None

    def with_scorer(self, scorer: Scorer) -> MatchingEngine:
        """The same engine serving ``scorer`` (a learned model, or the transparent scorer)."""
        return replace(self, scorer=scorer)

    def recommend(
        self,
        profile: BeneficiaryProfile,
        kinds: Sequence[str] = ("action",),
        limit: int = 10,
        include_excluded: bool = False,
        today: date | None = None,
        caller_territories: CallerTerritories = (),
    ) -> Recommendation:
        """Rank what the person is eligible for, per requested kind (``matcher/recommend_all``
        says how several kinds share one answer). Raises geo errors for an unknown home.

        The home is resolved within the caller's territories, then the served départements
        (:meth:`locate_home`); with none given (command line, admin), the served départements.
        """
        unsupported = sorted(set(kinds) - SUPPORTED_KINDS)
        if unsupported:
            raise UnsupportedKind(unsupported)
        ctx = person_context(profile, self.gazetteer, self.territories,
                             self.home_scope(caller_territories))
        kinds = list(dict.fromkeys(kinds))
        if kinds == ["action"]:
            return recommend_actions(ctx, self.indexes, self.scorer, limit, include_excluded)
        return recommend_all(ctx, kinds, self.indexes, self.scorer, self.opportunity_indexes,
                             self.rome, self.opportunity_scorer, limit, include_excluded, today)
