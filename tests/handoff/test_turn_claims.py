"""A customer message goes to the bot once and is answered once, however many tabs or replicas see it.

Two tabs of one conversation (and two handoff replicas sharing a database) each queue the conversation's
unanswered messages when they connect; the database's claim on a message (messages.claimed_by/claimed_at)
decides which worker sends it to Rasa, and storing the answer is conditional on the message not being
answered yet. A claim whose worker died lapses after HANDOFF_TURN_CLAIM_SECONDS, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select

from handoff.conversations import store
from handoff.db import Database, utcnow
from handoff.migrate import upgrade_database
from handoff.models import Message
from tests.handoff.conftest import Widget, customer_token, rasa_texts, transcript

CLAIMANTS = 20


async def until(condition, *, timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def is_echo(text: str):
    return lambda f: f["type"] == "message" and f["sender"] == "bot" and f["text"] == f"Echo: {text}"


async def start_a_slow_turn(widget: Widget, stand_in) -> None:
    """Send "slow" and wait until the stand-in Rasa has it: the turn is in flight for
    stand_in.slow_seconds."""
    client_id = await widget.send("slow")
    await widget.wait_for(lambda f: f["type"] == "ack" and f["client_id"] == client_id)
    await until(
        lambda: rasa_texts(stand_in, widget.conversation_id) == ["slow"], what="the turn to reach Rasa"
    )


async def two_tabs_with_a_turn_in_flight(handoff, stand_in, *, second_handoff=None,
                                         slow_seconds: float = 2) -> tuple[Widget, Widget]:
    """David's first tab sends "slow"; a second tab of the same conversation (on `second_handoff`, default the
    same service) connects while Rasa is still answering, so it finds "slow" stored but unanswered."""
    token = customer_token(4, "David")
    first = Widget(handoff.ws_url, token)
    await first.connect()
    stand_in.slow_seconds = slow_seconds
    await start_a_slow_turn(first, stand_in)
    second = Widget((second_handoff or handoff).ws_url, token, conversation_id=first.conversation_id)
    await second.connect()
    return first, second


async def assert_answered_once(handoff, conversation_id: str, *texts: str) -> None:
    messages = await transcript(handoff, conversation_id)
    seqs = [m["seq"] for m in messages]
    assert seqs == list(range(1, len(seqs) + 1))
    said = Counter(m["text"] for m in messages if m["sender"] == "customer")
    answers = Counter(m["text"] for m in messages if m["sender"] in ("bot", "system"))
    for text in texts:
        assert said[text] == 1 and answers[f"Echo: {text}"] == 1, messages
    # no apology: every turn reached the bot
    assert not [m for m in messages if m["sender"] == "system"], messages


# -- over real sockets -------------------------------------------------------------------------------

@pytest.mark.trust_case(
    area="fault",
    case="A second tab of the conversation connects while the first tab's bot turn is in flight",
    expected="the message reaches Rasa once and is answered once; both tabs show the answer",
)
async def test_a_second_tab_connecting_mid_turn_does_not_send_the_message_to_the_bot_again(handoff, stand_in):
    first, second = await two_tabs_with_a_turn_in_flight(handoff, stand_in)
    await first.wait_for(is_echo("slow"))
    await second.wait_for(is_echo("slow"))
    # The second tab's turns run one at a time, in order: once "after" is answered, anything it would have
    # done with "slow" is done too.
    await second.send("after")
    await second.wait_for(is_echo("after"))
    await first.wait_for(is_echo("after"))

    assert rasa_texts(stand_in, first.conversation_id) == ["slow", "after"]
    await assert_answered_once(handoff, first.conversation_id, "slow", "after")
    for widget in (first, second):  # each tab was shown each answer once (Widget refuses a duplicate seq)
        assert Counter(f["text"] for f in widget.messages.values())["Echo: slow"] == 1
        await widget.close()


async def test_the_tab_that_started_the_turn_closing_mid_turn_still_gets_it_answered_once(handoff, stand_in):
    """The turn in flight is not abandoned with its socket: it finishes, and the other tab shows its
    answer."""
    first, second = await two_tabs_with_a_turn_in_flight(handoff, stand_in)
    await first.close()

    await second.wait_for(is_echo("slow"))
    await second.send("after")
    await second.wait_for(is_echo("after"))
    assert rasa_texts(stand_in, second.conversation_id) == ["slow", "after"]
    await assert_answered_once(handoff, second.conversation_id, "slow", "after")
    await second.close()


@pytest.mark.slow
@pytest.mark.trust_case(
    area="fault",
    case="Two handoff replicas on one database; the replica running a bot turn is killed (kill -9) while a "
    "tab on the other replica waits for it",
    expected="the other replica answers the turn once the dead replica's claim lapses; the transcript holds "
    "one answer",
)
async def test_a_turn_claimed_by_a_killed_replica_is_answered_by_the_other_one(make_handoff, stand_in):
    env = {"HANDOFF_TURN_CLAIM_SECONDS": "3"}
    replica_a = make_handoff(extra_env=env)
    replica_b = make_handoff(database_url=replica_a.env["HANDOFF_DATABASE_URL"], extra_env=env)
    stand_in.handoff_url = replica_a.url
    on_a, on_b = await two_tabs_with_a_turn_in_flight(
        replica_a, stand_in, second_handoff=replica_b, slow_seconds=5
    )
    await asyncio.sleep(1)  # replica B's worker found the turn claimed by A and waits on it
    assert rasa_texts(stand_in, on_a.conversation_id) == ["slow"]
    replica_a.kill()
    stand_in.slow_seconds = 0
    started = time.monotonic()

    await on_b.wait_for(is_echo("slow"), timeout=30)
    waited = time.monotonic() - started
    assert waited < 15, f"the dead replica's claim took {waited:.1f} s to lapse"
    # Rasa saw it twice (the first processing never finished); the customer sees one answer.
    assert rasa_texts(stand_in, on_a.conversation_id) == ["slow", "slow"]
    await on_b.send("after")
    await on_b.wait_for(is_echo("after"))
    await assert_answered_once(replica_b, on_a.conversation_id, "slow", "after")
    await on_b.close()


async def test_a_turn_in_flight_when_the_service_stops_is_given_back_and_run_at_once(handoff, stand_in):
    """A graceful stop gives turns in flight a moment, then stops them and gives their claims back: the
    reconnecting widget's turn runs at once, not after the claim would have lapsed."""
    widget = Widget(handoff.ws_url, customer_token(4, "David"))
    await widget.connect()
    stand_in.slow_seconds = 8  # longer than the 5 s the service gives a turn when it stops
    await start_a_slow_turn(widget, stand_in)
    handoff.stop()
    stand_in.slow_seconds = 0
    await widget.close()
    handoff.start()
    started = time.monotonic()
    resumed = Widget(handoff.ws_url, customer_token(4, "David"), conversation_id=widget.conversation_id,
                     last_seq=widget.last_seq)
    await resumed.connect()
    await resumed.wait_for(is_echo("slow"))
    assert time.monotonic() - started < 5, "the stopped turn's claim was not given back"
    assert rasa_texts(stand_in, widget.conversation_id) == ["slow", "slow"]
    await assert_answered_once(handoff, widget.conversation_id, "slow")
    await resumed.close()


