"""Errors of the ``features`` package.

    FeaturesError
    ├── CatalogueError      the action catalogue is invalid (lists every problem)
    └── ProfileError        a profile cannot be turned into features
"""

from __future__ import annotations


class FeaturesError(Exception):
    """Base class of the errors raised by ``insertion_match.features``."""


class CatalogueError(FeaturesError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        shown = "\n".join(self.problems[:50])
        more = f"\n… et {len(self.problems) - 50} autre(s)" if len(self.problems) > 50 else ""
        # French: the CLI prints it (``recommend``) and the service logs it at start-up
        super().__init__(f"catalogue invalide ({len(self.problems)} problème(s)) :\n{shown}{more}")


class ProfileError(FeaturesError):
    pass
