"""Typed errors the actions catch; none of their text ever reaches a customer."""


class ServiceError(Exception):
    """Base for every failure talking to another service."""


class BackendUnavailable(ServiceError):
    """The backend is down, slow (timeout), misconfigured (401) or answered 5xx."""


class NotFound(ServiceError):
    """404: the thing does not exist or is not this customer's."""


class Conflict(ServiceError):
    """409: e.g. the line item already has an open dispute."""


class InvalidRequest(ServiceError):
    """422: the backend rejected the input."""


class VerificationLocked(ServiceError):
    """423: too many failed verification attempts."""

    def __init__(self, message: str, *, locked_until: str | None = None) -> None:
        super().__init__(message)
        self.locked_until = locked_until


class HandoffUnavailable(ServiceError):
    """The handoff service could not take the escalation."""
