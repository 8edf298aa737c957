"""The supervisor's report (handoff/specialists/stats.py, routes/supervisor.py, report_export.py) and the
readable audit log (audit_export.readable_entries): figures computed from real rows in a migrated database."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from handoff.clients.backend import BackendError
from handoff.errors import ServiceError
from handoff.models import Assignment, AuditEntry, Conversation, Message, StateChange
from handoff.specialists import audit_export, report_export
from handoff.specialists.bot_turns import BotTurn, classifier_for
from handoff.specialists.report_schemas import ReadableAuditLogResponse, ReportResponse
from handoff.specialists.routes import supervisor
from handoff.specialists.stats import conversation_report, percentile
from tests.handoff.unit.support import add_staff

DAY = date(2026, 3, 10)
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
ANSWER = "Your balance is $42.00, due on March 20."
FALLBACK = "Sorry, I didn't quite get that. Could you say it another way?"
ASK_ACCOUNT = "First I need to confirm who you are. What's your account number?"

DOMAIN = """
responses:
  utter_default:
    - text: "Sorry, I didn't quite get that. Could you say it another way?"
  utter_ask_account_number:
    - text: "First I need to confirm who you are. What's your account number?"
  utter_ask_payment_confirmed:
    - text: "To confirm: pay {amount} now with {method}?"
  utter_balance:
    - text: "Your balance is {total_due}."
