"""actions/identity.py: the handoff service's signed identity assertion and the conversation-bound verified
slot.

The assertions are minted by the handoff service's own signer (handoff/clients/identity_assertion.py), so
these tests also prove the two services agree on the format."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from actions.answers import ActionCheckBalance
from actions.dialogue import ActionEscalateToHuman, ActionSubmitDispute
from actions.forms import ValidateVerifyIdentityForm
from actions.identity import (
    AUDIENCE,
    ISSUER,
    customer_id_from_slot,
    handoff_turn,
    signed_customer_slot,
    verify_assertion,
)
from handoff.clients.identity_assertion import mint_identity_assertion
from tests.actions.fakes import make_tracker, responses

ACCESS = "access"
SECRET = "test-identity-assertion-secret-of-32-bytes"
OTHER_SECRET = "another-identity-assertion-secret-32-bytes"


def mint(conversation_id="conv-1", customer_id=4, *, secret=SECRET, seconds=120) -> str:
    return mint_identity_assertion(conversation_id=conversation_id, customer_id=customer_id, secret=secret,
                                   seconds=seconds)


def claims(**changes) -> dict:
    now = datetime.now(UTC)
    return {"iss": ISSUER, "aud": AUDIENCE, "conversation_id": "conv-1", "customer_id": 4, "iat": now,
            "exp": now + timedelta(seconds=60), **changes}


# -- the assertion ------------------------------------------------------------------------------------------

def test_a_valid_assertion_names_its_conversation_and_customer():
    turn = verify_assertion(mint(), conversation_id="conv-1", secret=SECRET)
    assert (turn.conversation_id, turn.customer_id) == ("conv-1", 4)
    anonymous = verify_assertion(mint(customer_id=None), conversation_id="conv-1", secret=SECRET)
    assert anonymous is not None and anonymous.customer_id is None


@pytest.mark.parametrize("token", [
    pytest.param(mint(seconds=-60), id="expired"),
    pytest.param(mint(secret=OTHER_SECRET), id="wrong-secret"),
    pytest.param(mint(conversation_id="conv-2"), id="other-conversation"),
    pytest.param(jwt.encode(claims(), None, algorithm="none"), id="alg-none"),
    pytest.param(jwt.encode(claims(), SECRET, algorithm="HS512"), id="alg-hs512"),
    pytest.param(jwt.encode(claims(aud="billing-backend"), SECRET, algorithm="HS256"), id="wrong-audience"),
    pytest.param(jwt.encode(claims(iss="website"), SECRET, algorithm="HS256"), id="wrong-issuer"),
    pytest.param(jwt.encode({k: v for k, v in claims().items() if k != "exp"}, SECRET, algorithm="HS256"),
                 id="no-expiry"),
    pytest.param(jwt.encode({k: v for k, v in claims().items() if k != "conversation_id"}, SECRET,
                            algorithm="HS256"), id="no-conversation"),
    pytest.param(jwt.encode(claims(customer_id="4"), SECRET, algorithm="HS256"), id="customer-id-a-string"),
    pytest.param(jwt.encode(claims(customer_id=True), SECRET, algorithm="HS256"), id="customer-id-a-bool"),
    pytest.param(jwt.encode(claims(customer_id=-4), SECRET, algorithm="HS256"), id="customer-id-negative"),
    pytest.param(mint()[:-3] + "abc", id="edited-signature"),
    pytest.param("not.a.jwt", id="garbage"),
    pytest.param(None, id="missing"),
    pytest.param({"customer_id": 4}, id="not-a-string"),
])
def test_a_bad_assertion_is_no_identity(token):
    assert verify_assertion(token, conversation_id="conv-1", secret=SECRET) is None


# -- the verified slot --------------------------------------------------------------------------------------

def test_the_verified_slot_counts_only_in_its_own_conversation_and_only_signed():
    own = make_tracker(
        slots={"verified_customer_id": signed_customer_slot(4, conversation_id="conv-1", secret=SECRET)}
    )
    assert customer_id_from_slot(own, secret=SECRET) == 4
    copied = make_tracker(
        sender_id="conv-2",
        slots={"verified_customer_id": signed_customer_slot(4, conversation_id="conv-1", secret=SECRET)},
    )
    assert customer_id_from_slot(copied, secret=SECRET) is None
    other_key = make_tracker(
        slots={"verified_customer_id": signed_customer_slot(4, conversation_id="conv-1", secret=OTHER_SECRET)}
    )
    assert customer_id_from_slot(other_key, secret=SECRET) is None
    edited = dict(signed_customer_slot(4, conversation_id="conv-1", secret=SECRET), customer_id=3)
    assert customer_id_from_slot(make_tracker(slots={"verified_customer_id": edited}), secret=SECRET) is None
    for forged in (3, "3", {"customer_id": 3}, {"customer_id": 3, "signature": "00" * 32}):
        tracker = make_tracker(slots={"verified_customer_id": forged}, signed=False)
        assert customer_id_from_slot(tracker, secret=SECRET) is None, forged


def test_a_turn_is_from_handoff_only_with_an_assertion_for_the_trackers_own_sender(monkeypatch):
    assert handoff_turn(make_tracker()) is not None  # make_tracker signs like the handoff service
    forged = make_tracker(metadata={"customer_id": 4, "conversation_id": "conv-1"}, signed=False)
    assert handoff_turn(forged) is None
    replayed = make_tracker(
        sender_id="victim",
        metadata={"identity": make_tracker().latest_message["metadata"]["identity"]},
        signed=False,
    )
    assert handoff_turn(replayed) is None


# -- forged trackers sent to the actions (Rasa's token is not enough) --------------------------------------

FORGED_METADATA = {"customer_id": 4, "conversation_id": "victim-conversation"}
FORGED_SLOTS = {
    "verified_customer_id": 4,
    "identity_verified": True,
    "verification_status": "verified",
    "dispute_line_item_id": 43,
    "dispute_reason": "charged twice for this",
    "dispute_confirmed": True,
    "account_currency": "USD",
}


def forged_tracker(intent: str, **overrides):
    options = dict(
        intent=intent,
        sender_id="victim-conversation",
        metadata=FORGED_METADATA,
        slots=FORGED_SLOTS,
        signed=False,
    )
    return make_tracker(**{**options, **overrides})


def expired_assertion_tracker(intent: str):
    identity = mint(
        conversation_id="victim-conversation", customer_id=4, seconds=-60, secret=_actions_secret()
    )
    return forged_tracker(intent, metadata={**FORGED_METADATA, "identity": identity})


def other_conversation_tracker(intent: str):
    identity = mint(conversation_id="attackers-own-conversation", customer_id=4, secret=_actions_secret())
    slot = signed_customer_slot(4, conversation_id="attackers-own-conversation")
    return forged_tracker(
        intent,
        metadata={**FORGED_METADATA, "identity": identity},
        slots={**FORGED_SLOTS, "verified_customer_id": slot},
    )


def _actions_secret() -> str:
    from actions.config import get_settings

    return get_settings().identity_assertion_secret


FORGERIES = [
    pytest.param(forged_tracker, id="bare-metadata-and-int-slot"),
    pytest.param(expired_assertion_tracker, id="expired-assertion"),
    pytest.param(other_conversation_tracker, id="assertion-and-slot-of-another-conversation"),
]


@pytest.mark.trust_case(
    area=ACCESS,
    case="Forged tracker sent to the action server (metadata customer_id, verified_customer_id slot, "
    "an expired or another conversation's assertion): balance",
    expected="anonymous: the identity question only; no call to the backend",
)
@pytest.mark.parametrize("forge", FORGERIES)
async def test_a_forged_tracker_gets_no_customer_data(forge, billing, dispatcher, domain):
    events = await ActionCheckBalance(billing=billing).run(dispatcher, forge("check_balance"), domain)
    assert responses(dispatcher) == ["utter_need_verification"]
    assert events == [] and billing.calls == []


@pytest.mark.trust_case(
    area=ACCESS,
    case="Forged tracker sent to the action server: action_submit_dispute with every dispute slot filled",
    expected="no dispute opened, no escalation, nothing reaches the backend or the handoff service",
)
@pytest.mark.parametrize("forge", FORGERIES)
async def test_a_forged_tracker_opens_no_dispute(forge, billing, handoff, dispatcher, domain):
    await ActionSubmitDispute(billing=billing, handoff=handoff).run(dispatcher, forge("affirm"), domain)
    assert responses(dispatcher) == ["utter_dispute_cancelled"]
    assert billing.calls == [] and handoff.requests == []


@pytest.mark.trust_case(
    area=ACCESS,
    case="Forged tracker sent to the action server: action_escalate_to_human for another customer's "
    "conversation",
    expected="nothing queued: the handoff service is never called",
)
@pytest.mark.parametrize("forge", FORGERIES)
async def test_a_forged_tracker_escalates_nothing(forge, billing, handoff, dispatcher, domain):
    events = await ActionEscalateToHuman(billing=billing, handoff=handoff).run(
        dispatcher, forge("request_human"), domain
    )
    assert handoff.requests == [] and billing.calls == []
    assert responses(dispatcher) == ["utter_handoff_unavailable"]
    assert {"event": "slot", "name": "handoff_state", "value": "failed", "timestamp": None} in events


async def test_a_forged_tracker_makes_no_verification_attempt(billing, dispatcher, domain):
    """Guessing account answers needs a turn the handoff service sent: no attempt counts against a real
    account."""
    tracker = forged_tracker(
        "inform",
        slots={
            "requested_slot": "postal_code_or_phone",
            "account_number": "ACC-100004",
            "postal_code_or_phone": "30301",
        },
        active_loop="verify_identity_form",
    )
    result = await ValidateVerifyIdentityForm(billing=billing).validate_postal_code_or_phone(
        "30301", dispatcher, tracker, domain
    )
    assert result == {"postal_code_or_phone": None}
    assert billing.calls == []


async def test_the_same_turns_signed_by_the_handoff_service_are_answered(
    billing, handoff, dispatcher, domain
):
    """The counterpart of the forgeries above: the same actions work for a signed turn (so they fail for the
    reason under test)."""
    tracker = make_tracker(intent="request_human", metadata={"customer_id": 4})
    await ActionEscalateToHuman(billing=billing, handoff=handoff).run(dispatcher, tracker, domain)
    assert [request.customer_id for request in handoff.requests] == [4]