SOCKETS = 20


@pytest.mark.trust_case(
    area="fault",
    case=f"{SOCKETS} sockets of one conversation send a message at the same moment, to a bot that runs one "
    "conversation's turns one at a time",
    expected="the turns queue in the handoff service and reach the bot one at a time, in order; every "
    "message is answered once, none with 'our assistant isn't reachable'",
)
async def test_a_conversations_turns_queue_in_the_handoff_service_not_at_the_bot(make_handoff, stand_in):
    # Rasa's timeout is 2 s and the bot takes 0.25 s a turn: sent side by side, the 9th and later would time
    # out.
    handoff = make_handoff(extra_env={"HANDOFF_RASA_TIMEOUT_SECONDS": "2"})
    stand_in.serial_seconds = 0.25
    token = customer_token(4, "David")
    first = Widget(handoff.ws_url, token)
    await first.connect()
    tabs = [first] + [Widget(handoff.ws_url, token, conversation_id=first.conversation_id)
                      for _ in range(SOCKETS - 1)]
    await asyncio.gather(*(tab.connect() for tab in tabs[1:]))
    texts = [f"question {n}" for n in range(SOCKETS)]
    await asyncio.gather(*(tab.send(text) for tab, text in zip(tabs, texts, strict=True)))
    for text in texts:
        await first.wait_for(is_echo(text), timeout=60)
    messages = await transcript(handoff, first.conversation_id)
    said_in_order = [m["text"] for m in messages if m["sender"] == "customer"]
    assert sorted(said_in_order) == sorted(texts)
    assert rasa_texts(stand_in, first.conversation_id) == said_in_order, "one turn at a time, oldest first"
    await assert_answered_once(handoff, first.conversation_id, *texts)
    for tab in tabs:
        await tab.close()


