"""handoff/specialists/search.py: past conversations by name, number, account, invoice, dispute or text; a
specialist finds only their work, a supervisor anything; wildcards are literal; every search is audited."""

from __future__ import annotations

from sqlalchemy import select

from handoff.assignments import agent_message, claim, resolve
from handoff.conversations import store
from handoff.models import AuditEntry
from handoff.specialists import search
from tests.handoff.unit.support import add_staff, queued_conversation


def _found(services, staff, query):
    return [(r["conversation_id"], r["matched"], r["snippet"])
            for r in services.db.run_sync(search.search, staff=staff, query=query)]


def _with_context(services, conversation_id, *, name, context):
    def change(session):
        conversation = store.get_conversation(session, conversation_id=conversation_id)
        conversation.customer_name = name
        conversation.context = context
    services.db.run_sync(change)


async def test_specialists_find_their_past_chats_and_supervisors_find_any(services):
    dana, eve = add_staff(services, "dana"), add_staff(services, "eve")
    sam = add_staff(services, "sam", role="supervisor")
    davids = queued_conversation(services, customer_id=4, dispute_id=77)
    await claim.perform(services=services, conversation_id=davids, staff=dana)
    await agent_message.perform(services=services, conversation_id=davids, staff=dana, client_id=None,
                                text="I see the installation fee twice on INV-2026-000406; crediting one.")
    await resolve.perform(services=services, conversation_id=davids, staff=dana, outcome="credit_issued")
    alices = queued_conversation(services, customer_id=1)
    _with_context(services, alices, name="Alice Moreno",
                  context={"summary": "Alice asks about a late fee",
                           "slots": {"account_number": "ACC-100001"}})
    await claim.perform(services=services, conversation_id=alices, staff=eve)

    assert _found(services, dana, "inv-2026-000406") == [
        (davids, "invoice", "I see the installation fee twice on INV-2026-000406; crediting one.")]
    assert _found(services, dana, "#77") == [(davids, "dispute", "Dispute #77")]
    assert _found(services, dana, "Alice") == []  # Eve's chat: not Dana's work
    assert _found(services, dana, "ACC-100001") == []
    assert _found(services, sam, "alice") == [(alices, "customer", "Alice Moreno")]
    assert _found(services, sam, "ACC-100001") == [(alices, "account", "In the escalation details")]
    assert _found(services, sam, "4") == [(davids, "customer", "Customer #4")]  # David is customer 4
    assert _found(services, sam, "%_") == []  # LIKE wildcards are literal characters
    audited = services.db.run_sync(lambda s: [(e.actor, e.details["results"]) for e in s.scalars(
        select(AuditEntry).where(AuditEntry.action == "search_conversations").order_by(AuditEntry.id))])
    assert audited[:5] == [("specialist:dana", 1), ("specialist:dana", 1), ("specialist:dana", 0),
                           ("specialist:dana", 0), ("supervisor:sam", 1)]