"""


@pytest.fixture
def domain(tmp_path: Path) -> Path:
    path = tmp_path / "domain.yml"
    path.write_text(DOMAIN, encoding="utf-8")
    return path


def chat(services: Any, *, at: datetime, customer_id: int | None, turns: list[tuple[str, str]],
         name: str | None = "Customer", **fields: Any) -> str:
    """A conversation started at `at` with the messages `turns` [(sender, text)], one minute apart."""
    def insert(session: Any) -> str:
        values = {"state": "bot", "escalation_count": 0, **fields}
        conversation = Conversation(id=f"c{len(turns)}-{at.timestamp():.0f}-{customer_id}",
                                    customer_id=customer_id, customer_name=name, last_seq=len(turns),
                                    created_at=at, updated_at=at, **values)
        session.add(conversation)
        for seq, (sender, text) in enumerate(turns, start=1):
            session.add(Message(conversation_id=conversation.id, seq=seq, sender=sender, text=text,
                                created_at=at + timedelta(minutes=seq)))
        session.flush()
        return conversation.id
    return services.db.run_sync(insert)


def escalated(services: Any, *, at: datetime, customer_id: int, specialist_id: int | None, wait: int,
              handling: int, csat: int | None, reason: str = "dispute", left_queue: bool = False,
              team: str | None = "disputes") -> str:
    queued_at = at + timedelta(minutes=2)
    claimed = queued_at + timedelta(seconds=wait) if specialist_id else None
    done = claimed + timedelta(seconds=handling) if claimed else None
    conversation_id = chat(
        services, at=at, customer_id=customer_id,
        turns=[("customer", "I was charged twice"), ("bot", "One moment")],
        state="abandoned" if left_queue else "resolved", escalation_count=1, escalation_reason=reason,
        queued_at=queued_at, first_assigned_at=claimed, resolved_at=done, csat_score=csat,
        resolution_outcome=None if left_queue else "explained", team=team)

    def insert(session: Any) -> None:
        if left_queue:
            session.add(StateChange(conversation_id=conversation_id, from_state="queued",
                                    to_state="abandoned", actor="system",
                                    at=queued_at + timedelta(minutes=5)))
        if specialist_id:
            session.add(Assignment(conversation_id=conversation_id, specialist_id=specialist_id,
                                   started_at=claimed, ended_at=done, end_reason="resolved"))
    services.db.run_sync(insert)
    return conversation_id


def seed_day(services: Any) -> dict[str, int]:
    dana, erin = add_staff(services, "dana"), add_staff(services, "erin")
    hour = timedelta(hours=1)
    chat(services, at=NOON, customer_id=1, turns=[("customer", "balance?"), ("bot", ANSWER)])
    chat(services, at=NOON + hour, customer_id=2, turns=[("customer", "blorp"), ("bot", FALLBACK)])
    chat(services, at=NOON + 2 * hour, customer_id=None, turns=[("customer", "pay"), ("bot", ASK_ACCOUNT)])
    chat(services, at=NOON - 3 * hour, customer_id=3,
         turns=[("customer", "balance?"), ("bot", ASK_ACCOUNT), ("customer", "ACC-100003"), ("bot", ANSWER)])
    chat(services, at=NOON - hour, customer_id=3, turns=[("customer", "balance again?"), ("bot", ANSWER)])
    escalated(services, at=NOON, customer_id=6, specialist_id=dana.id, wait=60, handling=300, csat=5)
    escalated(services, at=NOON, customer_id=7, specialist_id=erin.id, wait=120, handling=600, csat=1,
              reason="request_human", team=None)  # escalated before teams existed: general's
    escalated(services, at=NOON, customer_id=8, specialist_id=None, wait=0, handling=0, csat=None,
              left_queue=True)
    # not counted: the day before, and a chat where the customer never wrote
    chat(services, at=NOON - timedelta(days=1), customer_id=9, turns=[("customer", "hi"), ("bot", ANSWER)])
    chat(services, at=NOON, customer_id=10, turns=[("bot", "Hi! How can I help?")])
    return {"dana": dana.id, "erin": erin.id}


def test_the_bot_turns_are_told_apart_by_the_domain_responses(domain):
    classify = classifier_for(domain).classify
    assert classify(ANSWER) is BotTurn.ANSWER
    assert classify(FALLBACK) is BotTurn.FALLBACK
    assert classify("To confirm: pay $75.00 now with Visa ending 4242?") is BotTurn.QUESTION
    assert classify("Your balance is $1.00.") is BotTurn.ANSWER  # a template that is not a question
    assert classifier_for(domain.parent / "missing.yml").classify(FALLBACK) is BotTurn.ANSWER


def test_containment_and_resolution_by_outcome_are_separate_figures(services, domain):
    seed_day(services)
    report = services.db.run_sync(conversation_report, start=DAY, end=DAY, timezone="UTC", domain_path=domain)
    overall = report["overall"]
    # 8 chats: 5 never escalated (containment 62.5%), but only 2 of them ended with an answer and no repeat
    # contact; the old "bot-only resolution" would have said 62.5%.
    assert {key: overall[key] for key in ("conversations", "contained", "containment_rate", "escalated",
                                          "resolved", "resolution_rate", "bot_resolved",
                                          "bot_resolution_rate")} == {
        "conversations": 8, "contained": 5, "containment_rate": 0.625, "escalated": 3, "resolved": 3,
        "resolution_rate": 0.375, "bot_resolved": 2, "bot_resolution_rate": 0.25}
    left = (overall["abandoned_in_queue"], overall["abandoned_mid_flow"], overall["repeat_contacts"])
    assert left == (1, 2, 1)
    assert (overall["wait_median_seconds"], overall["wait_p90_seconds"]) == (90.0, 120.0)
    assert (overall["handling_median_seconds"], overall["handling_p90_seconds"]) == (450.0, 600.0)
    assert (overall["csat_average"], overall["csat_responses"]) == (3.0, 2)
    assert report["csat_distribution"] == {"1": 1, "2": 0, "3": 0, "4": 0, "5": 1}
    assert [(r["reason"], r["label"], r["count"]) for r in report["escalations_by_reason"]] == [
        ("dispute", "Dispute", 2), ("request_human", "Asked for a person", 1)]
    people = {row["username"]: row for row in report["specialists"]}
    assert people["dana"]["display_name"] == "Dana" and people["dana"]["resolved"] == 1
    assert people["erin"]["resolved"] == 0  # rated 1: not resolved, whatever the specialist clicked
    assert people["erin"]["handling_median_seconds"] == 600.0
    teams = {row["team"]: row for row in report["teams"]}
    assert [row["label"] for row in report["teams"]] == ["Disputes", "Payments", "General billing"]
    assert {team: (row["conversations"], row["resolved"], row["abandoned_in_queue"],
                   row["wait_median_seconds"]) for team, row in teams.items()} == {
        "disputes": (2, 1, 1, 60.0), "payments": (0, 0, 0, None), "general": (1, 0, 0, 120.0)}
    assert set(report["definitions"]) >= {"containment", "resolution", "bot_resolution", "wait", "handling",
                                          "teams"}
    no_billing = [{**row, "credits_issued": None, "payments_taken": None} for row in report["specialists"]]
    ReportResponse.model_validate({**report, "specialists": no_billing, "billing": None,
                                   "billing_error": None})

    two_days = services.db.run_sync(conversation_report, start=DAY - timedelta(days=1), end=DAY,
                                    timezone="UTC", domain_path=domain)
    assert [(d["date"], d["conversations"], d["escalated"], d["resolved"]) for d in two_days["by_day"]] == [
        ("2026-03-09", 1, 0, 1), ("2026-03-10", 8, 3, 3)]


def test_local_dates_follow_the_time_zone(services, domain):
    # 02:00 UTC on the 11th is still the 10th in New York
    chat(services, at=datetime(2026, 3, 11, 2, 0, tzinfo=UTC), customer_id=1,
         turns=[("customer", "balance?"), ("bot", ANSWER)])
    in_new_york = services.db.run_sync(conversation_report, start=DAY, end=DAY, timezone="America/New_York",
                                       domain_path=domain)
    in_utc = services.db.run_sync(conversation_report, start=DAY, end=DAY, timezone="UTC", domain_path=domain)
    assert (in_new_york["overall"]["conversations"], in_utc["overall"]["conversations"]) == (1, 0)


def test_percentile_is_nearest_rank():
    assert percentile([], 0.9) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([float(n) for n in range(1, 11)], 0.9) == 9.0
    assert percentile([float(n) for n in range(1, 12)], 0.9) == 10.0


BILLING = {
    "start": "x", "end": "y",
    "credits": {"count": 2, "by_reason": [
        {"reason": "dispute", "currency": "USD", "count": 1, "amount": "49.00"},
        {"reason": "=HYPERLINK(\"http://evil\")", "currency": "USD", "count": 1, "amount": "0.10"}],
        "by_issuer": []},
    "disputes": {"opened": 1, "by_outcome": [{"outcome": "accepted, with note", "currency": "USD", "count": 1,
                                               "amount": "49.00"}], "by_resolver": []},
    "payments": {"by_source": [{"source": "specialist", "status": "posted", "currency": "USD", "count": 1,
                                "amount": "85.00"}], "by_actor": []},
}


async def _answer(value: dict[str, Any]) -> dict[str, Any]:
    return value


class Billing:
    """Stands in for the backend's report route: answers BILLING, or fails like an outage."""

    def __init__(self, error: BackendError | None = None):
        self.error = error
        self.calls: list[dict[str, str]] = []

    async def __call__(self, **call: str) -> dict[str, Any]:
        self.calls.append(call)
        if self.error:
            raise self.error
        return BILLING


