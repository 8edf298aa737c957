"""Narrowing several matching charges by the words of the customer's question."""

from datetime import date
from decimal import Decimal

from actions.charges import ChargeQuery, narrow_by_description
from actions.clients.billing import MatchedLineItem
from actions.conversation import CustomerTurn


def item(id_: int, description: str) -> MatchedLineItem:
    return MatchedLineItem(
        id=id_, description=description, charge_type="tax", amount=Decimal("1.00"), quantity=Decimal("1"),
        unit_rate=Decimal("1.00"), period_start=date(2026, 10, 1), period_end=date(2026, 10, 31),
        policy_rule="T-1", invoice_number="INV-2026-000706",
    )


TAXES = [
    item(1, "State sales tax"),
    item(2, "Federal Universal Service Fund fee"),
    item(3, "911 emergency service fee"),
]


def test_the_named_line_wins_among_lines_of_one_type() -> None:
    assert [m.id for m in narrow_by_description(TAXES, "what is the sales tax on my bill?")] == [1]
    assert [m.id for m in narrow_by_description(TAXES, "whats the universal service fund fee")] == [2]


def test_generic_words_keep_every_candidate() -> None:
    assert narrow_by_description(TAXES, "what are these taxes and fees on my bill") == TAXES
    assert narrow_by_description(TAXES, "") == TAXES


def test_a_tie_keeps_the_tied_lines_so_the_customer_chooses() -> None:
    both = [item(1, "Installation fee"), item(2, "Installation fee")]
    assert narrow_by_description(both, "charged twice for the installation") == both


def test_a_bare_amount_in_the_text_still_names_the_charge() -> None:
    """A bare "12.40" is no MONEY entity (docs/contracts.md, "Entities"), but it is the charge's amount."""
    bare = CustomerTurn(intent="explain_charge", text="what is the 12.40 on my bill", entities=[])
    assert ChargeQuery.from_turn(bare).amount == Decimal("12.40")
    money = CustomerTurn(intent="explain_charge", text="the $7.10 line, not 12.40",
                         entities=[{"entity": "MONEY", "value": "$7.10"}])
    assert ChargeQuery.from_turn(money).amount == Decimal("7.10")
    for text in ("data of 12.40 GB", "it came at 10.30 am", "charged on 12.05.2026"):
        assert ChargeQuery.from_turn(CustomerTurn(intent="explain_charge", text=text)).amount is None
