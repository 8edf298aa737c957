"""Two tabs (and more) accept the same fix at once -> one dispute, one credit (PostgreSQL, real threads)."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.config import Settings
from backend.database import Database, make_engine
from backend.disputes.models import Credit, Dispute
from backend.main import create_app
from backend.seed.account_check_demo import seed_account_check_demo
from tests.backend import test_payments_concurrency
from tests.backend.conftest import API_TOKEN, TODAY

pytestmark = pytest.mark.postgres
own_postgres = test_payments_concurrency.own_postgres  # its fresh migrated, demo-seeded database
DAVID = 4


@pytest.fixture
def seeded_postgres(request: pytest.FixtureRequest) -> str:
    """The payments concurrency test's own database (demo seed), plus the account-check customers."""
    url: str = request.getfixturevalue("own_postgres")
    engine = make_engine(url)
    with Session(engine) as session:
        seed_account_check_demo(session, today=TODAY)
    engine.dispose()
    return url


@pytest.mark.parametrize("tabs", [2, 8])
def test_simultaneous_fixes_of_one_finding_issue_one_credit(seeded_postgres: str, tabs: int) -> None:
    app = create_app(
        Settings(BACKEND_DATABASE_URL=seeded_postgres, BACKEND_API_TOKEN=API_TOKEN), Database(seeded_postgres)
    )
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    with TestClient(app, headers=headers) as client:
        finding = client.get(f"/api/v1/customers/{DAVID}/findings").json()["findings"][0]
    assert finding["kind"] == "duplicate_charge"

    def accept(tab: int) -> tuple[int, int]:
        with TestClient(app, headers=headers) as client:
            response = client.post(
                f"/api/v1/customers/{DAVID}/findings/{finding['id']}/fix",
                headers={"X-Actor": f"bot:tab-{tab}", "Idempotency-Key": f"fix-tab-{tab:04d}"},
            )
            assert response.status_code in (200, 201), response.text
            return response.status_code, response.json()["credit"]["id"]

    with ThreadPoolExecutor(max_workers=tabs) as pool:
        answers = list(pool.map(accept, range(tabs)))
    assert sorted(status for status, _ in answers) == [200] * (tabs - 1) + [201], answers
    assert len({credit_id for _, credit_id in answers}) == 1
    engine = make_engine(seeded_postgres)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Credit)) == 1
        assert session.scalar(select(func.count()).select_from(Dispute)) == 1
    engine.dispose()
    with TestClient(app, headers=headers) as client:
        assert client.get(f"/api/v1/customers/{DAVID}/balance").json()["total_due"] == "94.00"
