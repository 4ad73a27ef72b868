"""Start-up guard for learned model artefacts: load a model file, or say why not.

A model artefact ``models/NAME.joblib`` comes with its model card ``models/NAME.card.json``,
which holds at least ``{"name", "version", "format_version", "sha256"}``. :func:`load_model`
refuses the artefact, with a reason a person can act on, when:

- the file or its card is missing, or the card is not valid JSON;
- ``format_version`` is not one this code reads (:data:`SUPPORTED_FORMATS`) — *incompatible*;
- the file's SHA-256 differs from the card's — *corrupt* (checked **before** unpickling, so a
  truncated or tampered file is never deserialised);
- deserialising fails, or the caller's ``validate`` rejects the object — *corrupt* or
  *incompatible*.

It never raises for a bad artefact: the service then serves with the transparent scorer and
flags it (``model.fallback`` in responses and in ``/readyz``).
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Artefact formats this code can read (the ``format_version`` of model cards).
SUPPORTED_FORMATS: frozenset[int] = frozenset({1})


@dataclass(frozen=True)
class ModelLoad:
    """The outcome: ``model`` and ``card`` when accepted, else ``refused`` (the reason)."""

    path: Path
    model: Any | None = None
    card: dict[str, Any] = field(default_factory=dict)
    refused: str | None = None

    @property
    def ok(self) -> bool:
        return self.refused is None


def card_path(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(path.suffix) + ".card.json")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _deserialise(path: Path) -> Any:
    try:
        import joblib
    except ImportError:  # joblib comes with scikit-learn; plain pickle otherwise
        with path.open("rb") as fh:
            return pickle.load(fh)
    return joblib.load(path)


def load_model(
    path: Path,
    validate: Callable[[Any, dict[str, Any]], None] | None = None,
    supported_formats: Collection[int] = SUPPORTED_FORMATS,
) -> ModelLoad:
    """Load ``path`` after checking its card; ``validate(model, card)`` may raise to refuse."""
    if not path.is_file():
        return ModelLoad(path, refused=f"model file not found: {path.name}")
    card_file = card_path(path)
    try:
        card = json.loads(card_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ModelLoad(path, refused=f"model card not found: {card_file.name}")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return ModelLoad(path, refused=f"model card unreadable ({type(exc).__name__})")
    if not isinstance(card, dict):
        return ModelLoad(path, refused="model card is not a JSON object")
    fmt = card.get("format_version")
    if fmt not in supported_formats:
        return ModelLoad(path, card=card, refused=(
            f"incompatible model: format_version {fmt!r}, this version reads "
            f"{sorted(supported_formats)}"))
    expected = card.get("sha256")
    if not isinstance(expected, str) or file_sha256(path) != expected.lower():
        return ModelLoad(path, card=card,
                         refused="corrupt model file: its SHA-256 differs from the model card's")
    try:
        model = _deserialise(path)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a bad file
        return ModelLoad(path, card=card,
                         refused=f"corrupt model file: cannot be read ({type(exc).__name__})")
    if validate is not None:
        try:
            validate(model, card)
        except Exception as exc:  # noqa: BLE001 - the validator's word, whatever it raises
            return ModelLoad(path, card=card, refused=f"incompatible model: {exc}")
    return ModelLoad(path, model=model, card=card)
