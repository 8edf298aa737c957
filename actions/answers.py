"""Answers from the customer's account: balance, due date, charges, one charge, bill increase, payments."""

import dataclasses
import json
import re
from datetime import date
from decimal import Decimal
from typing import Any

from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Tracker
from rasa_sdk.types import DomainDict

from actions.base import (
    TALK_TO_PERSON_BUTTON,
    AccountAnswerAction,
    AnswerContext,
    UsesPayments,
)
from actions.charges import (
    MAX_CHARGE_BUTTONS,
    ChargeQuery,
    ChargeResolution,
    amounts_in,
    charge_buttons,
    invoice_line_items,
    latest_invoice,
    line_asked_by_amount,
    only_line_with_amount,
    resolve_charge,
    waivable_late_fee,
    waiver_button,
)
from actions.clients.billing import Balance, BillChange, Invoice, MatchedLineItem
from actions.clients.errors import NotFound, ServiceError
from actions.conversation import CustomerTurn, current_customer_id, latest_turn
from actions.documents import ActionSendDocumentLink
from actions.documents_email import ActionEmailDocument
from actions.formatting import format_date, format_money, format_period, money_in
from actions.normalise import (
    CHARGE_TYPE_SYNONYMS,
    bare_amounts,
    normalise_date,
    normalise_invoice_number,
    normalise_money,
)
from actions.payments import (
    PAY_NOW_BUTTON,
    UPDATE_CARD_BUTTON,
    ActionSendSecurePaymentLink,
    name_payment_method_alerts,
    payment_amount_buttons,
)

MAX_CHANGES_LISTED = 3
# How a charge type is named when every line of it is explained at once.
CATEGORY_NAMES = {
    "tax": "tax and fee",
    "one_time": "one-time charge",
    "late_fee": "late fee",
    "usage": "usage",
    "equipment": "equipment",
    "plan": "plan",
    "proration": "prorated",
    "discount": "discount",
    "credit": "credit",
}
_CATEGORY_WORDS = re.compile(
    r"\b(these|those|all|each|every|both|taxes|fees|charges|surcharges|credits|discounts|lines)\b",
    re.IGNORECASE,
)
_WHAT_OR_WHY = re.compile(r"\b(why|what|explain|what's)\b", re.IGNORECASE)
_AUTOPAY_WORDS = re.compile(
    r"auto[\s-]?pay|automatic|direct debit|auto[\s-]?debit|recurring payment|standing order", re.IGNORECASE
)
# Whether the bill pays itself, asked without the word: "will it go out of my bank on its own, or do I have to
# pay it myself?" (not "how do I pay manually?", a question of how to pay)
_PAYS_ITSELF = re.compile(
    r"\b(?:go(?:es)?|comes?|taken|leaves?) (?:out|my (?:bank|account))\b[^.?!]{0,30}"
    r"\b(?:by itself|on its own|alone)\b"
    r"|\b(?:have|need|got) to (?:pay|do the payment|make the payment)(?: it| this| the bill)? "
    r"(?:myself|manually|by hand)\b"
    r"|\bI must (?:pay|do the payment|make the payment)(?: it| this| the bill)? "
    r"(?:myself|manually|by hand)\b",
    re.IGNORECASE,
)
_PAYMENT_WORDS = re.compile(
    r"\bpa(?:y|ys|id|ying|yment|yments)\b|refund|auto[\s-]?pay|debit|through|transfer|money|sent|settled"
    r"|\b(?:gone|went|go|come|came) out\b|\btaken\b|received|arrived|cleared|bank|card",
    re.IGNORECASE,
)
# "a $25 line on my bill", "this 65 charge": the customer points at a line, not at a payment
_NAMES_A_LINE = re.compile(r"\b(?:line|charge|fee|item|entry)\b", re.IGNORECASE)
_PAYMENT_OUTCOME_WORDS = re.compile(
    r"\b(?:go|gone|went|going|get|got) through\b"
    r"|\b(?:received|arrived?|processed|cleared|bounced?|fail(?:ed|s|ure)?|declined|rejected|succeeded|successful"
    r"|last|latest|previous)\b",
    re.IGNORECASE,
)
PAYMENT_STATUSES = ("pending", "posted", "failed", "reversed")
THANKS_BUTTON = {"title": "That's clear, thanks", "payload": "/thank"}
HOW_TO_PAY_BUTTON = {"title": "How can I pay?", "payload": "/how_to_pay"}
PAYMENT_METHOD_NAMES = {
    "card": "card",
    "bank_transfer": "bank transfer",
    "ach": "bank account (ACH)",
    "cash": "cash",
}


