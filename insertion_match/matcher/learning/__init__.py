"""Learning from outcomes: an additive, exactly explainable ranker.

- ``estimator``: :class:`AdditiveLogisticRegression`, a scikit-learn-contract classifier whose
  per-feature contributions are exact in logit space;
- ``scorer``: :class:`LearnedScorer`, the fitted estimator served like the transparent scorer
  (same ``score(features, max_minutes) -> Scored`` interface);
- ``training``: fit on logged outcomes, probability metrics;
- ``card``: save the artefact with its model card (JSON and Markdown).

Learners read logged outcomes only: nothing here imports ``insertion_match.synthetic``.
"""
