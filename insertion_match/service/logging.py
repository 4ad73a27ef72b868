"""Structured (JSON lines) logging without personal data.

Only an allow-list of ``extra`` keys is written: method, path, status, timings, counts, error
class names. Anything else passed in ``extra`` (a profile, freins, a commune) is dropped, so a
careless call cannot leak personal or health data into the logs.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

ALLOWED_EXTRA = frozenset({
    "method", "path", "status", "ms", "actions", "departments", "error", "count", "kind",
})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in ALLOWED_EXTRA:
            if key in record.__dict__:
                entry[key] = record.__dict__[key]
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__  # class only: no values, no frames
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("insertion_match")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.propagate = False  # one line per record, whatever configured uvicorn before
    logging.getLogger("uvicorn.access").disabled = True  # our middleware logs without query strings