def _method(method: str | None) -> str:
    """"card" -> "card"; the backend's "online: Visa ending 2222" -> "Visa ending 2222"."""
    if not method:
        return "your payment method"
    if ":" in method:
        method = method.split(":", 1)[1].strip() or method
    return PAYMENT_METHOD_NAMES.get(method, method.replace("_", " "))


async def _balance(context: AnswerContext) -> Balance:
    """The account's balance; its currency is remembered for the answers that follow."""
    balance = await context.billing.get_balance(customer_id=context.customer_id)
    context.remember_currency(balance.currency)
    return balance


def _utter_past_due(context: AnswerContext, balance: Balance) -> None:
    if balance.past_due > 0:
        context.dispatcher.utter_message(
            response="utter_balance_past_due", past_due=format_money(balance.past_due, balance.currency)
        )


class ActionCheckBalance(AccountAnswerAction):
    def name(self) -> str:
        return "action_check_balance"

    async def answer(self, context: AnswerContext) -> None:
        balance = await _balance(context)
        money = money_in(balance.currency)
        if balance.total_due <= 0:
            context.dispatcher.utter_message(
                response="utter_balance_paid_up", total_due=money(balance.total_due)
            )
        elif balance.next_due_date is not None:
            context.dispatcher.utter_message(
                response="utter_balance",
                total_due=money(balance.total_due),
                next_due_amount=money(balance.amount_due_next),
                next_due_date=format_date(balance.next_due_date),
            )
        else:
            context.dispatcher.utter_message(
                response="utter_balance_no_due_date", total_due=money(balance.total_due)
            )
        _utter_past_due(context, balance)
        if balance.pending_payments > 0 and balance.total_due > 0:
            context.dispatcher.utter_message(
                response="utter_balance_after_pending",
                pending=money(balance.pending_payments),
                remaining=money(max(balance.total_due - balance.pending_payments, Decimal("0"))),
            )
        payment = balance.last_payment
        if payment is not None:
            status = payment.status if payment.status in PAYMENT_STATUSES else "posted"
            context.dispatcher.utter_message(
                response=f"utter_last_payment_{status}",
                amount=money(payment.amount),
                payment_date=format_date(payment.received_date),
                method=_method(payment.method),
            )
        await name_payment_method_alerts(context)  # "your card has expired" + Update card / Pay now


class ActionAskDueDate(AccountAnswerAction):
    def name(self) -> str:
        return "action_ask_due_date"

    async def answer(self, context: AnswerContext) -> None:
        balance = await _balance(context)
        money = money_in(balance.currency)
        if balance.next_due_date is None or (balance.total_due <= 0 and not balance.next_due_amount):
            context.dispatcher.utter_message(response="utter_nothing_due", total_due=money(balance.total_due))
            return
        context.dispatcher.utter_message(
            response="utter_due_date",
            next_due_amount=money(balance.amount_due_next),
            next_due_date=format_date(balance.next_due_date),
        )
        _utter_past_due(context, balance)
        if asks_about_autopay(context.turn.text):  # "is it taken automatically on the due date?"
            await answer_autopay(context)
        await name_payment_method_alerts(context)


class ActionListCharges(AccountAnswerAction):
    def name(self) -> str:
        return "action_list_charges"

    async def answer(self, context: AnswerContext) -> None:
        invoice = await _invoice_asked_about(context)
        if invoice is None:
            return
        context.remember_currency(invoice.currency)
        lines = "\n".join(
            f"• {item.description}: {format_money(item.amount, invoice.currency)}"
            for item in invoice.line_items
        )
        items = invoice_line_items(invoice)
        context.dispatcher.utter_message(
            response="utter_invoice_charges",
            invoice_number=invoice.number,
            period=format_period(invoice.period_start, invoice.period_end) or "this period",
            total=format_money(invoice.total, invoice.currency),
            due_date=format_date(invoice.due_date),
            lines=lines or "• (no charges)",
            buttons=charge_buttons(items, currency=invoice.currency, intent="explain_charge"),
        )


