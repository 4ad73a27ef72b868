"""The matching engine: reference data, catalogue index and scorer, loaded once.

Both the HTTP service and the CLI hold one `MatchingEngine`; it is immutable, so a catalogue
change builds a new engine and swaps it in (no request ever sees a half-built index).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from insertion_match.domain import Action, BeneficiaryProfile
from insertion_match.features.action_index import ActionIndex, build_indexes
from insertion_match.features.profile import person_context
from insertion_match.geo import Commune, Gazetteer, Territories
from insertion_match.matcher.errors import UnsupportedKind
from insertion_match.matcher.recommend import recommend_actions
from insertion_match.matcher.results import Recommendation
from insertion_match.matcher.scoring import TransparentScorer

SUPPORTED_KINDS = frozenset({"action"})


@dataclass(frozen=True)
class MatchingEngine:
    gazetteer: Gazetteer
    territories: Territories
    actions: tuple[Action, ...]
    indexes: dict[str, ActionIndex]
    scorer: TransparentScorer
    by_id: dict[str, Action]

    @classmethod
    def build(
        cls,
        actions: Sequence[Action],
        gazetteer: Gazetteer,
        territories: Territories,
        scorer: TransparentScorer | None = None,
    ) -> MatchingEngine:
        return cls(
            gazetteer=gazetteer,
            territories=territories,
            actions=tuple(actions),
            indexes=build_indexes(actions, gazetteer),
            scorer=scorer or TransparentScorer(),
            by_id={a.id: a for a in actions},
        )

    @classmethod
    def load_reference(cls, data_dir: Path) -> tuple[Gazetteer, Territories]:
        return Gazetteer.load(data_dir), Territories.load(data_dir)

    def action(self, action_id: str) -> Action | None:
        return self.by_id.get(action_id)

    def locate(self, profile: BeneficiaryProfile) -> Commune:
        """The home commune of ``profile``. Raises geo errors for an unknown or ambiguous one."""
        home = profile.home
        return self.gazetteer.resolve(commune=home.commune, postcode=home.postcode, insee=home.insee)

    def with_actions(self, actions: Sequence[Action]) -> MatchingEngine:
        return MatchingEngine.build(actions, self.gazetteer, self.territories, self.scorer)

    def recommend(
        self,
        profile: BeneficiaryProfile,
        kinds: Sequence[str] = ("action",),
        limit: int = 10,
        include_excluded: bool = False,
    ) -> Recommendation:
        """Rank what the person is eligible for. Raises geo errors for an unknown home."""
        unsupported = sorted(set(kinds) - SUPPORTED_KINDS)
        if unsupported:
            raise UnsupportedKind(unsupported)
        ctx = person_context(profile, self.gazetteer, self.territories)
        return recommend_actions(ctx, self.indexes, self.scorer, limit, include_excluded)
