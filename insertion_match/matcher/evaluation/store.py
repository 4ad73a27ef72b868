"""Evaluation runs as JSON files: store, list, trend, regression check.

One file per run, ``RUNS_DIR/<created_at>-<id>.json`` (``var/evaluations/`` by default, next to
the SQLite file): plain files, so periodic runs from cron or CI need no database and can be
archived or diffed. A run is the result of ``run.evaluate_rankings`` plus ``run_id`` and
``created_at``.

A *regression rule* names a flat metric key (:func:`run.flatten_metrics`, e.g.
``learned.ndcg@10``) and a threshold: the run regresses when the metric is worse than in the
previous stored run by more than the threshold ("worse" is lower, except for the metrics in
:data:`LOWER_IS_BETTER`).
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from insertion_match.matcher.evaluation.run import flatten_metrics

LOWER_IS_BETTER_SUFFIXES = ("brier", "median_travel_top5", "unreachable_top5",
                            "struck_top5", "struck_grade0", "struck_ineligible",
                            "personas_struck")
LOWER_IS_BETTER_PREFIXES = ("capacity_overflow",)


def lower_is_better(key: str) -> bool:
    metric = key.rsplit(".", 1)[-1]
    return metric.endswith(LOWER_IS_BETTER_SUFFIXES) or metric.startswith(LOWER_IS_BETTER_PREFIXES)


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, tuple | set):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _clean(value: Any) -> Any:
    """NaN and infinities become null (JSON has neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def save_run(result: dict[str, Any], runs_dir: Path, now: datetime | None = None) -> Path:
    """Write ``result`` with a new ``run_id`` and ``created_at``; return the file."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    created = (now or datetime.now(UTC)).astimezone(UTC)
    run_id = uuid.uuid4().hex[:8]
    document = {**result, "run_id": run_id, "created_at": created.isoformat(timespec="seconds")}
    path = runs_dir / f"{created.strftime('%Y%m%dT%H%M%SZ')}-{run_id}.json"
    text = json.dumps(_clean(json.loads(json.dumps(document, default=_json_default))),
                      indent=1, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def load_runs(runs_dir: Path) -> list[dict[str, Any]]:
    """Stored runs, oldest first (unreadable files are skipped, not fatal)."""
    runs = []
    for path in sorted(runs_dir.glob("*.json")) if runs_dir.is_dir() else []:
        try:
            run = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(run, dict) and "created_at" in run:
            run["_path"] = str(path)
            runs.append(run)
    return sorted(runs, key=lambda r: r["created_at"])


def trend(runs: list[dict[str, Any]], keys: list[str]) -> list[dict[str, Any]]:
    """One row per run: ``run_id``, ``created_at`` and the value of each key (None if absent)."""
    rows = []
    for run in runs:
        flat = flatten_metrics(run)
        rows.append({"run_id": run.get("run_id"), "created_at": run.get("created_at"),
                     **{k: flat.get(k) for k in keys}})
    return rows


@dataclass(frozen=True)
class Regression:
    key: str
    previous: float
    current: float
    threshold: float
    previous_run: str

    def describe(self) -> str:
        """French: the operator and the report read it (``RÉGRESSION : …``)."""
        direction = "a augmenté" if lower_is_better(self.key) else "a baissé"
        return (f"{self.key} {direction} de {self.previous:.4f} à {self.current:.4f} "
                f"(seuil {self.threshold}) depuis l'évaluation {self.previous_run}")


def check_regressions(current: dict[str, Any], previous: dict[str, Any] | None,
                      rules: list[tuple[str, float]]) -> list[Regression]:
    """The rules ``current`` breaks against ``previous`` (none without a previous run).

    Raises ``KeyError`` for a rule naming a metric the current run does not have.
    """
    now = flatten_metrics(current)
    for key, _ in rules:
        if key not in now:
            raise KeyError(f"métrique inconnue {key!r} ; métriques connues : "
                           f"{', '.join(sorted(now)[:12])}, …")
    if previous is None:
        return []
    before = flatten_metrics(previous)
    found = []
    for key, threshold in rules:
        old, new = before.get(key), now[key]
        if old is None or new is None:
            continue
        worse = (new - old) if lower_is_better(key) else (old - new)
        if worse > threshold:
            found.append(Regression(key, old, new, threshold, str(previous.get("run_id"))))
    return found