async def _invoice_asked_about(context: AnswerContext) -> Invoice | None:
    """The invoice the customer named, else their latest; None, with the reason said, when there is none."""
    invoice_number = normalise_invoice_number(context.turn.first_entity("invoice_number"))
    if not invoice_number:
        invoice = await latest_invoice(context.billing, customer_id=context.customer_id)
        if invoice is None:
            context.dispatcher.utter_message(response="utter_no_invoices")
        return invoice
    try:
        return await context.billing.get_invoice(
            customer_id=context.customer_id, invoice_number=invoice_number
        )
    except NotFound:
        context.dispatcher.utter_message(response="utter_invoice_not_found", invoice_number=invoice_number)
        return None


class ActionExplainCharge(UsesPayments, AccountAnswerAction):
    def name(self) -> str:
        return "action_explain_charge"

    async def answer(self, context: AnswerContext) -> None:
        query = ChargeQuery.from_turn(context.turn)
        # the question sentence's amount, not a charge the story before it named ("my plan is 60 ... what is
        # this extra 65?")
        asked = await line_asked_by_amount(context.billing, customer_id=context.customer_id,
                                           text=context.turn.text)
        if asked is not None:
            query = dataclasses.replace(query, line_item_id=str(asked.id))
        await self.explain_query(context, query)

    async def explain_query(self, context: AnswerContext, query: ChargeQuery) -> None:
        resolution = await resolve_charge(context.billing, customer_id=context.customer_id, query=query)
        await self.explain(context, query, resolution)

    async def explain(self, context: AnswerContext, query: ChargeQuery, resolution: ChargeResolution) -> None:
        currency = (
            resolution.latest_invoice.currency if resolution.latest_invoice else await context.currency()
        )
        context.remember_currency(currency)
        dispatcher = context.dispatcher
        if resolution.kind == "no_invoices":
            dispatcher.utter_message(response="utter_no_invoices")
            return
        if resolution.kind == "several" and asks_about_category(query, resolution.items):
            await explain_each(context, resolution.items, currency, category=query.name or "")
            return
        if resolution.kind == "several":
            dispatcher.utter_message(
                response="utter_several_charges_match",
                count=len(resolution.items),
                buttons=charge_buttons(resolution.items, currency=currency, intent="explain_charge"),
            )
            return
        if resolution.kind in ("none", "unspecified"):
            invoice = resolution.latest_invoice
            response = "utter_no_charge_match" if resolution.kind == "none" else "utter_which_charge"
            dispatcher.utter_message(
                response=response,
                query=query.describe(currency),
                invoice_number=invoice.number if invoice else "",
                buttons=charge_buttons(resolution.items, currency=currency, intent="explain_charge"),
            )
            return
        item = resolution.single
        explanation = resolution.explanation or await context.billing.explain_line_item(
            customer_id=context.customer_id, line_item_id=item.id
        )
        if item.amount >= 0:
            payload = f"/dispute_charge{json.dumps({'line_item_id': str(item.id)})}"
            buttons = [{"title": "Dispute this charge", "payload": payload}, THANKS_BUTTON]
        else:  # a credit is not disputed
            buttons = [THANKS_BUTTON, TALK_TO_PERSON_BUTTON]
        # a late fee the policy lets this customer have waived once: offered in the same answer
        waiver = await waivable_late_fee(self.payments, customer_id=context.customer_id, item=item)
        if waiver is not None:
            yes = waiver_button(line_item_id=item.id, amount=waiver.amount or item.amount, currency=currency)
            buttons = [yes, *buttons]
        dispatcher.utter_message(
            response="utter_charge_explanation_waiver_offer" if waiver else "utter_charge_explanation",
            description=item.description,
            amount=format_money(item.amount, currency),
            invoice_number=explanation.invoice_number,
            summary=explanation.summary,
            computation=explanation.computation or "It is a fixed amount.",
            policy=explanation.policy or "Standard billing terms.",
            buttons=buttons,
        )


class ActionAnswerInform(ActionExplainCharge):
    """A statement that answers no question of the bot ("the $20 router thing, how many more months?", "look
    up ACC-100002 for me"): from a verified customer, another account number is refused as in every answer,
    and an amount or charge name that points at one line (or one category) of their bills is explained;
    anything else, or a visitor not yet verified, gets "How can I help with your bill?"."""

    def name(self) -> str:
        return "action_answer_inform"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if current_customer_id(tracker) is None:  # nothing to look up, and no reason to ask who they are
            dispatcher.utter_message(response="utter_how_can_i_help")
            return []
        return await super().run(dispatcher, tracker, domain)

    async def answer(self, context: AnswerContext) -> None:
        query = ChargeQuery.from_turn(context.turn)
        if query.amount is None and query.name is None and query.line_item_id is None:
            context.dispatcher.utter_message(response="utter_how_can_i_help")
            return
        resolution = await resolve_charge(context.billing, customer_id=context.customer_id, query=query)
        category = resolution.kind == "several" and asks_about_category(query, resolution.items)
        if resolution.kind != "single" and not category:
            context.dispatcher.utter_message(response="utter_how_can_i_help")
            return
        await self.explain(context, query, resolution)