# -- the claim itself, on SQLite and PostgreSQL ---------------------------------------------------------

def _claims_are_exclusive_and_lapse(database_url: str) -> None:
    upgrade_database(database_url=database_url)
    db = Database(database_url)
    try:
        with db.session() as session:
            conversation_id = store.create_conversation(session, customer_id=4, customer_name="David").id
            message_id = store.append_message(session, conversation_id=conversation_id, sender="customer",
                                              text="hello", client_id="c1", processed=False).id
        now = utcnow()
        stale_before = now - timedelta(seconds=15)
        barrier = threading.Barrier(CLAIMANTS)

        def claim(number: int) -> bool:
            barrier.wait()  # everyone tries at the same moment
            with db.session() as session:
                return store.claim_message(
                    session, message_id=message_id, claimant=f"worker-{number}", now=now,
                    stale_before=stale_before,
                )

        with ThreadPoolExecutor(max_workers=CLAIMANTS) as pool:
            outcomes = list(pool.map(claim, range(CLAIMANTS)))
        assert outcomes.count(True) == 1, outcomes
        winner = f"worker-{outcomes.index(True)}"

        def attempt(**kwargs) -> bool:
            with db.session() as session:
                return store.claim_message(session, message_id=message_id, **kwargs)

        # A live claim (renewed by its worker) is respected; one not renewed within the window lapses.
        with db.session() as session:
            assert store.renew_claim(
                session, message_id=message_id, claimant=winner, now=now + timedelta(seconds=10)
            )
            assert not store.renew_claim(session, message_id=message_id, claimant="worker-x", now=now)
        assert not attempt(claimant="late", now=now + timedelta(seconds=20),
                           stale_before=now + timedelta(seconds=5))
        assert attempt(
            claimant="late", now=now + timedelta(seconds=30), stale_before=now + timedelta(seconds=15)
        )
        with db.session() as session:  # the lapsed worker can no longer renew it
            assert not store.renew_claim(session, message_id=message_id, claimant=winner, now=now)

        # Answering is conditional: the first to store its answer wins, a second answer is refused.
        with db.session() as session:
            assert store.finish_message(session, message_id=message_id)
        with db.session() as session:
            assert not store.finish_message(session, message_id=message_id)
            message = session.scalars(select(Message).where(Message.id == message_id)).one()
            assert message.processed and message.claimed_by is None and message.claimed_at is None
        # An answered message can never be claimed again, however old.
        assert not attempt(
            claimant="again", now=now + timedelta(days=1), stale_before=now + timedelta(days=1)
        )

        # A released claim (its worker gave up) can be taken at once.
        with db.session() as session:
            other_id = store.append_message(session, conversation_id=conversation_id, sender="customer",
                                            text="more", client_id="c2", processed=False).id
        with db.session() as session:
            assert store.claim_message(
                session, message_id=other_id, claimant="a", now=now, stale_before=stale_before
            )
        with db.session() as session:
            store.release_claim(session, message_id=other_id, claimant="someone else")
            assert not store.claim_message(session, message_id=other_id, claimant="b", now=now,
                                           stale_before=stale_before)
            store.release_claim(session, message_id=other_id, claimant="a")
        with db.session() as session:
            assert store.claim_message(
                session, message_id=other_id, claimant="b", now=now, stale_before=stale_before
            )
    finally:
        db.dispose()


def test_message_claims_on_sqlite(tmp_path):
    _claims_are_exclusive_and_lapse(f"sqlite:///{tmp_path / 'claims.db'}")


@pytest.mark.postgres
def test_message_claims_on_postgres(postgres_url):
    _claims_are_exclusive_and_lapse(postgres_url)
