"""A seeded, reproducible **synthetic** world for learning and offline evaluation (DESIGN §7).

There is no public outcome data for RSA matching, so the project ships a world to learn from and
to evaluate on. Everything it produces is labelled synthetic (``synthetic`` column or
``attrs["synthetic"]``, ``"synthetic": true`` in reports and model cards).

- ``targets``: the documented statistics the world is calibrated on, with sources and tolerances;
- ``population``: beneficiaries of the Orne, the Sarthe and the Essonne drawn to match them,
  with latent true needs of which their freins are a noisy diagnostic;
- ``logging_policy``: what coaches used to propose (near and familiar actions: biased on purpose);
- ``outcome_model``: the hidden truth (interactions) on true needs, ``data/action_effects.csv``
  (each action's effects read from the documents) and the real distance; it reads none of the
  scorer's terms; imported only by ``world``;
- ``world``: people × eligible actions through the real matcher front end, logs, truth;
- ``calibration``: the table of each target beside the generated value;
- ``experiment``: train and evaluate on a world (what ``insertion-match train|evaluate`` call).

Dependencies: ``synthetic → matcher → features → geo``; nothing in ``matcher`` imports this
package (the learners cannot read the truth).
"""
