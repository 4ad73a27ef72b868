"""The batch answer as Arrow rows: one row per person and item (and per excluded item).

The values are those of ``POST /v1/recommendations``'s ``items`` and ``excluded`` (the same
:class:`Recommendation`, read field by field), so a row says what the API answers.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from insertion_match.matcher.results import Recommendation

REASON = pa.struct([("code", pa.string()), ("label", pa.string()),
                    ("contribution", pa.float64())])
WARNING = pa.struct([("code", pa.string()), ("label", pa.string())])

#: The output schema (docs/batch.md describes each column).
SCHEMA = pa.schema([
    ("person_id", pa.string()),
    ("department", pa.string()),
    ("home_insee", pa.string()),
    ("kind", pa.string()),
    ("rank", pa.int32()),
    ("item_id", pa.string()),
    ("title", pa.string()),
    ("score", pa.float64()),
    ("reasons", pa.list_(REASON)),
    ("warnings", pa.list_(WARNING)),
    ("excluded", pa.bool_()),
    ("provider", pa.string()),
    ("commune", pa.string()),
    ("distance_km", pa.float64()),
    ("travel_mode", pa.string()),
    ("travel_minutes", pa.float64()),
    ("freins_addressed", pa.list_(pa.string())),
    ("model_name", pa.string()),
    ("model_version", pa.string()),
])


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def recommendation_rows(person_id: str, department: str,
                        result: Recommendation) -> list[dict[str, Any]]:
    """The rows of one person's answer: items (kind order, rank), then excluded items."""
    common = {"person_id": person_id, "department": department, "home_insee": result.home_insee,
              "model_name": result.model_name, "model_version": result.model_version}
    rows: list[dict[str, Any]] = [{
        **common, "kind": str(item.kind), "rank": int(item.rank), "item_id": item.id,
        "title": item.title, "score": float(item.score),
        "reasons": [{"code": r.code, "label": r.label, "contribution": float(r.contribution)}
                    for r in item.reasons],
        "warnings": [{"code": w.code, "label": w.label} for w in item.warnings],
        "excluded": False, "provider": item.provider, "commune": item.commune,
        "distance_km": _float(item.distance_km), "travel_mode": item.travel.mode,
        "travel_minutes": _float(item.travel.minutes),
        "freins_addressed": [str(f) for f in item.freins_addressed],
    } for item in result.items]
    rows.extend({
        **common, "kind": str(ex.kind), "rank": None, "item_id": ex.id, "title": ex.title,
        "score": None,
        "reasons": [{"code": r.code, "label": r.label, "contribution": None} for r in ex.reasons],
        "warnings": [], "excluded": True, "provider": None, "commune": None,
        "distance_km": None, "travel_mode": None, "travel_minutes": None,
        "freins_addressed": [],
    } for ex in result.excluded)
    return rows


def rows_table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=SCHEMA)