def asks_about_category(query: ChargeQuery, items: list[MatchedLineItem]) -> bool:
    """"these taxes and fees", "all the equipment charges": every line of one charge type on one bill."""
    return (
        query.name in CHARGE_TYPE_SYNONYMS
        and len({item.invoice_number for item in items}) == 1
        and _CATEGORY_WORDS.search(query.text) is not None
    )


async def explain_each(
    context: AnswerContext, items: list[MatchedLineItem], currency: str, *, category: str
) -> None:
    lines = []
    for item in items[:MAX_CHARGE_BUTTONS]:
        explanation = await context.billing.explain_line_item(
            customer_id=context.customer_id, line_item_id=item.id
        )
        how = f" {explanation.computation}" if explanation.computation else ""
        lines.append(f"• {explanation.summary}{how}")
    context.dispatcher.utter_message(
        response="utter_charge_group_explanation",
        category=CATEGORY_NAMES.get(category, category.replace("_", " ")),
        invoice_number=items[0].invoice_number,
        total=format_money(sum((item.amount for item in items), Decimal("0.00")), currency),
        lines="\n".join(lines),
        buttons=[THANKS_BUTTON, TALK_TO_PERSON_BUTTON],
    )


def _change_line(change: BillChange, currency: str) -> str:
    sign = "+" if change.difference > 0 else ""
    label = {"new": "new", "removed": "removed", "changed": "changed"}.get(change.kind, change.kind)
    line = f"• {change.description} ({label}): {sign}{format_money(change.difference, currency)}"
    if change.explanation:
        line += f". {change.explanation.rstrip('.')}."
    return line


class ActionExplainBillIncrease(AccountAnswerAction):
    def name(self) -> str:
        return "action_explain_bill_increase"

    async def answer(self, context: AnswerContext) -> None:
        invoice_number = normalise_invoice_number(context.turn.first_entity("invoice_number"))
        try:
            comparison = await context.billing.compare_bills(
                customer_id=context.customer_id, invoice_number=invoice_number
            )
        except NotFound:
            if invoice_number:
                context.dispatcher.utter_message(
                    response="utter_invoice_not_found", invoice_number=invoice_number
                )
            else:
                context.dispatcher.utter_message(response="utter_no_previous_bill")
            return
        currency = await context.currency()
        money = money_in(currency)
        if comparison.previous_invoice_number is None or comparison.previous_total is None:
            context.dispatcher.utter_message(
                response="utter_no_previous_bill", invoice_number=comparison.invoice_number
            )
            return
        changes = sorted(comparison.changes, key=lambda change: abs(change.difference), reverse=True)
        lines = "\n".join(_change_line(change, currency) for change in changes[:MAX_CHANGES_LISTED])
        common: dict[str, Any] = {
            "invoice_number": comparison.invoice_number,
            "current_total": money(comparison.current_total),
            "previous_invoice_number": comparison.previous_invoice_number,
            "previous_total": money(comparison.previous_total),
            "difference": money(abs(comparison.difference)),
            "lines": lines,
        }
        if comparison.difference > 0:
            context.dispatcher.utter_message(response="utter_bill_increase", **common)
        elif comparison.difference < 0:
            context.dispatcher.utter_message(response="utter_bill_decrease", **common)
        else:
            context.dispatcher.utter_message(response="utter_bill_same", **common)


