"""Errors of the ``matcher`` package.

    MatcherError
    └── UnsupportedKind     a requested item kind is not served yet
"""

from __future__ import annotations


class MatcherError(Exception):
    """Base class of the errors raised by ``insertion_match.matcher``."""


class UnsupportedKind(MatcherError):
    def __init__(self, kinds: list[str]) -> None:
        self.kinds = kinds
        super().__init__(f"kinds not served yet: {', '.join(kinds)}")
