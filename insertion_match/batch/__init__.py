"""Batch matching of a whole caseload on Dask (``insertion-match batch``, docs/batch.md)."""

from insertion_match.batch.people import (
    FLAT_COLUMNS,
    FREIN_COLUMNS,
    JSON_COLUMNS,
    PeopleFileError,
    RowError,
    people_frame,
    profile_row,
    read_people_file,
)
from insertion_match.batch.run import BatchFailed, BatchOptions, BatchSummary, run_batch

__all__ = ["FLAT_COLUMNS", "FREIN_COLUMNS", "JSON_COLUMNS", "BatchFailed", "BatchOptions",
           "BatchSummary", "PeopleFileError", "RowError", "people_frame", "profile_row",
           "read_people_file", "run_batch"]