class ActionPaymentStatus(AccountAnswerAction):
    def name(self) -> str:
        return "action_payment_status"

    async def answer(self, context: AnswerContext) -> None:
        about_autopay = asks_about_autopay(context.turn.text)
        if about_autopay and not asks_how_a_payment_went(context.turn.text):
            await answer_autopay(context)  # "does it come out automatically?": the state is the answer
            return
        if asks_what_a_charge_is(context.turn):
            # "I paid on time, so why is there a late fee?": the charge is the question, not the payment
            await ActionExplainCharge(billing=context.billing).answer(context)
            return
        on_date = next(
            (
                d
                for d in (normalise_date(text) for text in context.turn.entity_values("DATE"))
                if d is not None
            ),
            None,
        )
        amount: Decimal | None = next(
            (
                a
                for a in (normalise_money(text) for text in [
                    *context.turn.entity_values("MONEY"), *bare_amounts(context.turn.text)
                ])
                if a is not None
            ),
            None,
        )
        payments = await context.billing.list_payments(
            customer_id=context.customer_id, on_date=on_date, amount=amount
        )
        if not payments and amount is not None and await self.explained_line_of_that_amount(context):
            return
        if not payments and (on_date or amount):
            payments = await context.billing.list_payments(customer_id=context.customer_id)
            if payments:
                context.dispatcher.utter_message(response="utter_payment_not_matched")
        if not payments:
            context.dispatcher.utter_message(response="utter_no_payments")
            return
        currency = await context.currency()
        payment = sorted(
            payments, key=lambda p: (p.received_date is not None, p.received_date), reverse=True
        )[0]
        details: dict[str, Any] = {
            "amount": format_money(payment.amount, currency),
            "payment_date": format_date(payment.received_date),
            "method": _method(payment.method),
        }
        if payment.status == "failed":
            context.dispatcher.utter_message(
                response="utter_payment_failed",
                failure_reason=(payment.failure_reason or "the payment was declined").rstrip("."),
                buttons=[HOW_TO_PAY_BUTTON, TALK_TO_PERSON_BUTTON],
                **details,
            )
        elif payment.status in PAYMENT_STATUSES:
            context.dispatcher.utter_message(response=f"utter_payment_{payment.status}", **details)
        else:
            context.dispatcher.utter_message(response="utter_payment_other", status=payment.status, **details)
        if about_autopay:  # "did my autopay payment go through?": the payment above, then the state
            await utter_autopay_state(context)  # the failure, if any, was just told
        await name_payment_method_alerts(context)


    @staticmethod
    async def explained_line_of_that_amount(context: AnswerContext) -> bool:
        """"There's a $25 line on my new bill. Is that a fee because the card payment didn't work?": no
        payment of that amount, one line of the latest bill, named as a line: the line is the question."""
        text = context.turn.text
        if _NAMES_A_LINE.search(text) is None or asks_how_a_payment_went(text):
            return False
        invoice = await latest_invoice(context.billing, customer_id=context.customer_id)
        amounts = amounts_in(text, context.turn.entity_values("MONEY"))
        line = only_line_with_amount(invoice_line_items(invoice), amounts) if invoice else None
        if line is None:
            return False
        query = dataclasses.replace(ChargeQuery.from_turn(context.turn), line_item_id=str(line.id))
        await ActionExplainCharge(billing=context.billing).explain_query(context, query)
        return True


class ActionHowToPay(AccountAnswerAction):
    """Works for everyone: a verified customer also hears their autopay and saved methods (after the account
    check's offer when it is due, actions/account_check_offer.py). Whether the bill is paid automatically is
    a question about the account: an unverified visitor asking it is verified first, then answered by
    action_answer_after_verification (actions/dialogue.py)."""

    def name(self) -> str:
        return "action_how_to_pay"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if current_customer_id(tracker) is not None:
            return await super().run(dispatcher, tracker, domain)
        if not asks_about_autopay(latest_turn(tracker).text):
            dispatcher.utter_message(response="utter_how_to_pay_general")
            return []
        dispatcher.utter_message(response="utter_autopay_verify_first")
        if tracker.active_loop.get("name"):
            return []  # the form already running verifies the visitor; the answer comes after it
        return [FollowupAction("verify_identity_form")]

    async def answer(self, context: AnswerContext) -> None:
        try:
            if asks_about_autopay(context.turn.text):
                # "does my bill get paid automatically?": the account's autopay state is the answer
                await answer_autopay(context)
            else:
                await self.ways_to_pay(context)
        except ServiceError:
            context.dispatcher.utter_message(response="utter_how_to_pay_general")

    async def ways_to_pay(self, context: AnswerContext) -> None:
        dispatcher, billing, customer_id = context.dispatcher, context.billing, context.customer_id
        methods = await billing.get_payment_methods(customer_id=customer_id)
        ways = "\n".join(f"• {way.instructions}" for way in methods.ways_to_pay)
        if ways:
            dispatcher.utter_message(response="utter_how_to_pay", ways=ways)
        else:
            dispatcher.utter_message(response="utter_how_to_pay_general")
        saved = methods.on_file[0].masked if methods.on_file and methods.on_file[0].masked else None
        if methods.autopay:
            dispatcher.utter_message(
                response="utter_autopay_on", payment_method=saved or "your saved payment method"
            )
        else:
            dispatcher.utter_message(response="utter_autopay_off")
        # "I want to pay my bill" is often read as this question: the offer to pay here names the amounts
        # owed, each a button that goes straight to the confirmation (amount, method, balance after, Yes/No).
        try:
            amounts = payment_amount_buttons(await billing.get_balance(customer_id=customer_id))
        except ServiceError:
            amounts = []
        dispatcher.utter_message(response="utter_pay_in_chat",
                                 buttons=[*(amounts or [PAY_NOW_BUTTON]), UPDATE_CARD_BUTTON])