async def test_the_report_route_adds_the_billing_activity_or_says_why_not(services, backend, domain,
                                                                          monkeypatch):
    monkeypatch.setattr(services.settings, "training_repo_root", domain.parent)
    sam = add_staff(services, "sam", role="supervisor")
    seed_day(services)
    backend.billing_activity = billing = Billing()
    answer = await supervisor.report(staff=sam, service=services, start=DAY, end=DAY)
    assert answer["billing"] == BILLING and answer["billing_error"] is None
    assert billing.calls == [{"start": "2026-03-10T00:00:00+00:00", "end": "2026-03-11T00:00:00+00:00",
                              "actor": "supervisor:sam"}]
    assert answer["overall"]["bot_resolved"] == 2
    ReportResponse.model_validate(answer)

    backend.billing_activity = Billing(BackendError(status_code=503, code="backend_unavailable",
                                                    message="The billing system is not reachable right now."))
    down = await supervisor.report(staff=sam, service=services, start=DAY, end=DAY)
    assert down["billing"] is None
    assert down["billing_error"] == "The billing system is not reachable right now."
    assert down["overall"] == answer["overall"]  # the chat figures still show

    # a float amount, a group without its currency: not shown as if it were the backend's report
    unreadable = {**BILLING, "credits": {"count": 1, "by_reason": [{"reason": "x", "amount": 1.5}]}}
    backend.billing_activity = lambda **call: _answer(unreadable)
    odd = await supervisor.report(staff=sam, service=services, start=DAY, end=DAY)
    assert odd["billing"] is None
    assert odd["billing_error"] == "The billing system answered something unreadable."

    with pytest.raises(ServiceError) as backwards:
        await supervisor.report(staff=sam, service=services, start=DAY, end=DAY - timedelta(days=1))
    assert backwards.value.code == "bad_range"
    with pytest.raises(ServiceError):
        await supervisor.report(staff=sam, service=services, start=DAY - timedelta(days=366), end=DAY)
    with pytest.raises(ServiceError) as far:
        await supervisor.report(staff=sam, service=services, start=date(9999, 12, 31), end=date(9999, 12, 31))
    assert far.value.message == "Pick dates between 2000-01-01 and 2999-12-31."


