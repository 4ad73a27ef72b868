"""Rebuild ``data/geo/territories.csv`` from the gazetteer and the documented memberships.

Run ``python -m insertion_match.geo.build_territories [--data-dir data] [--check]``. The output
is deterministic (rows sorted by INSEE code, fixed evidence table, crow-fly distances from the
commune centroids), so the file can be regenerated and diffed. ``--check`` writes nothing and
exits 1 if the file on disk differs from what would be written.

Every Orne commune gets a commission: the documented one (``DOCUMENTED`` below, method
``document``), else the commission whose seat is nearest (method ``nearest_seat``). Essonne and
Sarthe communes are written with an empty commission (method ``none``).
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from insertion_match.geo.distance import haversine_km
from insertion_match.geo.gazetteer import Gazetteer
from insertion_match.geo.territories import COLUMNS, COMMISSIONS_61, TERRITORIES_CSV

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "data"

#: Seat commune (INSEE) of each Orne commission.
SEATS_61: dict[str, str] = {
    "Alençon": "61001",
    "Argentan": "61006",
    "Flers": "61169",
    "Mortagne-au-Perche": "61293",
}

#: Memberships stated in the seeds: INSEE → (commission, commune name as checked, evidence).
#: Seeds: 000 = PLICS 2022 Commission RSA de Flers, 001 = PLICS 2022 d'Alençon, 002 = PTI Orne.
DOCUMENTED: dict[str, tuple[str, str, str]] = {
    "61001": ("Alençon", "Alençon", "seat of the DTAS / Commission RSA d'Alençon (000-002)"),
    "61006": ("Argentan", "Argentan", "seat of the DTAS / Commission RSA d'Argentan (000-002)"),
    "61169": ("Flers", "Flers", "seat of the DTAS / Commission RSA de Flers (000-002)"),
    "61293": (
        "Mortagne-au-Perche",
        "Mortagne-au-Perche",
        "seat of the DTAS / Commission RSA de Mortagne-au-Perche (000-002)",
    ),
    "61168": (
        "Flers",
        "La Ferté Macé",
        (
            "000: Flers PLICS trainers 'sur Flers et la Ferté Macé'; action 'Marchons pour le "
            "bien-être (La Ferté-Macé)'; CCAS de la Ferté-Macé among the Flers partners"
        ),
    ),
    "61145": (
        "Flers",
        "Domfront en Poiraie",
        (
            "000: Flers PLICS AI 'sur le bassin d'emploi de la Ferté-Macé et Domfront'; action "
            "'Marchons pour le bien-être (Domfront)'"
        ),
    ),
    "61391": (
        "Flers",
        "Saint-Georges-des-Groseillers",
        (
            "000: Flers PLICS chantier 'interventions ... sur la commune de Saint "
            "Georges-des-Groseillers'"
        ),
    ),
    "61464": (
        "Alençon",
        "Sées",
        (
            "001: Alençon PLICS 'Atelier Vie Quotidienne et Numérique (Sées)'; Coach Orne emploi "
            "'sur la DTAS d'Alençon, Sées et autres communes de la CUA'"
        ),
    ),
    "61141": (
        "Alençon",
        "Cuissai",
        "001: Alençon PLICS ACI 'jardin solidaire de Cuissai'",
    ),
}

OTHER_DEPARTMENTS = ("72", "91")


def build(gazetteer: Gazetteer) -> pd.DataFrame:
    """The territories table, rows sorted by INSEE code, columns ``territories.COLUMNS``."""
    if tuple(SEATS_61) != COMMISSIONS_61:
        raise AssertionError("SEATS_61 must list COMMISSIONS_61 in order")
    for insee, (commission, name, _) in DOCUMENTED.items():
        actual = gazetteer.by_insee(insee).name
        if actual != name or commission not in COMMISSIONS_61:
            raise AssertionError(f"DOCUMENTED[{insee!r}] names {name!r}, gazetteer {actual!r}")
    orne = np.flatnonzero(gazetteer.departments == "61")
    seats = np.array([gazetteer.index_of(code) for code in SEATS_61.values()])
    distance = haversine_km(
        gazetteer.lat[orne][:, np.newaxis],
        gazetteer.lon[orne][:, np.newaxis],
        gazetteer.lat[seats],
        gazetteer.lon[seats],
    )
    nearest = np.argmin(distance, axis=1)
    rows = []
    for row, seat in zip(orne, nearest, strict=True):
        insee = str(gazetteer.insee_codes[row])
        if insee in DOCUMENTED:
            rows.append((insee, "61", DOCUMENTED[insee][0], "document"))
        else:
            rows.append((insee, "61", COMMISSIONS_61[seat], "nearest_seat"))
    others = np.flatnonzero(np.isin(gazetteer.departments, OTHER_DEPARTMENTS))
    rows += [
        (str(gazetteer.insee_codes[r]), str(gazetteer.departments[r]), "", "none") for r in others
    ]
    return pd.DataFrame(sorted(rows), columns=list(COLUMNS))


def to_csv_text(table: pd.DataFrame) -> str:
    buffer = io.StringIO()
    table.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    gazetteer = Gazetteer.load(args.data_dir)
    table = build(gazetteer)
    text = to_csv_text(table)
    target = args.data_dir / TERRITORIES_CSV
    counts = table.groupby(["department", "method"]).size()
    print(f"{len(table)} communes:\n{counts.to_string()}")
    print(table[table.commission != ""].groupby("commission").size().to_string())
    if args.check:
        same = target.exists() and target.read_text(encoding="utf-8") == text
        print(f"{target}: {'up to date' if same else 'DIFFERS'}")
        return 0 if same else 1
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
