"""The project's `action_session_start` (issue 20; docs/contracts.md, "Actions"): a signed-in customer is
verified once per Rasa session, not after every message.

Rasa runs this action before the first message of a session and passes that message's metadata in the slot
`session_started_metadata`. When it holds the handoff service's valid identity assertion for this conversation
(actions/identity.py: signature, expiry, issuer, audience, conversation), the session starts with
`identity_verified` and the signed `verified_customer_id` set; otherwise as an anonymous visitor's. A
conversation's customer never changes (signing in or out on the website starts a new conversation in the
handoff service), so nothing has to be re-read per message. Nothing of an earlier session is carried over
(domain.yml's `carry_over_slots_to_new_session: false`): the session's events are `SessionStarted`, the
identity slots, and the `action_listen` the next message follows, like Rasa's default action.
"""

from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Action, Tracker
from rasa_sdk.types import DomainDict

from actions.identity import session_start_turn, signed_in_slots


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        turn = session_start_turn(tracker)
        if turn is not None and turn.customer_id is not None:
            slots = signed_in_slots(turn.customer_id, conversation_id=tracker.sender_id)
            events.extend(SlotSet(name, value) for name, value in slots.items())
        events.append(ActionExecuted("action_listen"))
        return events
