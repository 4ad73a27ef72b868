"""Model artefacts and their model cards (DESIGN §9: the card documents data, metrics, limits).

:func:`save_model` writes three files in ``directory``:

- ``STEM.joblib``: the pickled :class:`LearnedScorer`;
- ``STEM.card.json``: the machine-readable card (read at start-up by ``service/model_loading``:
  ``name``, ``version``, ``format_version``, ``sha256`` of the artefact, plus the design version and
  columns, the data window, the features and their weights, the metrics, the limits);
- ``STEM.md``: the same card for people.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn

from insertion_match.matcher.learning.scorer import MODEL_FORMAT, LearnedScorer
from insertion_match.matcher.scoring import BASE_COLUMNS, EXTENSION_COLUMNS

_TERM_OF = dict(BASE_COLUMNS + EXTENSION_COLUMNS)

DEFAULT_LIMITS: tuple[str, ...] = (
    ("Trained on SYNTHETIC outcomes (insertion_match/synthetic): its weights say what the "
     "synthetic world rewards, not what works for real people. Retrain on real prescriptions and "
     "outcomes (POST /v1/outcomes) before any real use."),
    ("Learned from what coaches proposed (a biased logging policy: near and familiar actions); "
     "actions rarely proposed have weakly estimated effects."),
    "Additive in logit space: interactions are only those of the documented extension columns.",
    ("It suggests; the référent decides (human oversight, EU AI Act high-risk use). Sex is never "
     "a feature; group fairness is monitored by `insertion-match evaluate`."),
)


@dataclass(frozen=True)
class ModelFiles:
    artefact: Path
    card: Path
    markdown: Path


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_card(scorer: LearnedScorer, *, data: dict[str, Any], metrics: dict[str, Any],
               hyper_parameters: dict[str, Any],
               limits: tuple[str, ...] = DEFAULT_LIMITS) -> dict[str, Any]:
    """The model card of ``scorer`` (``sha256`` is filled in by :func:`save_model`)."""
    return {
        "name": scorer.name,
        "version": scorer.version,
        "format_version": MODEL_FORMAT,
        "design_version": scorer.design_version,
        "synthetic": bool(data.get("synthetic", False)),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "estimator": type(scorer.estimator).__name__,
        "score": "logit of P(positive exit | proposed); contributions coef × value per column, "
                 "grouped by term, plus the intercept as the 'base' term",
        "columns": list(scorer.columns),
        "features": [{"column": c, "term": _TERM_OF[c], "coefficient": round(float(w), 6)}
                     for c, w in zip(scorer.columns, scorer.coef, strict=True)],
        "intercept": round(scorer.intercept, 6),
        "hyper_parameters": hyper_parameters,
        "data": data,
        "metrics": metrics,
        "limits": list(limits),
        "software": {"python": platform.python_version(), "scikit-learn": sklearn.__version__,
                     "numpy": np.__version__, "joblib": joblib.__version__},
        "sha256": None,
    }


def save_model(scorer: LearnedScorer, card: dict[str, Any], directory: Path,
               stem: str) -> ModelFiles:
    """Write the artefact, its JSON card (with the artefact's SHA-256) and its Markdown card."""
    directory.mkdir(parents=True, exist_ok=True)
    artefact = directory / f"{stem}.joblib"
    joblib.dump(scorer, artefact, compress=3)
    card = {**card, "sha256": sha256_of(artefact)}
    card_file = directory / f"{stem}.card.json"
    card_file.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    markdown = directory / f"{stem}.md"
    markdown.write_text(card_markdown(card, stem), encoding="utf-8")
    return ModelFiles(artefact=artefact, card=card_file, markdown=markdown)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def card_markdown(card: dict[str, Any], stem: str) -> str:
    """The card for people: what the model is, on which data, how good, and its limits."""
    data, metrics = card.get("data", {}), card.get("metrics", {})
    synthetic = " — **SYNTHETIC DATA**" if card.get("synthetic") else ""
    lines = [
        f"# Model card: {card['name']} {card['version']}{synthetic}", "",
        (f"Artefact `models/{stem}.joblib` (SHA-256 `{card.get('sha256')}`), card "
         f"`models/{stem}.card.json`; format {card['format_version']}, design version "
         f"{card['design_version']}; created {card['created_at']}."), "",
        "## What it is", "",
        f"{card['estimator']} (scikit-learn contract) over the extended design matrix of "
        "`insertion_match/matcher/scoring.py`. " + card["score"] + ". The reasons shown to a "
        "coach are these contributions, so they add up exactly to the score.", "",
        "## Data", "",
    ]
    lines += [f"- {k}: {_fmt(v)}" for k, v in data.items()]
    lines += ["", "## Metrics", ""]
    for section, values in metrics.items():
        if isinstance(values, dict):
            lines.append(f"- {section}: " + ", ".join(f"{k} {_fmt(v)}" for k, v in values.items()))
        else:
            lines.append(f"- {section}: {_fmt(values)}")
    lines += ["", "## Hyper-parameters", ""]
    lines += [f"- {k}: {_fmt(v)}" for k, v in card.get("hyper_parameters", {}).items()]
    lines += ["", "## Features and weights (logit per unit)", "",
              "| column | term | coefficient |", "|---|---|---|"]
    lines += [f"| `{f['column']}` | {f['term']} | {f['coefficient']:+.4f} |"
              for f in card["features"]]
    lines += [f"| (intercept) | base | {card['intercept']:+.4f} |", "", "## Limits", ""]
    lines += [f"- {limit}" for limit in card.get("limits", [])]
    lines += ["", "## Software", ""]
    lines += [f"- {k} {v}" for k, v in card.get("software", {}).items()]
    return "\n".join(lines) + "\n"
