"""Fuzz every operation of the OpenAPI spec against the ASGI app: whatever comes in, never a 500.

Uses schemathesis' Python API (operation strategies + hypothesis) rather than its pytest plugin, whose
collection hooks do not work with this pytest version.
"""
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.backend.conftest import API_TOKEN

pytestmark = pytest.mark.usefixtures("demo")

HEADER_SETS = {
    "service": {"Authorization": f"Bearer {API_TOKEN}"},
    "staff": {"Authorization": f"Bearer {API_TOKEN}", "X-Actor": "specialist:fuzz", "Idempotency-Key": "fuzz-key-0001"},
}


def _operations(app):  # noqa: ANN001, ANN202
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("who", HEADER_SETS)
def test_no_server_errors(app, who):  # noqa: ANN001
    operations = _operations(app)
    assert len(operations) >= 15
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case) -> None:  # noqa: ANN001
            case.headers = {**(case.headers or {}), **HEADER_SETS[who]}
            case.call_and_validate(checks=[not_a_server_error])

        try:
            fuzz()
        except Exception as exc:
            raise AssertionError(f"{operation.method.upper()} {operation.path}: {exc}") from exc
