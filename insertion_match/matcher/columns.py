"""Column names shared by the frames of learning and evaluation (STYLE 8: names are constants).

A *candidates* frame has one row per (person, eligible action): ``PERSON_ID``, ``ITEM_ID``,
``MONTH`` and the design columns of ``matcher.scoring`` (plus the descriptive columns below). A
*logged* frame is a candidates frame restricted to what was proposed, with ``RANK`` and the
outcome (``STATUS``, ``LABEL``...). Frames are checked at the door by :func:`require_columns`.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

PERSON_ID = "person_id"
ITEM_ID = "item_id"
MONTH = "month"
DEPARTMENT = "department"
CATEGORY = "category"
MAIN_FREIN = "main_frein"
TRAVEL_MINUTES = "travel_minutes"
ITINERANT = "itinerant"
PLACES = "places"
RANK = "rank"
SCORE = "score"
PROBABILITY = "probability"
#: 1 when the proposal ended in a positive exit (sortie dynamique, emploi durable included).
LABEL = "success"
STATUS = "status"
REFUSAL_REASON = "refusal_reason"
EXIT_KIND = "exit_kind"
MODEL_NAME = "model_name"
MODEL_VERSION = "model_version"
SYNTHETIC = "synthetic"


class FrameError(ValueError):
    """A frame lacks columns a function needs."""


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise FrameError(f"{what}: missing column(s) {', '.join(missing)}")
