"""The calibration table: each target statistic of ``targets.py`` beside the generated value.

Population statistics are measured on ``world.people``; participant and outcome statistics on
``world.logs`` (what the historical policy proposed and what happened), because that is what the
documents measured (e.g. "94% of *participants* at or below niveau 3"). A *participant* is a
logged proposal that was entered (final status ``abandoned`` or ``exited``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from types import SimpleNamespace

import numpy as np
import pandas as pd

from insertion_match.matcher import columns as C
from insertion_match.synthetic.targets import DTAS_SHARES, SARTHE_ITEMS, TARGETS, Target
from insertion_match.synthetic.world import SyntheticWorld

LEFT = ("exited", "abandoned")
CCAS_COMMUNE = "61001"  # the CCAS d'Alençon serves the commune of Alençon
CCAS_FREINS = ("logement", "sante", "finances", "mobilite", "qualification", "recherche_emploi")
PRIMO_PRO = ("flers-etape-primo-professionnelle", "alencon-irfa-primo-professionnelle")

Measure = tuple[float, int]  # (value, number of units it is measured on)


def _share(mask: pd.Series | np.ndarray, among: pd.Series | np.ndarray | None = None) -> Measure:
    mask = np.asarray(mask, dtype=bool)
    among = np.ones(mask.size, dtype=bool) if among is None else np.asarray(among, dtype=bool)
    n = int(among.sum())
    return (float(mask[among].mean()) if n else float("nan"), n)


def _statistics(world: SyntheticWorld) -> dict[str, Callable[[], Measure]]:
    p = world.people
    orne = p.department == "61"
    sarthe = p.department == "72"
    t = p.commission
    prof = p.orientation == "professionnelle"
    isolated = p.family.isin(["single", "single_parent"])

    @cache
    def lg() -> SimpleNamespace:
        """The logs joined with the people (computed once, only when a statistic needs it)."""
        logs = world.logs.merge(p, on=C.PERSON_ID, suffixes=("", "_person"))
        return SimpleNamespace(
            logs=logs, entered=logs[C.STATUS].isin(LEFT), iae=logs[C.CATEGORY] == "iae",
            le3=logs.training_level.isin(["infra3", "3"]))

    ccas = p[(p.insee == CCAS_COMMUNE) & (p.orientation == "sociale")]
    frein_counts = pd.Series({k: int((ccas[f"frein_{k}"] >= 2).sum()) for k in CCAS_FREINS})
    stats: dict[str, Callable[[], Measure]] = {
        "households.orne_share": lambda: _share(orne),
        "households.sarthe_share": lambda: _share(sarthe),
        "sex.women.sarthe": lambda: _share(p.sex == "f", sarthe),
        "sex.women.flers": lambda: _share(p.sex == "f", t == "Flers"),
        "sex.women.alencon": lambda: _share(p.sex == "f", t == "Alençon"),
        "sex.women.orne": lambda: _share(p.sex == "f", orne),
        "age.over35.flers": lambda: _share(p.age > 35, t == "Flers"),
        "age.26_45.alencon": lambda: _share((p.age >= 26) & (p.age <= 45), t == "Alençon"),
        "family.isolated.flers": lambda: _share(isolated, t == "Flers"),
        "family.single.alencon": lambda: _share(p.family == "single", t == "Alençon"),
        "family.single_parent.alencon": lambda: _share(p.family == "single_parent",
                                                       t == "Alençon"),
        "family.isolated.orne": lambda: _share(isolated, orne),
        "rsa_months.over36.flers": lambda: _share(p.rsa_months > 36, t == "Flers"),
        "rsa_months.over36.alencon": lambda: _share(p.rsa_months > 36, t == "Alençon"),
        "rsa_months.over36.orne": lambda: _share(p.rsa_months > 36, orne),
        "orientation.professionnelle.orne": lambda: _share(prof, orne),
        "orientation.flers_minus_orne": lambda: (
            _share(prof, t == "Flers")[0] - _share(prof, orne)[0], int((t == "Flers").sum())),
        "orientation.socioprofessionnelle": lambda: _share(p.orientation == "socioprofessionnelle"),
        "training.le3.flers_participants": lambda: _share(
            lg().le3, lg().entered & lg().logs[C.ITEM_ID].str.startswith("flers-")),
        "training.ge4.alencon_participants": lambda: _share(
            ~lg().le3, lg().entered & lg().logs[C.ITEM_ID].str.startswith("alencon-")),
        "car.social_participants": lambda: _share(
            lg().logs.car, lg().entered & (lg().logs[C.CATEGORY] == "insertion_sociale")
            & (lg().logs[C.DEPARTMENT] == "61")),
        "car.independent_workers": lambda: _share(p.car, p.independent_worker),
        "outcome.iae.dynamic_exit_rate": lambda: _share(lg().logs[C.LABEL] == 1,
                                                        lg().iae & lg().entered),
        "outcome.iae.lasting_job_rate": lambda: _share(
            lg().logs[C.EXIT_KIND] == "emploi_durable", lg().iae & lg().entered),
        "outcome.iae.dropout_rate": lambda: _share(lg().logs[C.STATUS] == "abandoned",
                                                   lg().iae & lg().entered),
        "outcome.primo_pro.positive_exit_rate": lambda: _share(
            lg().logs[C.LABEL] == 1, lg().entered & lg().logs[C.ITEM_ID].isin(PRIMO_PRO)),
    }
    # (defaults bind each loop's value: a closure alone would see the last one)
    for short, item in SARTHE_ITEMS.items():
        def left(item: str = item) -> pd.Series:
            return lg().entered & (lg().logs[C.ITEM_ID] == item)

        def dynamic_exit(left: Callable[[], pd.Series] = left) -> Measure:
            return _share(lg().logs[C.LABEL] == 1, left())

        def lasting_job(left: Callable[[], pd.Series] = left) -> Measure:
            return _share(lg().logs[C.EXIT_KIND] == "emploi_durable", left())

        stats[f"outcome.sarthe.{short}.dynamic_exit_rate"] = dynamic_exit
        stats[f"outcome.sarthe.{short}.lasting_job_rate"] = lasting_job
    for name in DTAS_SHARES:
        def dtas_share(name: str = name) -> Measure:
            return _share(t == name, orne)

        stats[f"households.dtas.{name}"] = dtas_share
    total = int(frein_counts.sum())
    for key in CCAS_FREINS:
        def ccas_share(key: str = key) -> Measure:
            return (frein_counts[key] / total if total else float("nan"), len(ccas))

        stats[f"freins.ccas_alencon.{key}"] = ccas_share
    return stats


def calibration_table(world: SyntheticWorld,
                      targets: tuple[Target, ...] = TARGETS) -> pd.DataFrame:
    """One row per target: ``key, statistic, target, generated, difference, tolerance, within,
    n, kind, source``. ``within`` is False when NaN (nothing to measure on)."""
    stats = _statistics(world)
    rows = []
    for target in targets:
        value, n = stats[target.key]()
        diff = value - target.value
        rows.append({
            "key": target.key, "statistic": target.statistic, "target": target.value,
            "generated": value, "difference": diff, "tolerance": target.tolerance,
            "within": bool(np.isfinite(diff) and abs(diff) <= target.tolerance), "n": n,
            "kind": target.kind, "source": target.source,
        })
    table = pd.DataFrame(rows)
    table.attrs[C.SYNTHETIC] = True
    return table


def format_table(table: pd.DataFrame) -> str:
    """The table as aligned text, for the terminal."""
    lines = [(f"{'statistic (synthetic world vs documents)':<58} {'target':>7} {'generated':>9} "
              f"{'tol':>5} {'n':>6}  ok  kind")]
    for r in table.itertuples():
        lines.append(f"{r.key:<58} {r.target:>7.3f} {r.generated:>9.3f} {r.tolerance:>5.2f} "
                     f"{r.n:>6}  {'yes' if r.within else 'NO ':<3} {r.kind}")
    ok = int(table.within.sum())
    lines.append(f"{ok}/{len(table)} statistics within tolerance (SYNTHETIC data)")
    return "\n".join(lines)
