"""Who may write payments and arrangements, and the source a payment records for each (docs/contracts.md)."""

from backend.auth import Actor
from backend.errors import Forbidden, InvalidInput

# X-Actor role -> payment source
WRITER_ROLES = {
    "bot": "bot",
    "secure_page": "secure_page",
    "specialist": "specialist",
    "supervisor": "specialist",
    "admin": "specialist",
}
SYSTEM_JOBS = Actor(role="system", username="billing-jobs")
SYSTEM_PROCESSOR = Actor(role="system", username="processor")


def payment_source(actor: Actor) -> str:
    """The payment's source for an actor; refuses roles that may not take payments."""
    if actor.role == "system":
        return "autopay"
    if actor.role not in WRITER_ROLES:
        raise Forbidden(
            f"The role {actor.role!r} may not make payment changes; use bot, secure_page or staff."
        )
    return WRITER_ROLES[actor.role]


def writer(actor: Actor | None) -> Actor:
    """The X-Actor of a payments or arrangements write: required, and never the backend's own `system`."""
    if actor is None:
        raise InvalidInput("This write needs the X-Actor header, e.g. 'bot:rasa' or 'specialist:dana'.")
    if actor.role == "system":
        raise Forbidden("The role 'system' is the backend's own; callers may not use it.")
    payment_source(actor)
    return actor