def asks_what_a_charge_is(turn: CustomerTurn) -> bool:
    """A charge named (entity or words) in a "what / why / explain" question, whatever else is said, or named
    with its amount in a question with no word of paying ("the $60 one, is that just my plan?")."""
    query = ChargeQuery.from_turn(turn)
    if query.name is None:
        return False
    if _WHAT_OR_WHY.search(turn.text) is not None:
        return True
    # a line pointed at by its amount and name, with nothing about money going anywhere
    return query.amount is not None and _PAYMENT_WORDS.search(turn.text) is None


def asks_about_autopay(text: str) -> bool:
    """"does the payment come out automatically?", "is autopay on?", "or do I have to pay it myself?"."""
    return not text.startswith("/") and (
        _AUTOPAY_WORDS.search(text) is not None or _PAYS_ITSELF.search(text) is not None
    )


def asks_how_a_payment_went(text: str) -> bool:
    """"did my last autopay payment go through?": a payment's outcome, not whether autopay is on."""
    return _PAYMENT_OUTCOME_WORDS.search(text) is not None


async def answer_autopay(context: AnswerContext) -> None:
    """Whether autopay is on, and if so whether the last automatic payment failed."""
    if await utter_autopay_state(context):
        await utter_last_automatic_payment_failure(context)


async def utter_autopay_state(context: AnswerContext) -> bool:
    """"Autopay is on: each bill is charged to ..." or "Autopay is off"; True when it is on."""
    methods = await context.billing.get_payment_methods(customer_id=context.customer_id)
    if not methods.autopay:
        context.dispatcher.utter_message(response="utter_autopay_off")
        return False
    saved = methods.on_file[0].masked if methods.on_file and methods.on_file[0].masked else None
    context.dispatcher.utter_message(
        response="utter_autopay_on", payment_method=saved or "your saved payment method"
    )
    return True


async def utter_last_automatic_payment_failure(context: AnswerContext) -> None:
    """The latest payment, when it was an automatic one that failed."""
    payments = await context.billing.list_payments(customer_id=context.customer_id)
    dated = [p for p in payments if p.received_date is not None]
    latest = max(dated, key=lambda p: p.received_date or date.min) if dated else None
    if latest is not None and latest.status == "failed" and (latest.method or "").startswith("autopay"):
        currency = await context.currency()
        context.dispatcher.utter_message(
            response="utter_autopay_last_payment_failed",
            amount=format_money(latest.amount, currency),
            payment_date=format_date(latest.received_date),
            failure_reason=(latest.failure_reason or "the payment was declined").rstrip("."),
            buttons=[HOW_TO_PAY_BUTTON, TALK_TO_PERSON_BUTTON],
        )


# The question an anonymous visitor asked before verifying is answered by the same code afterwards.
ANSWERS_BY_INTENT: dict[str, type[AccountAnswerAction]] = {
    "check_balance": ActionCheckBalance,
    "ask_due_date": ActionAskDueDate,
    "list_charges": ActionListCharges,
    "explain_charge": ActionExplainCharge,
    "explain_bill_increase": ActionExplainBillIncrease,
    "payment_status": ActionPaymentStatus,
    "update_payment_method": ActionSendSecurePaymentLink,  # the secure payment page, once verified
    "request_document": ActionSendDocumentLink,  # a bill/statement/credit memo PDF link (issue 19)
    "email_document": ActionEmailDocument,  # the same PDF emailed to the address on file (issue 19)
    "how_to_pay": ActionHowToPay,  # only when it asked whether the bill is paid automatically
}


def asks_about_the_account(turn: CustomerTurn) -> bool:
    """A question only the customer's account answers; "how can I pay?" is answered for anyone at once, but
    "does my bill get paid automatically?" (how_to_pay too) depends on the account's autopay."""
    if turn.intent == "how_to_pay":
        return asks_about_autopay(turn.text)
    return turn.intent in ANSWERS_BY_INTENT
