"""Schemathesis against the OpenAPI schema, in-process (ASGI): no request may end in a 5xx,
and every answer is what the schema says (issue 9): a documented status code, the documented
content type (``application/problem+json`` for errors), a body and headers matching the
documented schema (timestamps with their UTC offset included).

Bounded and reproducible: every operation gets ``IM_FUZZ_EXAMPLES`` positive (valid by the
schema) and as many negative (invalid) cases, derandomised, with an admin key. The test prints
the number of cases run, of server errors and of answers that break the contract.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.python.asgi import shutdown_lifespans

from insertion_match.service import db
from insertion_match.service.app import create_app
from tests.conftest import make_settings

EXAMPLES = int(os.environ.get("IM_FUZZ_EXAMPLES", "10"))  # CI (.ci/run): 100
#: What every answer is checked for, besides not being a 5xx.
CONTRACT = [status_code_conformance, content_type_conformance, response_schema_conformance,
            response_headers_conformance]


def _fuzz(operation, mode: GenerationMode, key: str, cases: Counter, errors: list,
          drift: list) -> None:
    """Run up to EXAMPLES derandomised cases of one operation in one generation mode."""

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:
        response = case.call(headers={"X-API-Key": key})
        cases[operation.label] += 1
        if response.status_code >= 500:
            errors.append(f"{operation.label}: {response.status_code} {response.text[:200]}")
        try:
            case.validate_response(response, checks=[not_a_server_error, *CONTRACT])
        except Exception as exc:  # noqa: BLE001  (a FailureGroup: record it, go on)
            drift.append(f"{operation.label} {mode.value} {response.status_code}: "
                         f"{str(exc).strip()[:400]}")

    try:
        run()
    except Unsatisfiable:  # nothing to make invalid (e.g. no parameter at all)
        if mode is GenerationMode.POSITIVE:
            raise


@pytest.mark.fuzz
def test_schemathesis_finds_no_server_error(tmp_path, database_url, capsys):
    engine = db.make_engine(database_url)
    try:  # the key is made before start-up, as an operator would with `keys create`
        key = db.create_api_key(db.init_db(engine), "schemathesis", "admin", []).key
    finally:
        engine.dispose()
    app = create_app(make_settings(tmp_path, database_url))
    cases: Counter[str] = Counter()
    server_errors: list[str] = []
    drift: list[str] = []
    try:
        # Schemathesis runs the app's start-up (lifespan) itself and keeps it running.
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [result.ok() for result in schema.get_all_operations()]
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _fuzz(operation, mode, key, cases, server_errors, drift)
    finally:
        shutdown_lifespans()  # closes the app's database connections before the test ends
    total = sum(cases.values())
    with capsys.disabled():
        print(f"\nschemathesis: {total} cases over {len(operations)} operations "
              f"({EXAMPLES} positive + {EXAMPLES} negative max each), "
              f"{len(server_errors)} server error(s), {len(drift)} answer(s) off the schema")
    assert len(operations) >= 10
    assert total >= len(operations) * EXAMPLES
    assert not server_errors, server_errors[:10]
    assert not drift, "\n\n".join(drift[:10])
