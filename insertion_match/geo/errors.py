"""Errors raised by the ``geo`` package.

The tree::

    GeoError                      base of every error raised on purpose by geo/
    ├── UnknownCommune            no commune matches (carries ranked suggestions)
    │   └── NotServed             the name matches only communes outside the served départements
    ├── AmbiguousCommune          several communes match (carries ranked candidates)
    │   └── SharedPostcode        a postcode of several communes, none of them standing out
    ├── CoordinateError           a latitude or longitude is out of range
    └── UnknownCommission         a Commission RSA name that does not exist

Messages are in English and meant for developers and logs; the ``service`` package maps these
errors onto HTTP answers (an unknown or ambiguous commune is a 422 listing the suggestions) and
writes the French wording for users. Suggestions carry full ``Commune`` objects, so that the
caller can show name, postcode and département without another lookup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from insertion_match.geo.commune import Commune, Suggestion


class GeoError(Exception):
    """Base class of the errors of the geo package."""


def _describe(suggestions: Sequence[Suggestion]) -> str:
    return ", ".join(
        f"{s.commune.name} ({s.commune.insee}, {'/'.join(s.commune.postcodes) or 'no postcode'})"
        for s in suggestions
    )


class UnknownCommune(GeoError):
    """No commune matches ``query``; ``suggestions`` are the closest ones, best first (≤ 5)."""

    def __init__(self, query: str, suggestions: Sequence[Suggestion] = (), detail: str = ""):
        self.query = query
        self.suggestions: list[Suggestion] = list(suggestions)
        message = f"unknown commune {query!r}"
        if detail:
            message += f" ({detail})"
        if self.suggestions:
            message += f"; closest: {_describe(self.suggestions)}"
        super().__init__(message)


class AmbiguousCommune(GeoError):
    """Several communes match ``query``; ``candidates`` are ranked (largest population first)."""

    #: What the caller should give instead (English, in the message).
    ask = "give a name with its postcode, or an INSEE code"

    def __init__(self, query: str, candidates: Sequence[Suggestion], detail: str = ""):
        self.query = query
        self.candidates: list[Suggestion] = list(candidates)
        message = f"ambiguous commune {query!r}"
        if detail:
            message += f" ({detail})"
        message += f"; {self.ask}. Candidates: "
        message += _describe(self.candidates)
        super().__init__(message)


class NotServed(UnknownCommune):
    """A bare name that matches only communes outside the served départements.

    ``matches`` are those communes (largest first); ``served`` the départements searched first;
    ``suggestions`` the close names of the served départements, then ``matches``.
    """

    def __init__(
        self,
        query: str,
        matches: Sequence[Commune],
        served: Sequence[str],
        suggestions: Sequence[Suggestion] = (),
    ):
        self.matches: list[Commune] = list(matches)
        self.served = tuple(served)
        where = ", ".join(f"{c.name} ({c.department})" for c in self.matches)
        super().__init__(
            query, suggestions,
            f"no commune of this name in the served départements {', '.join(self.served)}; "
            f"only outside them: {where}",
        )


class SharedPostcode(AmbiguousCommune):
    """A postcode shared by several communes, none of which the caller's territories or the
    population single out: the caller must name the commune. ``candidates`` are the
    postcode's communes (those of the caller's territories first, then by population)."""

    ask = "give the commune's name with this postcode, or its INSEE code"

    def __init__(self, postcode: str, candidates: Sequence[Suggestion], detail: str = ""):
        self.postcode = postcode
        super().__init__(postcode, candidates, detail)


class CoordinateError(GeoError, ValueError):
    """A latitude is outside [-90, 90] or a longitude outside [-180, 180].

    The message names both values of the offending point, since the usual cause is a lat/lon
    swap.
    """

    def __init__(self, lat: float, lon: float, problem: str):
        self.lat = lat
        self.lon = lon
        super().__init__(
            f"{problem}: got lat={lat!r}, lon={lon!r} (were latitude and longitude swapped?)"
        )


class UnknownCommission(GeoError, KeyError):
    """A Commission RSA / DTAS name that is not in the territories table."""

    def __init__(self, name: str, known: Sequence[str]):
        self.name = name
        self.known = tuple(known)
        super().__init__(f"unknown commission {name!r}; known: {', '.join(self.known)}")

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0])
