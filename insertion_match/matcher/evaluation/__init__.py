"""Offline evaluation of match quality (DESIGN §7): metrics, baselines, runs, report.

- ``metrics``: NDCG@k, recall@k, MAP, coverage, calibration, capacity, travel, frein coverage —
  pure functions on frames, tested on tiny hand-checked cases;
- ``bootstrap``: seeded person-level confidence intervals (paired for differences);
- ``baselines``: random, popularity, distance-only, transparent and learned scores;
- ``run``: :func:`run.evaluate_rankings`, generic over where candidates and labels come from;
- ``store``: runs as JSON files, trends, regression checks;
- ``report``: the self-contained HTML report with its plots.

Nothing here reads a hidden truth: the synthetic world passes its oracle in as one more method.
"""
