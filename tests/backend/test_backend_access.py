"""Backend access cases not covered by test_backend_api: writes naming another customer's invoice or dispute,
and the audit log's export for a date range (JSON and CSV), on SQLite and PostgreSQL."""

import csv
import io

import pytest

from tests.backend.conftest import STAFF
from tests.backend.test_backend_api import line_items

pytestmark = pytest.mark.usefixtures("demo")


def access(case: str, expected: str):
    return pytest.mark.trust_case(area="access", case=case, expected=expected)


@access("Backend credit or dispute for customer B naming customer A's invoice, dispute or line item",
        "404, nothing written, nothing of A's revealed")
def test_writes_naming_another_customers_invoice_or_dispute_are_not_found(client):
    alice_invoice = client.get("/api/v1/customers/1/invoices").json()[0]["number"]
    alice_line = line_items(client, 1)[0]["id"]
    alice_dispute = client.post(
        "/api/v1/customers/1/disputes", json={"line_item_id": alice_line, "reason": "mine"}
    )
    assert alice_dispute.status_code == 201
    for n, reference in enumerate(
        (
            {"invoice_number": alice_invoice}, {"dispute_id": alice_dispute.json()["id"]},
            {"line_item_id": alice_line},
        )
    ):
        credit = client.post(
            "/api/v1/customers/2/credits", headers={**STAFF, "Idempotency-Key": f"cross-ref-{n:04d}"},
            json={"amount": "1.00", "reason": "not theirs", **reference},
        )
        assert credit.status_code == 404, (reference, credit.text)
        assert "Alice" not in credit.text
    ben_disputes = client.get("/api/v1/customers/2/disputes").json()
    assert all(d["customer_id"] == 2 for d in ben_disputes)
    assert alice_dispute.json()["id"] not in [d["id"] for d in ben_disputes]
    assert [e for e in client.get("/api/v1/audit-log").json() if e["action"] == "write.credit"] == []


@access("Backend audit log exported for a date range (JSON and CSV)",
        "only entries in [start, end); CSV cells never run as spreadsheet formulas")
def test_the_audit_log_exports_a_date_range_as_json_and_csv(client):
    fee = line_items(client, 4, name="installation")[0]
    credit = client.post(
        "/api/v1/customers/4/credits", headers={**STAFF, "Idempotency-Key": "export-credit-01"},
        json={"amount": "5.00", "reason": '=HYPERLINK("http://evil.example")', "line_item_id": fee["id"]},
    )
    assert credit.status_code == 201
    written = [e for e in client.get("/api/v1/audit-log").json() if e["action"] == "write.credit"]
    assert len(written) == 1
    moment = written[0]["at"]
    window = {"start": moment, "end": "2100-01-01T00:00:00Z"}
    as_json = client.get("/api/v1/audit-log", params=window).json()
    assert "write.credit" in [e["action"] for e in as_json]
    before = client.get("/api/v1/audit-log", params={"start": "2000-01-01T00:00:00Z", "end": moment}).json()
    assert "write.credit" not in [e["action"] for e in before]  # end is exclusive

    exported = client.get("/api/v1/audit-log", params={**window, "format": "csv"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert exported.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert list(rows[0]) == ["id", "at", "actor", "action", "resource", "customer_id", "reason", "details"]
    row = next(r for r in rows if r["action"] == "write.credit")
    assert row["actor"] == "specialist:dana" and row["customer_id"] == "4"
    assert row["reason"] == "'=HYPERLINK(\"http://evil.example\")"  # text, not a formula
    assert [r["id"] for r in rows] == [str(e["id"]) for e in as_json][: len(rows)]
    bad = client.get("/api/v1/audit-log", params={"format": "xlsx"})
    assert bad.status_code == 422 and bad.json()["error"]["message"].startswith("query.format")


@access("Verification: the third wrong answer (which locks) and every attempt while locked",
        "each reaches the backend's audit log (`verify.locked`), not only the two earlier failures")
def test_the_verification_lock_and_every_attempt_while_locked_are_audited(client):
    wrong = {"account_number": "ACC-100003", "postal_code": "00000"}
    right_by_phone = {"account_number": "ACC-100003", "phone_last4": "0000"}
    assert client.post("/api/v1/verifications", json=wrong).json()["verified"] is False
    assert client.post("/api/v1/verifications", json=wrong).json()["verified"] is False
    statuses = [client.post("/api/v1/verifications", json=body).status_code
                for body in (wrong, wrong, right_by_phone)]
    assert statuses == [423, 423, 423]
    entries = [e for e in client.get("/api/v1/audit-log").json() if e["resource"] == "account:ACC-100003"][
        ::-1
    ]
    assert [e["action"] for e in entries] == ["verify.failure"] * 2 + ["verify.locked"] * 3
    locked = entries[2:]
    assert [e["details"]["method"] for e in locked] == ["postal_code", "postal_code", "phone_last4"]
    assert len({e["details"]["locked_until"] for e in locked}) == 1 and locked[0]["details"]["locked_until"]
