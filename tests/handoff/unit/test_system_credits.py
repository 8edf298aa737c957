"""handoff/specialists/system_credits.py: the supervisor lists the account check's credits for local dates,
reverses one with a reason and changes the bot's limits, as themselves (X-Actor) in the backend and in the
console's audit log; the backend's own answer models (backend/system_credits/schemas.py) fit the console's;
the backend's refusals and outages are clear errors (issue 18)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from backend.system_credits.schemas import LimitsOut, LimitValues, ReversalOut, SystemCreditOut
from handoff.clients.backend import BackendError
from handoff.errors import ServiceError
from handoff.models import AuditEntry
from handoff.specialists import system_credits
from handoff.specialists.system_credit_schemas import (
    Limits,
    LimitsIn,
    ReverseResponse,
    SystemCreditsResponse,
)
from tests.handoff.unit.support import FakeBackend, add_staff

CREATED = datetime(2026, 11, 30, 14, 5, tzinfo=UTC)
DEFAULTS = LimitValues(max_credit=Decimal("100.00"), max_credit_12_months=Decimal("150.00"),
                       min_confidence=0.9)


def credit(reversal: ReversalOut | None = None) -> dict[str, Any]:
    """What the backend answers, built with its own model: a field renamed there fails here."""
    return SystemCreditOut(
        credit_id=41, customer_id=4, invoice_number="INV-2026-000412", dispute_id=7, amount=Decimal("49.00"),
        currency="USD", reason="Dispute 7 accepted: duplicate installation fee",
        issued_by="system:account-check",
        created_at=CREATED, reversal=reversal,
    ).model_dump(mode="json")


class OversightBackend(FakeBackend):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.refusal: BackendError | None = None
        self.reversed: ReversalOut | None = None
        self.limits = LimitsOut(**DEFAULTS.model_dump(), source="settings", updated_by=None, updated_at=None,
                                defaults=DEFAULTS)

    def _call(self, name: str, **call: Any) -> None:
        self.calls.append((name, call))
        if self.refusal:
            raise self.refusal

    async def list_system_credits(self, **call: Any) -> dict[str, Any]:
        self._call("list", **call)
        return {"start": call["start"], "end": call["end"], "credits": [credit(self.reversed)]}

    async def reverse_system_credit(self, **call: Any) -> dict[str, Any]:
        self._call("reverse", **call)
        if self.reversed is None:  # like the backend: one reversal, whatever the number of requests
            self.reversed = ReversalOut(credit_id=42, amount=Decimal("-49.00"), reversed_by=call["actor"],
                                        reason=call["reason"], created_at=CREATED)
        return credit(self.reversed)

    async def account_check_limits(self, **call: Any) -> dict[str, Any]:
        self._call("limits", **call)
        return self.limits.model_dump(mode="json")

    async def set_account_check_limits(self, **call: Any) -> dict[str, Any]:
        self._call("set_limits", **call)
        body = call["body"]
        self.limits = LimitsOut(max_credit=Decimal(body["max_credit"]),
                                max_credit_12_months=Decimal(body["max_credit_12_months"]),
                                min_confidence=body["min_confidence"], source="override",
                                updated_by=call["actor"], updated_at=CREATED, defaults=DEFAULTS)
        return self.limits.model_dump(mode="json")


@pytest.fixture
def backend() -> OversightBackend:
    return OversightBackend()


def audit_entries(services: Any, action: str) -> list[AuditEntry]:
    return services.db.run_sync(lambda session: list(session.scalars(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))))


async def test_the_supervisor_lists_and_reverses_a_system_credit(services, backend):
    sam = add_staff(services, "sam", role="supervisor")
    listed = await system_credits.list_credits(services=services, staff=sam, start=date(2026, 11, 1),
                                               end=date(2026, 11, 30))
    answer = SystemCreditsResponse.model_validate(listed)
    assert [(c.credit_id, c.amount, c.reversal) for c in answer.credits] == [(41, "49.00", None)]
    assert backend.calls == [("list", {"start": "2026-11-01T00:00:00+00:00",
                                       "end": "2026-12-01T00:00:00+00:00", "actor": "supervisor:sam"})]

    for _ in range(2):  # twice (a double click): the backend reverses once, both answer that reversal
        done = await system_credits.reverse(services=services, staff=sam, credit_id=41,
                                            reason="Two installations were ordered")
        reversal = ReverseResponse.model_validate({"ok": True, "credit": done}).credit.reversal
        assert reversal is not None and (reversal.credit_id, reversal.amount, reversal.reversed_by) == (
            42, "-49.00", "supervisor:sam")
    reverse_calls = [call for name, call in backend.calls if name == "reverse"]
    assert reverse_calls[0] == {"credit_id": 41, "reason": "Two installations were ordered",
                                "idempotency_key": "console-reverse:41", "actor": "supervisor:sam"}
    entries = audit_entries(services, "reverse_system_credit")
    assert entries and entries[0].actor == "supervisor:sam" and entries[0].target == "credit:41"
    assert entries[0].details == {"reason": "Two installations were ordered", "amount": "49.00",
                                  "customer_id": 4}


async def test_refusals_and_outages_are_clear_errors(services, backend):
    sam = add_staff(services, "sam", role="supervisor")
    with pytest.raises(ServiceError) as bad_range:
        await system_credits.list_credits(services=services, staff=sam, start=date(2026, 11, 30),
                                          end=date(2026, 11, 1))
    assert bad_range.value.status_code == 422 and bad_range.value.code == "bad_range"
    backend.refusal = BackendError(status_code=404, code="not_found",
                                   message="No credit 9 issued by the check.")
    with pytest.raises(ServiceError) as missing:
        await system_credits.reverse(services=services, staff=sam, credit_id=9, reason="wrong")
    assert (missing.value.status_code, missing.value.message) == (404, "No credit 9 issued by the check.")
    assert audit_entries(services, "reverse_system_credit") == []
    backend.refusal = BackendError(status_code=503, code="backend_unavailable", message="Not reachable.")
    with pytest.raises(ServiceError) as down:
        await system_credits.limits(services=services, staff=sam)
    assert down.value.status_code == 502 and down.value.message == "Not reachable."


async def test_the_supervisor_lowers_the_bots_limit(services, backend):
    sam = add_staff(services, "sam", role="supervisor")
    shown = Limits.model_validate(await system_credits.limits(services=services, staff=sam))
    assert (shown.source, shown.max_credit, shown.defaults.max_credit) == ("settings", "100.00", "100.00")
    wanted = LimitsIn(max_credit=Decimal("20.00"), max_credit_12_months=Decimal("150.00"),
                      min_confidence=0.95, reason="Too many duplicate credits this week")
    answer = await system_credits.set_limits(services=services, staff=sam, body=wanted)
    changed = Limits.model_validate(answer)
    assert (changed.source, changed.max_credit, changed.min_confidence, changed.updated_by) == (
        "override", "20.00", 0.95, "supervisor:sam")
    assert backend.calls[-1] == ("set_limits", {"body": {
        "max_credit": "20.00", "max_credit_12_months": "150.00", "min_confidence": 0.95,
        "reason": "Too many duplicate credits this week"}, "actor": "supervisor:sam"})
    [entry] = audit_entries(services, "change_bot_limits")
    assert entry.actor == "supervisor:sam" and entry.details["max_credit"] == "20.00"
