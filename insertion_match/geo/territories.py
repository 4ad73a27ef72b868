"""Commission RSA / DTAS territories: which commission a commune belongs to.

The Orne is divided into four Commissions RSA (one per DTAS, "direction territoriale d'action
sociale"): ``COMMISSIONS_61``. A PLICS action serves its commission's territory (DESIGN §11).
Essonne and Sarthe are listed with no commission: their actions are département-wide or list
their communes.

The table is ``data/geo/territories.csv`` (``insee_code,department,commission,method``), built by
``python -m insertion_match.geo.build_territories``; ``data/geo/TERRITORIES.md`` says how. The
``method`` column says how reliable each row is:

- ``document``: the source documents (PLICS / PTI, seeds 000–002) place the commune in that
  commission (its seat, or a place where that commission's PLICS delivers an action);
- ``nearest_seat``: no document says; the commune is given to the commission whose seat is
  nearest as the crow flies. An approximation of the real DTAS map, which is not available
  offline;
- ``none``: a département without commissions in the catalogue.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from insertion_match.geo.errors import GeoError, UnknownCommission

TERRITORIES_CSV = Path("geo") / "territories.csv"
COLUMNS = ("insee_code", "department", "commission", "method")
METHODS = ("document", "nearest_seat", "none")

#: The Orne's Commissions RSA / DTAS, spelt as the documents and the catalogue spell them.
COMMISSIONS_61: tuple[str, ...] = ("Alençon", "Argentan", "Flers", "Mortagne-au-Perche")
#: All known commissions, by département.
COMMISSIONS: Mapping[str, tuple[str, ...]] = {"61": COMMISSIONS_61}


class Territories:
    """Commune (current INSEE code) → Commission RSA, and back.

    INSEE codes are taken as given: resolve former codes through ``Gazetteer.by_insee`` first.
    """

    def __init__(self, table: pd.DataFrame) -> None:
        missing = [c for c in COLUMNS if c not in table.columns]
        if missing:
            raise GeoError(f"territories table lacks columns {missing}")
        known = {c for names in COMMISSIONS.values() for c in names}
        bad = table[~table["commission"].isin(known | {""}) | ~table["method"].isin(METHODS)]
        if len(bad):
            raise GeoError(f"territories table has unknown commissions or methods: {bad.head()}")
        self._commission: dict[str, str] = {}
        self._method: dict[str, str] = {}
        self._department: dict[str, str] = {}
        members: dict[str, set[str]] = defaultdict(set)
        for insee, department, commission, method in table[list(COLUMNS)].itertuples(index=False):
            self._department[insee] = department
            self._method[insee] = method
            if commission:
                self._commission[insee] = commission
                members[commission].add(insee)
        self._members = {name: frozenset(members.get(name, ())) for name in sorted(known)}

    @classmethod
    def from_csv(cls, path: Path) -> Territories:
        try:
            table = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise GeoError(f"cannot read {path}: {exc}") from exc
        return cls(table)

    @classmethod
    def load(cls, data_dir: Path) -> Territories:
        """Load ``data_dir / geo / territories.csv`` (``data_dir`` = the repository's data/)."""
        return cls.from_csv(data_dir / TERRITORIES_CSV)

    def commission_of(self, insee: str) -> str | None:
        """The commission of the commune; None outside divided départements or if unknown."""
        return self._commission.get(insee)

    def communes_of(self, commission: str) -> frozenset[str]:
        """INSEE codes of the commission's communes; ``UnknownCommission`` for a wrong name."""
        try:
            return self._members[commission]
        except KeyError:
            raise UnknownCommission(commission, tuple(self._members)) from None

    def method_of(self, insee: str) -> str | None:
        """How the row was assigned (``METHODS``), None if the commune is not in the table."""
        return self._method.get(insee)

    def department_of(self, insee: str) -> str | None:
        return self._department.get(insee)

    def __contains__(self, insee: object) -> bool:
        return insee in self._department

    def __len__(self) -> int:
        return len(self._department)
