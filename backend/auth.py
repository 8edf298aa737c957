"""Service-to-service bearer token and the X-Actor header of staff callers.

The dependencies are async (no I/O): FastAPI would otherwise run each in the thread pool.
"""
import hmac
import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from backend.config import Settings
from backend.errors import Forbidden, InvalidInput, Unauthorized

ACTOR_PATTERN = re.compile(r"^(?P<role>[a-z][a-z_]{1,31}):(?P<username>[A-Za-z0-9][A-Za-z0-9._@-]{0,63})$")
STAFF_ROLES = frozenset({"specialist", "supervisor", "admin"})

bearer_scheme = HTTPBearer(auto_error=False, description="BACKEND_API_TOKEN")


async def require_service_token(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]
) -> None:
    settings: Settings = request.app.state.settings
    expected = settings.backend_api_token.get_secret_value().encode()
    if credentials is None or not hmac.compare_digest(credentials.credentials.encode(), expected):
        raise Unauthorized("A valid bearer token is required.")


@dataclass(frozen=True)
class Actor:
    role: str
    username: str
    reason: str | None = None  # X-Audit-Reason: why a staff member reads this (goes to the audit log)

    @property
    def label(self) -> str:
        return f"{self.role}:{self.username}"

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


async def optional_actor(
    x_actor: Annotated[
        str | None,
        Header(max_length=100, description="`<role>:<username>` of the staff member, e.g. specialist:dana"),
    ] = None,
    x_audit_reason: Annotated[
        str | None, Header(max_length=300, description="Why staff reads this (audit log)")
    ] = None,
) -> Actor | None:
    if x_actor is None or x_actor == "":
        return None
    match = ACTOR_PATTERN.fullmatch(x_actor)
    if match is None:
        raise InvalidInput("X-Actor must look like '<role>:<username>', for example 'specialist:dana'.")
    reason = x_audit_reason.strip() if x_audit_reason and x_audit_reason.isprintable() else None
    return Actor(role=match["role"], username=match["username"], reason=reason or None)


async def staff_actor(actor: Annotated[Actor | None, Depends(optional_actor)]) -> Actor:
    if actor is None:
        raise InvalidInput("This action is made by staff: send the X-Actor header, e.g. 'specialist:dana'.")
    if not actor.is_staff:
        raise Forbidden(f"The role {actor.role!r} may not make this change; a specialist or supervisor must.")
    return actor


OptionalActorDep = Annotated[Actor | None, Depends(optional_actor)]
StaffActorDep = Annotated[Actor, Depends(staff_actor)]
