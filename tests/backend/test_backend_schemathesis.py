"""Fuzz every operation of the OpenAPI spec against the ASGI app: whatever comes in, never a 500
(schemathesis' Python API through tests/support/fuzz.py)."""
import pytest
import schemathesis

from tests.backend.conftest import API_TOKEN
from tests.support.fuzz import assert_no_server_errors, operations

pytestmark = pytest.mark.usefixtures("demo")

HEADER_SETS = {
    "service": {"Authorization": f"Bearer {API_TOKEN}"},
    "staff": {
        "Authorization": f"Bearer {API_TOKEN}", "X-Actor": "specialist:fuzz",
        "Idempotency-Key": "fuzz-key-0001",
    },
}


@pytest.mark.trust_case(
    area="bad input",
    case="Schemathesis: every operation of the backend OpenAPI spec, with the service token and as staff",
    expected="no 5xx; every answer a JSON 2xx/4xx",
)
@pytest.mark.parametrize("who", HEADER_SETS)
def test_no_server_errors(app, who):
    found = operations(schemathesis.openapi.from_asgi("/openapi.json", app))
    assert len(found) >= 15
    # 20 cases per operation, x 2 header sets x 2 databases (was 30: ~45 s of CI time for little more cover)
    assert_no_server_errors(found, headers=HEADER_SETS[who], max_examples=20)
