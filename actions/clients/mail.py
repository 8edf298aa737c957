"""Typed client of the backend's outbound mail (docs/contracts.md, "Email": POST /api/v1/mail/messages).

The backend sends to the address on file of `customer_id` (the bot never names an address) and answers the
queued message, whose `to` the bot may show masked. The Idempotency-Key makes a repeat the same email: the
backend answers 200 with the earlier message instead of 202, which `QueuedMail.repeated` reports."""

from typing import Any

import httpx

from actions.clients.billing import BackendApiClient, ContractModel


class MailMessage(ContractModel):
    id: str
    template: str
    to: str
    customer_id: int | None = None
    status: str


class QueuedMail(ContractModel):
    message: MailMessage
    repeated: bool  # this key was used before: no second email was queued


def mail_key(*parts: str) -> str:
    """An Idempotency-Key (8-128 of A-Za-z0-9._:-) from the parts, other characters replaced by '-'."""
    key = ":".join("".join(c if c.isalnum() or c in "._-" else "-" for c in part) for part in parts)
    return key[:128]


class MailClient(BackendApiClient):
    def _decode(self, response: httpx.Response, method: str, path: str) -> Any:
        data = super()._decode(response, method, path)
        return {"message": data, "repeated": response.status_code == 200}

    async def send(
        self, *, customer_id: int, template: str, context: dict[str, Any], key: str, actor: str,
        attachments: list[dict[str, Any]] | None = None,
    ) -> QueuedMail:
        body: dict[str, Any] = {"template": template, "customer_id": customer_id, "context": context}
        if attachments:
            body["attachments"] = attachments
        data = await self.request("POST", "/api/v1/mail/messages", json=body,
                                  headers={"Idempotency-Key": key, "X-Actor": actor})
        return self.parse(QueuedMail, data)
