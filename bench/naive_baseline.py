"""The naive reference: the same job (rank one person's offers) written the obvious way with
pandas and geopy, kept to say how far the engine is from it (bench/bench_scale.py).

What it does, per person: a pandas bounding-box filter on latitude / longitude around home
(the crow-fly reach of the person's maximum time at 75 km/h), then the great-circle distance
of every remaining offer with ``geopy.distance.great_circle`` (row by row), a travel time by
the person's fastest own mode, the walls (travel, licence B exigé, atypical hours), and a
simple additive score with pandas column operations (same ROME code / same ROME prefix,
skills words, reach, durable contract), the top 10 per kind by score.

It does less than the engine (no ROME v3 / domaine proximity, no levers, no diversity term,
no French reasons, no childcare or training walls): the ratio printed by the benchmark
flatters the baseline, not the engine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
from geopy.distance import great_circle
from sqlalchemy import text
from sqlalchemy.engine import Engine

SPEED_KMH = {"walk": 4.5, "bike": 15.0, "two_wheeler": 35.0, "car": 75.0,
             "public_transport": 25.0}
KINDS = ("job", "volunteering", "immersion", "internship")


def load_offers(engine: Engine) -> pd.DataFrame:
    """The stored offers as one DataFrame (read once; not timed per person)."""
    rows = []
    with engine.connect() as conn:
        for oid, kind, rome, expires, doc in conn.execute(text(
                "SELECT id, kind, rome_code, expires_at, document FROM opportunities")):
            d = json.loads(doc) if isinstance(doc, str) else doc
            loc = d["location"]
            rows.append({
                "id": oid, "kind": kind, "rome": rome or "", "expires": expires,
                "lat": loc["lat"], "lon": loc["lon"],
                "contract": d.get("contract_type") or "",
                "months": d.get("contract_months") or 0.0,
                "b_required": any(x.get("category") == "B" and x.get("required")
                                  for x in d.get("licences", [])),
                "atypical": bool(d.get("atypical_hours")),
                "skills": " ".join(d.get("skills", [])).lower(),
            })
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class NaivePerson:
    lat: float
    lon: float
    max_minutes: float
    modes: tuple[str, ...]
    has_b: bool
    atypical_ok: bool
    targets: tuple[str, ...]  # ROME codes
    skills: tuple[str, ...]


def rank(offers: pd.DataFrame, p: NaivePerson, kinds=KINDS, limit: int = 10) -> pd.DataFrame:
    radius = p.max_minutes / 60 * 75.0 + 5
    dlat = radius / 111.0
    dlon = radius / (111.0 * np.cos(np.radians(p.lat)))
    near = offers[(offers.lat.between(p.lat - dlat, p.lat + dlat))
                  & (offers.lon.between(p.lon - dlon, p.lon + dlon))
                  & offers.kind.isin(kinds)].copy()
    near["km"] = near.apply(lambda r: great_circle((p.lat, p.lon), (r.lat, r.lon)).km, axis=1)
    speed = max(SPEED_KMH[m] for m in p.modes) if p.modes else SPEED_KMH["walk"]
    near["minutes"] = 5 + 60 * np.maximum(near.km, 1.5) * 1.3 / speed
    ok = near.minutes <= p.max_minutes
    if not p.has_b:
        ok &= ~near.b_required
    if not p.atypical_ok:
        ok &= ~near.atypical
    near = near[ok]
    score = 0.15 * (1 - near.minutes / p.max_minutes)
    score += 0.30 * near.rome.isin(p.targets)
    score += 0.15 * near.rome.str[:3].isin([t[:3] for t in p.targets])
    for word in {w for s in p.skills for w in s.lower().split() if len(w) > 3}:
        score += 0.02 * near.skills.str.contains(word, regex=False)
    score += 0.05 * ((near.contract == "CDI") | ((near.contract == "CDD") & (near.months >= 6)))
    near["score"] = score
    return (near.sort_values("score", ascending=False).groupby("kind", sort=False)
            .head(limit))
