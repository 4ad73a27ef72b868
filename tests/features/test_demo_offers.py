"""The embedded synthetic demo offers: in sync with their generator, labelled, plausible."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np

from insertion_match.features.demo_offers import DEMO_FILE, generate, write
from tests.conftest import DATA


def test_committed_file_is_what_the_seeded_generator_writes(gazetteer, rome, tmp_path):
    out = tmp_path / "offers.json"
    write(generate(gazetteer, rome), out)
    assert out.read_bytes() == (DATA / DEMO_FILE).read_bytes(), (
        "data/demo/offers_demo.json is stale: python -m insertion_match.features.demo_offers")
    other = generate(gazetteer, rome, seed=1)
    assert other["resultats"] != json.loads(out.read_text())["resultats"]


def test_small_and_clearly_synthetic(demo_offers):
    assert (DATA / DEMO_FILE).stat().st_size < 5_000_000
    raw = json.loads((DATA / DEMO_FILE).read_text(encoding="utf-8"))
    assert "SYNTHÉTIQUES" in raw["avertissement"]
    assert all(r["origine"] == "synthetic" for r in raw["resultats"])
    assert all(o.synthetic and o.source == "demo-synthetic" for o in demo_offers)
    assert all("démo" in (o.employer or "") for o in demo_offers)


def test_mix(demo_offers, gazetteer):
    kinds = Counter(o.kind for o in demo_offers)
    assert kinds["job"] >= 2000 and kinds["volunteering"] > 0 and kinds["immersion"] > 0
    assert Counter(o.location.department for o in demo_offers).keys() == {"61", "91"}
    jobs = [o for o in demo_offers if o.kind == "job"]
    contracts = Counter(o.contract_type for o in jobs)
    assert {"CDI", "CDD", "MIS"} <= contracts.keys()
    b_required = sum(any(lic.category == "B" and lic.required for lic in o.licences)
                     for o in jobs) / len(jobs)
    atypical = sum(bool(o.atypical_hours) for o in jobs) / len(jobs)
    part_time = sum((o.hours_per_week or 35) < 35 for o in jobs) / len(jobs)
    assert 0.05 < b_required < 0.4 and 0.2 < atypical < 0.8 and 0.2 < part_time < 0.7
    # Located in proportion to population: the offers per commune follow the population.
    per_commune = Counter(o.location.insee for o in jobs if o.location.department == "61")
    codes = [c for c in gazetteer.insee_codes if c.startswith("61")]
    population = np.array([gazetteer.by_insee(c).population for c in codes], dtype=float)
    offers = np.array([per_commune.get(c, 0) for c in codes], dtype=float)
    assert np.corrcoef(population, offers)[0, 1] > 0.9
    assert per_commune.most_common(1)[0][0] == "61001"  # Alençon, the largest town
