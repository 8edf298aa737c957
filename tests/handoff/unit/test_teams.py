"""Routing by team (issue 17): the reason picks the team, a specialist sees and claims only their teams' queue
(supervisors all), and a chat can be transferred back to a team's queue."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from handoff.assignments import claim, transfer
from handoff.conversations import escalation
from handoff.errors import ServiceError
from handoff.models import Assignment, AuditEntry
from handoff.queue import status as queue_status
from handoff.queue.teams import parse_sla, parse_teams, team_for_reason
from handoff.specialists.console_socket import ConsoleConnection
from handoff.specialists.schemas import TransferRequest
from tests.handoff.unit.support import add_staff, conversation, new_conversation, queued_conversation, texts


@pytest.mark.parametrize(("reason", "team"), [
    ("dispute", "disputes"), ("payment_failed", "payments"), ("arrangement_request", "payments"),
    ("request_human", "general"), ("fallback", "general"), ("verification_locked", "general"),
    ("backend_unavailable", "general"), (None, "general")])
def test_the_reason_picks_the_team(reason, team):
    assert team_for_reason(reason) == team


def test_stored_teams_and_sla_settings_parse():
    assert parse_teams("general, disputes,nonsense") == ("disputes", "general")
    assert parse_sla("disputes=300, general=600") == {"disputes": 300, "general": 600}
    for bad in ("disputes", "billing=10", "general=soon", "general=0"):
        with pytest.raises(ValueError):
            parse_sla(bad)


async def _escalate(services, reason):
    conversation_id = new_conversation(services)
    await escalation.perform(services=services, conversation_id=conversation_id, reason=reason, customer_id=4,
                             summary="wants a person")
    return conversation_id


async def test_escalation_queues_in_the_reasons_team_and_each_specialist_sees_their_teams(services):
    dana = add_staff(services, "dana", teams="disputes,general")
    pat = add_staff(services, "pat", teams="payments")
    sam = add_staff(services, "sam", role="supervisor", teams="general")
    dispute = await _escalate(services, "dispute")
    general = await _escalate(services, "request_human")
    arrangement = await _escalate(services, "arrangement_request")  # the bot's arrangement outside policy
    assert conversation(services, dispute).team == "disputes"
    assert conversation(services, general).team == "general"

    entries = await queue_status.snapshot(services=services)
    assert {entry["conversation_id"]: entry["team"] for entry in entries} == {
        dispute: "disputes", general: "general", arrangement: "payments"}
    seen = {staff.username: [entry["conversation_id"] for entry in queue_status.visible_to(entries, staff)]
            for staff in (dana, pat, sam)}
    assert seen == {"dana": [dispute, general], "pat": [arrangement], "sam": [dispute, general, arrangement]}


async def test_a_specialist_cannot_claim_another_teams_chat(services):
    pat = add_staff(services, "pat", teams="payments,general")
    dana = add_staff(services, "dana", teams="disputes,general")
    dispute = await _escalate(services, "dispute")
    with pytest.raises(ServiceError) as refused:
        await claim.perform(services=services, conversation_id=dispute, staff=pat)
    assert (refused.value.status_code, refused.value.code) == (403, "not_your_team")
    assert conversation(services, dispute).state == "queued"
    await claim.perform(services=services, conversation_id=dispute, staff=dana)
    assert conversation(services, dispute).assigned_specialist_id == dana.id


async def test_a_supervisor_claims_any_teams_chat(services):
    sam = add_staff(services, "sam", role="supervisor", teams="general")
    dispute = await _escalate(services, "dispute")
    await claim.perform(services=services, conversation_id=dispute, staff=sam)
    assert conversation(services, dispute).assigned_specialist_id == sam.id


async def test_transfer_to_a_team_queues_the_chat_there(services, recorder):
    dana = add_staff(services, "dana", teams="disputes,general")
    pat = add_staff(services, "pat", teams="payments,general")
    conversation_id = queued_conversation(services)
    await claim.perform(services=services, conversation_id=conversation_id, staff=dana)
    recorder.drain()
    await transfer.perform(services=services, conversation_id=conversation_id, staff=dana, to_team="payments")
    moved = conversation(services, conversation_id)
    assert (moved.state, moved.team, moved.assigned_specialist_id) == ("queued", "payments", None)
    assert texts(services, conversation_id)[-1] == (
        "system",
        "Dana has passed your chat to our payments team. The next specialist there will be with you shortly.")
    queue_events = [event for _, event in recorder.drain() if event["kind"] == "queue"]
    assert queue_events[-1]["new_chat"] == conversation_id

    def rows(session):
        assignment = session.scalars(select(Assignment).where(
            Assignment.conversation_id == conversation_id)).one()
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "transfer")).one()
        return assignment.end_reason, audit.details
    assert services.db.run_sync(rows) == ("transferred", {"to_team": "payments"})

    with pytest.raises(ServiceError) as refused:  # dana does not work payments
        await claim.perform(services=services, conversation_id=conversation_id, staff=dana)
    assert refused.value.code == "not_your_team"
    await claim.perform(services=services, conversation_id=conversation_id, staff=pat)
    assert conversation(services, conversation_id).assigned_specialist_id == pat.id


async def test_only_the_owner_transfers_to_a_team_and_only_to_a_known_one(services):
    dana = add_staff(services, "dana", teams="disputes,general")
    erin = add_staff(services, "erin")
    conversation_id = queued_conversation(services)
    await claim.perform(services=services, conversation_id=conversation_id, staff=dana)
    with pytest.raises(ServiceError) as not_owner:
        await transfer.perform(services=services, conversation_id=conversation_id, staff=erin,
                               to_team="payments")
    assert (not_owner.value.status_code, not_owner.value.code) == (403, "not_your_chat")
    with pytest.raises(ServiceError) as unknown:
        await transfer.perform(services=services, conversation_id=conversation_id, staff=dana,
                               to_team="sales")
    assert (unknown.value.status_code, unknown.value.code) == (422, "unknown_team")
    assert conversation(services, conversation_id).assigned_specialist_id == dana.id


def test_a_transfer_names_a_person_or_a_team_not_both():
    assert TransferRequest.model_validate({"to_team": "disputes"}).to_team == "disputes"
    assert TransferRequest.model_validate({"to_username": "pat"}).to_username == "pat"
    for body in ({}, {"to_username": "pat", "to_team": "general"}, {"to_team": "sales"}):
        with pytest.raises(ValidationError):
            TransferRequest.model_validate(body)


class _Socket:
    def __init__(self):
        self.frames = []

    async def send_json(self, frame):
        self.frames.append(frame)


async def _events(*events):
    for event in events:
        yield event


async def test_the_console_socket_forwards_a_specialist_only_their_teams_queue_and_sla_only_to_supervisors(
        services):
    pat = add_staff(services, "pat", teams="payments")
    sam = add_staff(services, "sam", role="supervisor")
    dispute = await _escalate(services, "dispute")
    entries = await queue_status.snapshot(services=services)
    breach = {"type": "sla_breach", "conversation_id": dispute, "team": "disputes", "waiting_seconds": 301,
              "threshold_seconds": 300}
    received = {}
    for staff in (pat, sam):
        socket = _Socket()
        connection = ConsoleConnection(websocket=socket, services=services, staff=staff)
        await connection.forward_general(_events({"kind": "queue", "entries": entries, "new_chat": dispute},
                                                 {"kind": "sla_breach", "frame": breach}))
        received[staff.username] = socket.frames
    assert received["pat"] == [{"type": "queue", "entries": [], "new_chat": None}]
    assert received["sam"] == [{"type": "queue", "entries": entries, "new_chat": dispute}, breach]
