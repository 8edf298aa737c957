"""Schemathesis through its Python API (operation strategies + hypothesis), not its pytest plugin, whose
collection hooks do not work with this pytest version. One helper for every service's OpenAPI fuzz test."""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error


def operations(schema) -> list:
    return [result.ok() for result in schema.get_all_operations()]


def assert_no_server_errors(operations: Iterable, *, headers: dict, max_examples: int = 30) -> None:
    """Fuzz each operation with `headers` added to every case; the first 5xx fails, naming the operation."""
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=max_examples, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def fuzz(case) -> None:
            case.headers = {**(case.headers or {}), **headers}
            case.call_and_validate(checks=[not_a_server_error])

        try:
            fuzz()
        except Exception as exc:
            raise AssertionError(f"{operation.method.upper()} {operation.path}: {exc}") from exc
