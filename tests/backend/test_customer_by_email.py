"""GET /api/v1/customers/by-email (issue 19): inbound email matches a customer only by the address on file."""
import pytest
from sqlalchemy import select

from backend.audit.models import AuditLog
from tests.backend import factories
from tests.backend.conftest import STAFF

pytestmark = pytest.mark.usefixtures("demo")

ALICE = "alice.moreno@example.com"  # the demo seed's address on file for customer 1


def by_email(client, address: str, **kwargs):
    return client.get("/api/v1/customers/by-email", params={"address": address}, **kwargs)


def test_the_address_on_file_names_its_customer_trimmed_and_case_insensitively(client):
    assert client.get("/api/v1/customers/1").json()["email"] == ALICE
    for address in (ALICE, "Alice.Moreno@Example.COM", f"  {ALICE} "):
        response = by_email(client, address)
        assert response.status_code == 200, address
        assert response.json() == {"customer_id": 1}


def test_anything_but_the_exact_address_is_404_without_data(client):
    for address in ("alice.moreno+billing@example.com", "alicemoreno@example.com", "alice.moreno@example.co",
                    "nobody@example.com"):
        response = by_email(client, address)
        assert response.status_code == 404, address
        assert response.json()["error"]["code"] == "not_found"
        assert "Alice" not in response.text and "customer_id" not in response.text


def test_an_address_shared_by_two_customers_is_never_guessed(client, db_session):
    factories.CustomerFactory(email="shared@example.org")
    factories.CustomerFactory(email="SHARED@example.org ")
    db_session.flush()
    assert by_email(client, "shared@example.org").status_code == 404


def test_not_an_address_is_422_and_the_token_is_required(client):
    for address in ("", "alice", "Alice <alice.moreno@example.com>", "a@b", "a@@b.c", "x" * 250 + "@e.com",
                    "alice\x00@example.com", "al\x07ice@example.com"):
        response = by_email(client, address)
        assert response.status_code == 422, address
    assert client.get("/api/v1/customers/by-email").status_code == 422
    assert by_email(client, ALICE, headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_a_staff_read_is_audited_and_a_service_read_is_not(client, db_session):
    def reads() -> int:
        return len(db_session.scalars(select(AuditLog).where(AuditLog.action == "read")).all())

    before = reads()
    assert by_email(client, ALICE).status_code == 200
    assert reads() == before
    assert by_email(client, ALICE, headers=STAFF).status_code == 200
    assert reads() == before + 1