async def export(staff: Any, services: Any, table: Any) -> Any:
    return await supervisor.export_report(staff=staff, service=services, table=table, start=DAY, end=DAY)


async def test_each_table_exports_as_formula_safe_csv_and_the_export_is_audited(services, backend, domain,
                                                                                monkeypatch):
    monkeypatch.setattr(services.settings, "training_repo_root", domain.parent)
    sam = add_staff(services, "sam", role="supervisor")
    seed_day(services)
    backend.billing_activity = Billing()
    credits = await export(sam, services, "credits")
    assert credits.headers["content-disposition"] == (
        'attachment; filename="billing-report-credits-2026-03-10-2026-03-10.csv"')
    rows = list(csv.reader(io.StringIO(bytes(credits.body).decode())))
    assert rows == [["reason", "currency", "count", "amount"], ["dispute", "USD", "1", "49.00"],
                    ["'=HYPERLINK(\"http://evil\")", "USD", "1", "0.10"]]
    disputes = await export(sam, services, "disputes")
    assert bytes(disputes.body).decode().splitlines()[1] == '"accepted, with note",USD,1,49.00'
    overall = await export(sam, services, "overall")
    header, values = list(csv.reader(io.StringIO(bytes(overall.body).decode())))
    assert dict(zip(header, values, strict=True))["bot_resolution_rate"] == "0.25"
    for table in ("teams", "specialists", "escalations", "by_day", "payments"):
        response = await export(sam, services, table)
        assert len(bytes(response.body).decode().splitlines()) >= 2, table

    def exports(session: Any) -> list[dict[str, Any]]:
        return [e.details for e in session.query(AuditEntry).filter_by(action="report_export")]
    assert [e["table"] for e in services.db.run_sync(exports)] == [
        "credits", "disputes", "overall", "teams", "specialists", "escalations", "by_day", "payments"]
    assert report_export.download({"start": "a", "end": "b", "billing": None}, table="payments").body == (
        b"source,status,currency,count,amount\r\n")


def test_the_audit_log_reads_as_people_names_local_times_and_folds_repeats(services):
    add_staff(services, "dana")
    alice = chat(services, at=NOON, customer_id=1, name="Alice Moreno", turns=[("customer", "hi")])

    def insert(session: Any) -> None:
        at = NOON
        for actor, action, target, details in [
                ("specialist:dana", "login", "username:dana", None),
                ("bot", "escalate", alice, {"reason": "dispute"}),
                *[("specialist:dana", "view_conversation", alice, {"reason": "assigned_to_them"})] * 3,
                ("anonymous:mallory", "login_failed", "username:mallory", None)]:
            at += timedelta(seconds=30)
            session.add(AuditEntry(at=at, actor=actor, action=action, target=target, details=details))
    services.db.run_sync(insert)

    entries = services.db.run_sync(audit_export.readable_entries, limit=50, timezone="America/New_York")
    ReadableAuditLogResponse.model_validate({"timezone": "America/New_York", "entries": entries})
    assert [(e["actor_name"], e["action"], e["target_label"], e["count"]) for e in entries] == [
        ("Unknown user 'mallory'", "login_failed", "username:mallory", 1),
        ("Dana", "view_conversation", f"Alice Moreno (chat {alice[:8]})", 3),
        ("Bot", "escalate", f"Alice Moreno (chat {alice[:8]})", 1),
        ("Dana", "login", "Dana", 1)]
    views = entries[1]
    assert views["at_local"] == "2026-03-10 08:02:30"  # 12:02:30 UTC, New York in daylight time (EDT)
    assert views["first_at"] == "2026-03-10T12:01:30+00:00" and views["at"] == "2026-03-10T12:02:30+00:00"


