"""Typed async client for the billing backend (contract: docs/contracts.md). Staff calls carry X-Actor."""

from __future__ import annotations

from typing import Any

import httpx


class BackendError(Exception):
    def __init__(self, *, status_code: int, code: str, message: str):
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message


class BackendClient:
    def __init__(self, *, base_url: str, api_token: str, timeout_seconds: float):
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(timeout_seconds),
            headers={"Authorization": f"Bearer {api_token}"},
        )

    async def _request(self, method: str, path: str, *, actor: str, json: dict | None = None,
                       idempotency_key: str | None = None, params: dict | None = None) -> Any:  # JSON
        headers = {"X-Actor": actor}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        try:
            response = await self._http.request(method, path, json=json, headers=headers, params=params)
        except httpx.HTTPError as error:
            raise BackendError(status_code=503, code="backend_unavailable",
                               message="The billing system is not reachable right now.") from error
        if response.status_code >= 400:
            code, message = "backend_error", f"The billing system answered {response.status_code}."
            try:
                error_body = response.json().get("error") or {}
                code = error_body.get("code", code)
                message = error_body.get("message", message)
            except (ValueError, AttributeError):
                pass
            raise BackendError(status_code=response.status_code, code=code, message=message)
        try:
            return response.json()
        except ValueError as error:
            raise BackendError(status_code=502, code="backend_bad_answer",
                               message="The billing system answered something unreadable.") from error

    async def get_customer(self, *, customer_id: int, actor: str) -> dict:
        return await self._request("GET", f"/api/v1/customers/{customer_id}", actor=actor)

    async def get_balance(self, *, customer_id: int, actor: str) -> dict:
        return await self._request("GET", f"/api/v1/customers/{customer_id}/balance", actor=actor)

    async def list_invoices(self, *, customer_id: int, actor: str) -> list[dict]:
        return await self._request("GET", f"/api/v1/customers/{customer_id}/invoices", actor=actor)

    async def get_invoice(self, *, customer_id: int, number: str, actor: str) -> dict:
        return await self._request("GET", f"/api/v1/customers/{customer_id}/invoices/{number}", actor=actor)

    async def list_payments(self, *, customer_id: int, actor: str) -> list[dict]:
        return await self._request("GET", f"/api/v1/customers/{customer_id}/payments", actor=actor)

    async def list_disputes(self, *, customer_id: int, actor: str) -> list[dict]:
        return await self._request("GET", f"/api/v1/customers/{customer_id}/disputes", actor=actor)

    async def get_payment_methods(self, *, customer_id: int, actor: str) -> dict:
        """Methods on file (masked, expired), autopay, the last autopay and the alerts (issue 16)."""
        return await self._request("GET", f"/api/v1/customers/{customer_id}/payment-methods", actor=actor)

    async def list_arrangements(self, *, customer_id: int, actor: str) -> list[dict]:
        """Promises to pay, instalment plans and late-fee waivers, newest first, in every state."""
        return await self._request("GET", f"/api/v1/customers/{customer_id}/arrangements", actor=actor)

    async def list_findings(self, *, customer_id: int, actor: str) -> dict:
        """The account check (issue 18): {"customer_id", "currency", "checked_on", "findings": [Finding]}."""
        return await self._request("GET", f"/api/v1/customers/{customer_id}/findings", actor=actor)

    async def settle_dispute(self, *, dispute_id: int, decision: str, note: str, credit_amount: str | None,
                             idempotency_key: str, actor: str) -> dict:
        body: dict = {"decision": decision, "note": note}
        if credit_amount is not None:
            body["credit_amount"] = credit_amount
        return await self._request("POST", f"/api/v1/disputes/{dispute_id}/settle", actor=actor, json=body,
                                   idempotency_key=idempotency_key)

    async def create_credit(self, *, customer_id: int, amount: str, reason: str, idempotency_key: str,
                            actor: str, line_item_id: int | None = None,
                            dispute_id: int | None = None, invoice_number: str | None = None) -> dict:
        body: dict = {"amount": amount, "reason": reason}
        if invoice_number is not None:
            body["invoice_number"] = invoice_number
        if line_item_id is not None:
            body["line_item_id"] = line_item_id
        if dispute_id is not None:
            body["dispute_id"] = dispute_id
        return await self._request("POST", f"/api/v1/customers/{customer_id}/credits", actor=actor, json=body,
                                   idempotency_key=idempotency_key)

    async def create_payment_quote(self, *, customer_id: int, amount_choice: str, amount: str | None,
                                   idempotency_key: str, actor: str) -> dict:
        """What would be charged with the default method on file (nothing is charged yet)."""
        body: dict = {"amount_choice": amount_choice}
        if amount is not None:
            body["amount"] = amount
        return await self._request("POST", f"/api/v1/customers/{customer_id}/payment-quotes", actor=actor,
                                   json=body, idempotency_key=idempotency_key)

    async def confirm_payment_quote(self, *, customer_id: int, quote_id: str, idempotency_key: str,
                                    actor: str) -> dict:
        """Charges the quote; a confirmed quote answers its one payment again, whatever the key."""
        path = f"/api/v1/customers/{customer_id}/payment-quotes/{quote_id}/confirm"
        return await self._request("POST", path, actor=actor, idempotency_key=idempotency_key)

    async def waive_late_fee(self, *, customer_id: int, line_item_id: int | None, idempotency_key: str,
                             actor: str) -> dict:
        """The one-time late-fee waiver (default: the latest late fee not yet credited): {"arrangement",
        "credit", "total_due"}; 422 outside_policy with the reasons."""
        body = {"line_item_id": line_item_id} if line_item_id is not None else {}
        return await self._request("POST", f"/api/v1/customers/{customer_id}/late-fee-waivers", actor=actor,
                                   json=body, idempotency_key=idempotency_key)

    async def create_arrangement(self, *, customer_id: int, body: dict, idempotency_key: str,
                                 actor: str) -> dict:
        return await self._request("POST", f"/api/v1/customers/{customer_id}/arrangements", actor=actor,
                                   json=body, idempotency_key=idempotency_key)

    async def find_customer_by_email(self, *, address: str, actor: str) -> int | None:
        """The one customer whose address on file this is (issue 19), else None (none or several)."""
        try:
            found = await self._request("GET", "/api/v1/customers/by-email", actor=actor,
                                        params={"address": address})
        except BackendError as error:
            if error.status_code in (404, 422):
                return None
            raise
        return int(found["customer_id"])

    async def send_mail(self, *, body: dict, idempotency_key: str, actor: str) -> dict:
        """Queue an email with the backend (POST /api/v1/mail/messages, docs/contracts.md "Email"): 202, or
        200 with the same message for a repeated key (never sent twice)."""
        return await self._request("POST", "/api/v1/mail/messages", actor=actor, json=body,
                                   idempotency_key=idempotency_key)

    async def billing_activity(self, *, start: str, end: str, actor: str) -> dict:
        """Credits, disputes and payments taken in chat in [start, end) (ISO timestamps), for the
        supervisor's report."""
        return await self._request("GET", "/api/v1/reports/billing-activity", actor=actor,
                                   params={"start": start, "end": end})

    async def audit_log(self, *, start: str, end: str, limit: int, actor: str) -> list[dict]:
        """The billing system's own audit entries in [start, end), newest first (at most `limit`): system
        credits, payments, disputes as the backend recorded them."""
        answer: list[dict] = await self._request("GET", "/api/v1/audit-log", actor=actor,
                                                 params={"start": start, "end": end, "limit": limit})
        return answer

    async def list_system_credits(self, *, start: str, end: str, actor: str) -> dict:
        """The account check's credits in [start, end) with their reversals (issue 18): {"credits": [...]}."""
        return await self._request("GET", "/api/v1/system-credits", actor=actor,
                                   params={"start": start, "end": end})

    async def reverse_system_credit(self, *, credit_id: int, reason: str, idempotency_key: str,
                                    actor: str) -> dict:
        """Reverses one system credit (once, whatever the key); the answer is the credit with its reversal."""
        return await self._request("POST", f"/api/v1/system-credits/{credit_id}/reverse", actor=actor,
                                   json={"reason": reason}, idempotency_key=idempotency_key)

    async def account_check_limits(self, *, actor: str) -> dict:
        return await self._request("GET", "/api/v1/account-check/limits", actor=actor)

    async def set_account_check_limits(self, *, body: dict, actor: str) -> dict:
        return await self._request("POST", "/api/v1/account-check/limits", actor=actor, json=body)

    async def list_documents(self, *, customer_id: int, actor: str) -> dict:
        """Invoices, monthly statements and credit memos (issue 19): {"customer_id", "documents": [...]}."""
        return await self._request("GET", f"/api/v1/customers/{customer_id}/documents", actor=actor)

    async def create_document_link(self, *, customer_id: int, body: dict, actor: str) -> dict:
        """A short-lived signed link: {"kind", "document_id", "title", "filename", "url", "expires_at"}."""
        return await self._request("POST", f"/api/v1/customers/{customer_id}/documents/links", actor=actor,
                                   json=body)

    async def list_reminders(self, *, customer_id: int, unseen: bool, limit: int, actor: str) -> list[dict]:
        """Payment reminders sent to the customer (issue 19), newest first: [{"id", "headline", ...}]."""
        return await self._request("GET", f"/api/v1/customers/{customer_id}/reminders", actor=actor,
                                   params={"unseen": "true" if unseen else "false", "limit": limit})

    async def mark_reminder_seen(self, *, customer_id: int, reminder_id: int, actor: str) -> dict:
        return await self._request("POST", f"/api/v1/customers/{customer_id}/reminders/{reminder_id}/seen",
                                   actor=actor)

    async def aclose(self) -> None:
        await self._http.aclose()
