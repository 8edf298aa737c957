"""Read the backend's API in tests, so expected figures come from the database the bot reads."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from tests.support.stack import Stack


def money(amount: str | Decimal) -> str:
    """The way the bot writes money: $1,234.50."""
    return f"${Decimal(amount):,.2f}"


def api(stack: Stack, path: str) -> Any:
    response = httpx.get(f"{stack.backend_url}/api/v1{path}", headers=stack.backend_headers(), timeout=10)
    response.raise_for_status()
    return response.json()


def latest_line(stack: Stack, customer_id: int, charge_type: str) -> dict[str, Any]:
    """The first line item of that charge type on the customer's latest invoice."""
    latest = api(stack, f"/customers/{customer_id}/invoices")[0]
    detail = api(stack, f"/customers/{customer_id}/invoices/{latest['number']}")
    return next(line for line in detail["line_items"] if line["charge_type"] == charge_type)
