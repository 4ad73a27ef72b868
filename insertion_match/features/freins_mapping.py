"""Map other referentials' codes onto the normative frein keys (DESIGN §4), as data.

``data/reference/freins_mapping.csv`` (``referential,code,label,frein,severity``) holds:

- ``carnet_de_bord_situation``: the 88 Carnet de bord "situations" (by id) → frein and a
  suggested severity (0 = an asset or a neutral fact, e.g. "Permis B", "Dispose d'un
  ordinateur": no frein);
- ``depart_parcours``: the 15 "atouts et freins" dimensions of Départ'Parcours (seed 003) →
  frein (the severity comes from the diagnostic itself);
- ``data_inclusion_thematique``: the data·inclusion v1 thématiques → the frein a service with
  that thématique addresses.

Imports from those referentials go through this table, so a département can correct a line
without touching code. Loading validates every frein key and severity.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from insertion_match.domain import FREINS
from insertion_match.features.errors import FeaturesError

MAPPING_CSV = Path("reference") / "freins_mapping.csv"
REFERENTIALS = ("carnet_de_bord_situation", "depart_parcours", "data_inclusion_thematique")


class MappingError(FeaturesError):
    """The mapping file is invalid, or a code is unknown to it."""


@dataclass(frozen=True)
class MappingRow:
    referential: str
    code: str
    label: str
    frein: str | None
    severity: int | None


class FreinsMapping:
    def __init__(self, rows: Iterable[MappingRow]) -> None:
        self.rows = tuple(rows)
        self._by_code = {(r.referential, r.code): r for r in self.rows}
        self._by_label = {(r.referential, _fold(r.label)): r for r in self.rows}

    @classmethod
    def load(cls, data_dir: Path) -> FreinsMapping:
        path = data_dir / MAPPING_CSV
        problems, rows = [], []
        with path.open(encoding="utf-8", newline="") as fh:
            for line, rec in enumerate(csv.DictReader(fh), start=2):
                ref, frein, sev = rec["referential"], rec["frein"] or None, rec["severity"]
                if ref not in REFERENTIALS:
                    problems.append(f"line {line}: unknown referential {ref!r}")
                if frein is not None and frein not in FREINS:
                    problems.append(f"line {line}: unknown frein {frein!r}")
                if sev not in ("", "0", "1", "2", "3"):
                    problems.append(f"line {line}: severity must be 0-3 or empty, got {sev!r}")
                    sev = ""
                rows.append(MappingRow(ref, rec["code"], rec["label"], frein,
                                       int(sev) if sev else None))
        if problems:
            raise MappingError(f"{path.name}: " + "; ".join(problems))
        return cls(rows)

    def lookup(self, referential: str, code_or_label: str) -> MappingRow:
        """The row for a code (or, failing that, an exact label, case/spacing-insensitive)."""
        row = self._by_code.get((referential, code_or_label)) or self._by_label.get(
            (referential, _fold(code_or_label))
        )
        if row is None:
            raise MappingError(f"{referential}: unknown code or label {code_or_label!r}")
        return row

    def freins_from_situations(self, situations: Iterable[str]) -> dict[str, int]:
        """Carnet de bord situations (ids or labels) → {frein: severity}, the worst per frein."""
        out: dict[str, int] = {}
        for situation in situations:
            row = self.lookup("carnet_de_bord_situation", situation)
            if row.frein is not None and row.severity:
                out[row.frein] = max(out.get(row.frein, 0), row.severity)
        return out

    def freins_from_depart_parcours(self, severities: Mapping[str, int]) -> dict[str, int]:
        """Départ'Parcours {dimension: severity 0-3} → {frein: severity}, the worst per frein."""
        out: dict[str, int] = {}
        for dimension, severity in severities.items():
            if not 0 <= int(severity) <= 3:
                raise MappingError(f"{dimension}: severity must be 0-3, got {severity!r}")
            row = self.lookup("depart_parcours", dimension)
            if row.frein is not None and severity:
                out[row.frein] = max(out.get(row.frein, 0), int(severity))
        return out

    def thematiques_for(self, frein: str) -> list[str]:
        """data·inclusion v1 thématiques whose services address ``frein`` (for exports)."""
        return [r.code for r in self.rows
                if r.referential == "data_inclusion_thematique" and r.frein == frein]


def _fold(text: str) -> str:
    return " ".join(text.replace("’", "'").lower().split())