# Who issued credits and took payments (the backend's by_issuer / by_actor): Dana and Erin handled chats, Sam
# (a supervisor) only issued a credit, the bot and the account check are not people, Gone has left the staff.
BY_PERSON = {
    **BILLING,
    "credits": {**BILLING["credits"], "by_issuer": [
        {"issued_by": "specialist:dana", "currency": "USD", "count": 2, "amount": "59.50"},
        {"issued_by": "bot:rasa", "currency": "USD", "count": 3, "amount": "75.00"},
        {"issued_by": "system:account-check", "currency": "USD", "count": 1, "amount": "49.00"},
        {"issued_by": "supervisor:sam", "currency": "USD", "count": 1, "amount": "1050.00"}]},
    "payments": {**BILLING["payments"], "by_actor": [
        {"actor": "specialist:erin", "currency": "USD", "count": 1, "amount": "85.00"},
        {"actor": "specialist:erin", "currency": "EUR", "count": 2, "amount": "10.10"},
        {"actor": "specialist:gone", "currency": "USD", "count": 1, "amount": "5.00"}]},
}


async def test_each_specialist_row_carries_the_credits_they_issued_and_the_payments_they_took(
        services, backend, domain, monkeypatch):
    monkeypatch.setattr(services.settings, "training_repo_root", domain.parent)
    sam = add_staff(services, "sam", role="supervisor")
    seed_day(services)
    backend.billing_activity = lambda **call: _answer(BY_PERSON)
    answer = await supervisor.report(staff=sam, service=services, start=DAY, end=DAY)
    ReportResponse.model_validate(answer)
    people = {row["username"]: row for row in answer["specialists"]}
    assert {name: (row["display_name"], row["conversations"], row["credits_issued"], row["payments_taken"])
            for name, row in people.items()} == {
        "dana": ("Dana", 1, [{"currency": "USD", "count": 2, "amount": "59.50"}], []),
        "erin": ("Erin", 1, [], [{"currency": "EUR", "count": 2, "amount": "10.10"},
                                 {"currency": "USD", "count": 1, "amount": "85.00"}]),
        "sam": ("Sam", 0, [{"currency": "USD", "count": 1, "amount": "1050.00"}], []),
        "gone": ("gone", 0, [], [{"currency": "USD", "count": 1, "amount": "5.00"}])}
    assert people["sam"]["resolution_rate"] is None and people["dana"]["resolved"] == 1

    response = await export(sam, services, "specialists")
    rows = {row["username"]: row for row in csv.DictReader(io.StringIO(bytes(response.body).decode()))}
    assert {name: (row["credits_issued_count"], row["credits_issued_amount"], row["payments_taken_count"],
                   row["payments_taken_amount"]) for name, row in rows.items()} == {
        "dana": ("2", "59.50 USD", "0", ""), "erin": ("0", "", "3", "10.10 EUR; 85.00 USD"),
        "sam": ("1", "1050.00 USD", "0", ""), "gone": ("0", "", "1", "5.00 USD")}
    assert rows["dana"]["resolved"] == "1"

    backend.billing_activity = Billing(BackendError(status_code=503, code="backend_unavailable",
                                                    message="The billing system is not reachable right now."))
    down = await supervisor.report(staff=sam, service=services, start=DAY, end=DAY)
    ReportResponse.model_validate(down)
    assert [(r["username"], r["credits_issued"], r["payments_taken"]) for r in down["specialists"]] == [
        ("dana", None, None), ("erin", None, None)]
    blank = await export(sam, services, "specialists")
    assert [row[-4:] for row in csv.reader(io.StringIO(bytes(blank.body).decode()))] == [
        ["credits_issued_count", "credits_issued_amount", "payments_taken_count", "payments_taken_amount"],
        ["", "", "", ""], ["", "", "", ""]]
