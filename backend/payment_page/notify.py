"""Tells the handoff service what the page did, so the chat shows it live (contracts: "Payment page")."""

import logging
from typing import Any

import httpx

logger = logging.getLogger("backend.payment_page.notify")
OUTCOME_PATH = "/api/payment-page/outcomes"


def send_outcome(
    *, handoff_url: str, api_token: str, body: dict[str, Any], timeout_seconds: float = 5.0, attempts: int = 2
) -> bool:
    """True when the handoff service took the outcome (2xx). Its `event_id` makes a repeat harmless there."""
    for attempt in range(1, attempts + 1):
        try:
            answer = httpx.post(
                handoff_url.rstrip("/") + OUTCOME_PATH,
                json=body,
                timeout=timeout_seconds,
                headers={"Authorization": f"Bearer {api_token}"},
            )
        except httpx.HTTPError as exc:
            logger.warning(
                "handoff not reachable for payment page outcome %s (try %d): %s",
                body.get("event_id"),
                attempt,
                type(exc).__name__,
            )
            continue
        if answer.is_success:
            return True
        logger.warning(
            "handoff refused payment page outcome %s: HTTP %d", body.get("event_id"), answer.status_code
        )
        if answer.status_code < 500:
            return False  # a 4xx does not change on a retry
    return False
