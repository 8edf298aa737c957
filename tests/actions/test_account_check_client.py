"""The actions' account-check client against the real backend app (SQLite, demo seed + customers 9-14):
the offer after verification, a fix that credits once for a resent "yes", and the specialist handover."""

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from actions.clients.account_check import (
    AccountCheckClient,
    FixNeedsSpecialist,
    fix_key,
    offer_text,
    proactive_offer,
)
from actions.config import ActionSettings
from tests.actions.backend_app import seeded_backend_app

TOKEN = "test-backend-token-account-check"
DAVID, HIRO, NADIA = 4, 8, 14


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[AccountCheckClient]:
    app = seeded_backend_app(tmp_path / "backend.db", token=TOKEN)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        settings = ActionSettings(BACKEND_URL="http://backend", BACKEND_API_TOKEN=TOKEN)
        yield AccountCheckClient(settings=settings, http=http)
    app.state.database.dispose()


async def test_david_is_offered_his_duplicate_and_a_resent_yes_credits_once(
    client: AccountCheckClient,
) -> None:
    offer = proactive_offer(await client.list_findings(customer_id=DAVID))
    assert offer is not None and offer.kind == "duplicate_charge" and offer.amount == Decimal("49.00")
    assert offer_text(offer).startswith("Before we start: Your Installation fee of $49.00 was billed twice")
    assert offer_text(offer).endswith("Want me to fix that?")
    fixed = await client.fix_finding(customer_id=DAVID, finding_id=offer.id, conversation_id="conv-david-1")
    again = await client.fix_finding(customer_id=DAVID, finding_id=offer.id, conversation_id="conv-david-1")
    other_chat = await client.fix_finding(customer_id=DAVID, finding_id=offer.id, conversation_id="conv-2")
    assert fixed.credit.id == again.credit.id == other_chat.credit.id and fixed.total_due == Decimal("94.00")
    assert "$94.00" in fixed.summary and fixed.dispute.status == "accepted"
    assert proactive_offer(await client.list_findings(customer_id=DAVID)) is None  # fixed: nothing to offer


async def test_nothing_is_offered_without_a_fixable_finding(client: AccountCheckClient) -> None:
    assert proactive_offer(await client.list_findings(customer_id=HIRO)) is None
    nadia = await client.list_findings(customer_id=NADIA)
    assert proactive_offer(nadia) is None and nadia.findings[0].kind == "duplicate_charge"


async def test_above_the_limit_the_bot_gets_the_summary_for_the_handover(client: AccountCheckClient) -> None:
    finding = (await client.list_findings(customer_id=NADIA)).findings[0]
    with pytest.raises(FixNeedsSpecialist) as refused:
        await client.fix_finding(customer_id=NADIA, finding_id=finding.id, conversation_id="conv-nadia")
    assert refused.value.summary == finding.summary
    assert [reason.code for reason in refused.value.reasons] == ["above_credit_limit"]


def test_the_fix_key_fits_the_backend_header_rules() -> None:
    key = fix_key(conversation_id="a b/c" * 40, finding_id="fnd_" + "a" * 24)
    assert len(key) <= 128 and all(char.isalnum() or char in "._:-" for char in key)
