"""Each specialist's credits issued and payments taken in chat, read from the backend's BillingActivity
(`credits.by_issuer`, `payments.by_actor`: the staff member as `<role>:<username>`) into the report's
per-specialist rows (docs/contracts.md, "Supervisor reports"). A member of staff who issued a credit or took a
payment without handling a chat in the range gets a row of their own; amounts stay Decimal strings."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.models import StaffUser
from handoff.specialists.stats import figures
from handoff.vocabulary import StaffRole

STAFF_PREFIXES = frozenset({*(role.value for role in StaffRole), "admin"})


def _username(actor: str) -> str | None:
    role, _, username = actor.partition(":")
    return username if role in STAFF_PREFIXES and username else None


def _totals(groups: list[dict[str, Any]], field: str) -> dict[str, list[dict[str, Any]]]:
    """username -> [{"currency", "count", "amount"}] one per currency (two roles of one person: summed)."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for group in groups:
        username = _username(str(group[field]))
        if username is not None:
            counts[username][group["currency"]] += group["count"]
            sums[username][group["currency"]] += Decimal(group["amount"])
    return {username: [{"currency": currency, "count": count, "amount": f"{sums[username][currency]:.2f}"}
                       for currency, count in sorted(by_currency.items())]
            for username, by_currency in counts.items()}


def with_billing(session: Session, specialists: list[dict[str, Any]],
                 billing: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The rows with `credits_issued` and `payments_taken` (null when the billing system did not answer)."""
    if billing is None:
        return [{**row, "credits_issued": None, "payments_taken": None} for row in specialists]
    credits = _totals(billing["credits"]["by_issuer"], "issued_by")
    payments = _totals(billing["payments"]["by_actor"], "actor")
    missing = (credits.keys() | payments.keys()) - {row["username"] for row in specialists}
    names = {user.username: user.display_name for user in session.scalars(
        select(StaffUser).where(StaffUser.username.in_(missing)))} if missing else {}
    extra = [{"username": username, "display_name": names.get(username, username), **figures([])}
             for username in sorted(missing, key=lambda name: names.get(name, name))]
    return [{**row, "credits_issued": credits.get(row["username"], []),
             "payments_taken": payments.get(row["username"], [])} for row in [*specialists, *extra]]
