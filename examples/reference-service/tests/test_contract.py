"""schemathesis over the running service's /openapi.json: no 5xx, every answer as declared."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from .conftest import Served


@pytest.mark.slow
def test_generated_requests_get_no_server_error_and_conforming_answers(served: Served) -> None:
    """Every operation, with a clerk's token: never a 5xx, every answer matches the schema."""
    schema = schemathesis.openapi.from_url(served.url + "/openapi.json")
    headers = {"Authorization": f"Bearer {served.token()}"}
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # Err: an invalid schema

        @given(case=operation.as_strategy())
        @settings(
            max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def call(case: schemathesis.Case) -> None:  # type: ignore[type-arg]
            case.call_and_validate(
                base_url=served.url,
                headers=headers,
                checks=[not_a_server_error, response_schema_conformance],
            )

        call()
        checked.append(operation.label)
    assert "POST /orders" in checked
    assert "POST /auth/token" in checked
