"""The account check: loads a customer's recent billing data, runs the detectors, and fixes a finding within
policy (a dispute opened and accepted by the system, with a credit), once per finding.

The detectors are pure (detectors.py); this module reads the database, applies the bot's limits from Settings
and records the fix (audited, Idempotency-Key through payments/idempotency.py).
"""

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import BindParameter, Integer, bindparam, func, or_, select
from sqlalchemy.orm import Session

from backend.account_check import detectors as d
from backend.account_check.schemas import (
    EvidenceLine,
    EvidenceOut,
    FindingOut,
    FindingsOut,
    FixOut,
    RuleOut,
    SuggestedFix,
)
from backend.arrangements.policy import Reason
from backend.arrangements.schemas import ReasonOut
from backend.audit import service as audit
from backend.auth import Actor
from backend.billing.ledger import ZERO
from backend.billing.models import Invoice, LineItem, PolicyRule
from backend.billing.service import compare_bills, get_balance
from backend.config import Settings
from backend.customers.models import Account
from backend.customers.service import get_account
from backend.disputes import service as disputes
from backend.disputes.models import Credit, Dispute
from backend.disputes.router import credit_out, dispute_out
from backend.enums import OPEN_DISPUTE_STATUSES, DisputeStatus
from backend.errors import FindingNotFound, Forbidden, SpecialistRequired
from backend.money import format_money
from backend.payments.idempotency import AlreadyAnswered, fingerprint, idempotent
from backend.payments.models import Payment
from backend.system_credits.limits import effective_settings

SYSTEM_ACCOUNT_CHECK = Actor(role="system", username="account-check")
# The kinds policy lets the bot settle on its own (issue 18); the others go to a specialist.
BOT_FIXABLE_KINDS = frozenset({d.DUPLICATE_CHARGE, d.LATE_FEE_PAID_ON_TIME})
FIX_ROLES = frozenset({"bot", "specialist", "supervisor", "admin"})
YEAR = timedelta(days=365)


def credit_key(finding_id: str) -> str:
    """The credit's idempotency key: unique in the credits table, so one finding is credited once."""
    return f"account-check:{finding_id}"


REVERSAL_PREFIX = "reversal:account-check:"


def reversal_key(key: str) -> str:
    """The key of the one reversal of the credit keyed `key` (backend/system_credits/, issue 18)."""
    return f"reversal:{key}"


# Built once (statement construction costs more than these indexed lookups); bound per call.
_ACCOUNT_ID: BindParameter[int] = bindparam("account_id", type_=Integer)
_CUSTOMER_ID: BindParameter[int] = bindparam("customer_id", type_=Integer)
# One round trip for the invoices, their lines and what was credited on each line (credits by line: indexed).
_CREDITED_ON_LINE = (
    select(func.sum(Credit.amount))
    .where(Credit.line_item_id == LineItem.id)
    .correlate(LineItem)
    .scalar_subquery()
)
INVOICE_LINES = (
    select(
        Invoice.id.label("invoice_id"),
        Invoice.number,
        Invoice.period_start,
        Invoice.period_end,
        Invoice.issue_date,
        Invoice.due_date,
        Invoice.total,
        Invoice.status,
        LineItem.id,
        LineItem.charge_type,
        LineItem.description,
        LineItem.amount,
        LineItem.quantity,
        LineItem.unit_rate,
        LineItem.policy_rule,
        LineItem.facts,
        _CREDITED_ON_LINE.label("credited"),
    )
    .outerjoin(LineItem, LineItem.invoice_id == Invoice.id)
    .where(Invoice.account_id == _ACCOUNT_ID)
    .order_by(Invoice.issue_date, Invoice.id, LineItem.position, LineItem.id)
)
DISPUTES = select(Dispute.id, Dispute.line_item_id, Dispute.status).where(Dispute.customer_id == _CUSTOMER_ID)
PAYMENTS = select(
    Payment.id,
    Payment.invoice_id,
    Payment.amount,
    Payment.received_date,
    Payment.status,
    Payment.source,
    Payment.method,
).where(Payment.account_id == _ACCOUNT_ID)
RULES = select(PolicyRule.code, PolicyRule.title, PolicyRule.description, PolicyRule.parameters)
RULES_CACHE_SECONDS = 60.0  # policy rules are reference data: a change shows within a minute
_rules_cache: dict[str, tuple[float, dict[str, d.Rule]]] = {}


def _disputed_lines(session: Session, *, account: Account) -> tuple[dict[int, int], set[int]]:
    """The open dispute of each line, and the lines with an accepted dispute."""
    open_disputes: dict[int, int] = {}
    accepted: set[int] = set()
    for dispute_id, line_id, status in session.execute(DISPUTES, {"customer_id": account.customer_id}):
        if status in OPEN_DISPUTE_STATUSES:
            open_disputes[line_id] = dispute_id
        elif status == DisputeStatus.accepted:
            accepted.add(line_id)
    return open_disputes, accepted


def _policy_rules(session: Session) -> dict[str, d.Rule]:
    key = str(session.get_bind().engine.url)
    cached = _rules_cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < RULES_CACHE_SECONDS:
        return cached[1]
    rules = {
        row.code: d.Rule(
            code=row.code, title=row.title, text=row.description, parameters=row.parameters or {}
        )
        for row in session.execute(RULES)
    }
    _rules_cache[key] = (time.monotonic(), rules)
    return rules


def load_account_data(
    session: Session, *, account: Account, today: date, settings: Settings
) -> d.AccountData:
    open_disputes, accepted = _disputed_lines(session, account=account)
    invoices: dict[int, Any] = {}
    lines: dict[int, list[d.Line]] = {}
    for row in session.execute(INVOICE_LINES, {"account_id": account.id}):
        if str(row.status) == "void":
            continue
        invoices.setdefault(row.invoice_id, row)
        invoice_lines = lines.setdefault(row.invoice_id, [])
        if row.id is not None:
            invoice_lines.append(
                d.Line(
                    id=row.id,
                    charge_type=str(row.charge_type),
                    description=row.description,
                    amount=row.amount,
                    quantity=Decimal(row.quantity),
                    unit_rate=row.unit_rate,
                    policy_rule=row.policy_rule,
                    facts=row.facts or {},
                    credited=row.credited or ZERO,
                    open_dispute_id=open_disputes.get(row.id),
                    dispute_accepted=row.id in accepted,
                )
            )
    payments = tuple(
        d.PaymentFact(
            id=row.id,
            invoice_id=row.invoice_id,
            amount=row.amount,
            received_date=row.received_date,
            status=str(row.status),
            source=row.source,
            method=row.method,
        )
        for row in session.execute(PAYMENTS, {"account_id": account.id})
    )
    return d.AccountData(
        customer_id=account.customer_id,
        currency=account.currency,
        today=today,
        bills=tuple(
            d.Bill(
                id=invoice.invoice_id,
                number=invoice.number,
                period_start=invoice.period_start,
                period_end=invoice.period_end,
                issue_date=invoice.issue_date,
                due_date=invoice.due_date,
                total=invoice.total,
                lines=tuple(lines[invoice.invoice_id]),
            )
            for invoice in invoices.values()
        ),
        payments=payments,
        rules=_policy_rules(session),
        lookback_days=settings.account_check_lookback_days,
        bill_shock_percent=settings.account_check_bill_shock_percent,
    )


def granted_in_12_months(session: Session, *, account: Account, now: datetime) -> Decimal:
    """What the system already credited this customer in the last 365 days (the yearly limit counts it)."""
    total = session.scalar(
        select(func.sum(Credit.amount)).where(
            Credit.account_id == account.id,
            or_(
                Credit.issued_by == SYSTEM_ACCOUNT_CHECK.label,
                Credit.idempotency_key.startswith(REVERSAL_PREFIX),  # a reversed credit was not granted
            ),
            Credit.created_at >= now - YEAR,
        )
    )
    return total or ZERO


def handover_reasons(
    finding: d.Finding, *, settings: Settings, granted: Decimal, currency: str
) -> list[Reason]:
    """Why the bot may not settle this finding on its own (empty: it may)."""
    if finding.kind == d.BILL_SHOCK:
        return [Reason("nothing_to_fix", "A higher bill is explained, not credited.")]
    m = partial(format_money, currency=currency)
    reasons = []
    if finding.kind not in BOT_FIXABLE_KINDS:
        reasons.append(Reason("kind_needs_specialist", "A billing specialist reviews this kind of error."))
    if finding.confidence < settings.account_check_min_confidence:
        reasons.append(
            Reason("low_confidence", "The evidence is not clear enough to correct it automatically.")
        )
    if finding.amount > settings.account_check_max_credit:
        reasons.append(
            Reason(
                "above_credit_limit",
                f"{m(finding.amount)} is more than the {m(settings.account_check_max_credit)} the assistant "
                "may credit.",
            )
        )
    elif granted + finding.amount > settings.account_check_max_credit_12_months:
        reasons.append(
            Reason(
                "above_yearly_limit",
                f"The assistant may credit up to {m(settings.account_check_max_credit_12_months)} in 12 "
                f"months; "
                f"{m(granted)} was already credited.",
            )
        )
    if finding.open_dispute_id is not None:
        reasons.append(
            Reason(
                "dispute_open", f"Dispute {finding.open_dispute_id} on this charge is already with a person."
            )
        )
    return reasons


def _suggested_fix(finding: d.Finding, reasons: list[Reason], currency: str) -> SuggestedFix:
    if finding.kind == d.BILL_SHOCK:
        return SuggestedFix(action="explain", description="Explain what changed on the latest bill.")
    credit = f"Credit {format_money(finding.amount, currency)} on invoice {finding.invoice_number}"
    if reasons:
        return SuggestedFix(action="specialist", description=f"{credit}, after a specialist's review.")
    return SuggestedFix(action="credit", description=f"{credit} now (accepted by the system).")


def finding_out(finding: d.Finding, *, reasons: list[Reason], currency: str) -> FindingOut:
    rule = finding.rule
    return FindingOut(
        id=finding.id,
        kind=finding.kind,
        summary=finding.summary,
        confidence=finding.confidence,
        amount=finding.amount,
        invoice_number=finding.invoice_number,
        line_item_id=finding.line_item_id,
        evidence=EvidenceOut(
            line_items=[
                EvidenceLine(
                    id=line.id,
                    invoice_number=number,
                    description=line.description,
                    charge_type=line.charge_type,
                    amount=line.amount,
                )
                for line, number in finding.evidence_lines
            ],
            dates=dict(finding.dates),
            amounts=dict(finding.amounts),
            policy_rule=RuleOut(code=rule.code, title=rule.title, text=rule.text) if rule else None,
            explanation=finding.explanation,
        ),
        suggested_fix=_suggested_fix(finding, reasons, currency),
        bot_may_fix=not reasons,
        handover_reasons=[ReasonOut(code=r.code, message=r.message) for r in reasons],
    )


@dataclass
class Checked:
    account: Account
    data: d.AccountData
    findings: list[tuple[d.Finding, list[Reason]]]


def _check(session: Session, *, account: Account, today: date, now: datetime, settings: Settings) -> Checked:
    data = load_account_data(session, account=account, today=today, settings=settings)
    found = d.run_detectors(data)
    granted = granted_in_12_months(session, account=account, now=now) if found else ZERO
    findings = []
    for finding in found:
        if finding.kind == d.BILL_SHOCK:
            comparison = compare_bills(session, customer_id=account.customer_id, invoice_number=None)
            finding = _with_explanation(finding, comparison.summary)
        reasons = handover_reasons(finding, settings=settings, granted=granted, currency=account.currency)
        findings.append((finding, reasons))
    findings.sort(key=lambda pair: (bool(pair[1]), -pair[0].amount, d.KINDS.index(pair[0].kind)))
    return Checked(account=account, data=data, findings=findings)


def _with_explanation(finding: d.Finding, explanation: str) -> d.Finding:
    fields: dict[str, Any] = {**finding.__dict__, "explanation": explanation}
    return d.Finding(**fields)


def list_findings(
    session: Session, *, customer_id: int, today: date, now: datetime, settings: Settings
) -> FindingsOut:
    account = get_account(session, customer_id=customer_id)
    settings = effective_settings(session, settings)
    checked = _check(session, account=account, today=today, now=now, settings=settings)
    return FindingsOut(
        customer_id=customer_id,
        currency=account.currency,
        checked_on=today,
        findings=[
            finding_out(finding, reasons=reasons, currency=account.currency)
            for finding, reasons in checked.findings
        ],
    )


def _fix_answer(session: Session, *, finding_id: str, kind: str, credit: Credit, today: date) -> FixOut:
    assert credit.dispute_id is not None
    dispute = session.get(Dispute, credit.dispute_id)
    assert dispute is not None
    line = session.get(LineItem, dispute.line_item_id)
    assert line is not None
    invoice = session.get(Invoice, line.invoice_id)
    assert invoice is not None
    balance = get_balance(session, customer_id=dispute.customer_id, today=today)
    currency = balance.ledger.account.currency
    view = disputes.DisputeView(dispute=dispute, line=line, invoice=invoice, credit=credit)
    m = partial(format_money, currency=currency)
    return FixOut(
        finding_id=finding_id,
        kind=kind,
        status="fixed",
        dispute=dispute_out(session, view),
        credit=credit_out(disputes.credit_view(session, credit)),
        total_due=balance.ledger.total_due,
        currency=currency,
        summary=(
            f"Done: {m(credit.amount)} is credited for the {line.description} on invoice {invoice.number}. "
            f"Your balance is now {m(balance.ledger.total_due)}."
        ),
    )


def _kind_of(credit: Credit) -> str:
    """The finding kind recorded in the dispute reason ("Account check fnd_...(kind): ...")."""
    dispute_reason = credit.reason
    for kind in d.KINDS:
        if f"({kind})" in dispute_reason:
            return kind
    return "unknown"


def _dispute_text(finding: d.Finding, currency: str) -> str:
    rule = f"{finding.rule.code} ({finding.rule.title})" if finding.rule else "no rule recorded"
    lines = ", ".join(
        f"line item {line.id} on {number}: {line.description} {format_money(line.amount, currency)}"
        for line, number in finding.evidence_lines
    )
    return (
        f"Account check {finding.id} ({finding.kind}): {finding.summary} Evidence: {lines}. "
        f"{finding.explanation} Rule: {rule}."
    )[:2000]


def fix_finding(
    session: Session,
    *,
    customer_id: int,
    finding_id: str,
    conversation_id: str | None,
    actor: Actor,
    idempotency_key: str,
    today: date,
    now: datetime,
    settings: Settings,
) -> tuple[FixOut, bool]:
    """Opens the finding's dispute and accepts it as the system with a credit; one credit per finding,
    whatever the number of requests or keys. Raises SpecialistRequired outside the bot's policy and limits."""
    if actor.role not in FIX_ROLES:
        raise Forbidden(f"The role {actor.role!r} may not fix findings; use bot or staff.")
    request = fingerprint(
        op="account-check-fix", customer_id=customer_id, finding_id=finding_id, role=actor.role
    )

    def write() -> FixOut:
        get_account(session, customer_id=customer_id)
        # The account row locked (PostgreSQL): two tabs fixing findings of one customer go one by one.
        account = session.scalar(select(Account).where(Account.customer_id == customer_id).with_for_update())
        assert account is not None
        key = credit_key(finding_id)
        earlier = session.scalar(select(Credit).where(Credit.idempotency_key == key))
        if earlier is not None:
            raise AlreadyAnswered(
                _fix_answer(
                    session, finding_id=finding_id, kind=_kind_of(earlier), credit=earlier, today=today
                )
            )
        limits = effective_settings(session, settings)  # a supervisor's override of the limits
        checked = _check(session, account=account, today=today, now=now, settings=limits)
        match = next(((f, r) for f, r in checked.findings if f.id == finding_id), None)
        if match is None:
            raise FindingNotFound("No such finding on this account now.")
        finding, reasons = match
        if reasons:
            raise SpecialistRequired(
                "A billing specialist must review this finding.",
                reasons=[{"code": r.code, "message": r.message} for r in reasons],
                summary=finding.summary,
                finding=finding_out(finding, reasons=reasons, currency=account.currency).model_dump(
                    mode="json"
                ),
            )
        assert finding.line_item_id is not None
        text = _dispute_text(finding, account.currency)
        dispute = Dispute(
            customer_id=customer_id,
            line_item_id=finding.line_item_id,
            amount=finding.amount,
            reason=text,
            status=DisputeStatus.open,
            conversation_id=conversation_id,
            opened_by=actor.label,
        )
        session.add(dispute)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="write.dispute.open",
            resource=f"dispute:{dispute.id}",
            customer_id=customer_id,
            reason=text,
            details={
                "line_item_id": finding.line_item_id,
                "amount": f"{finding.amount:.2f}",
                "conversation_id": conversation_id,
                "finding_id": finding.id,
            },
        )
        audit.record(
            session,
            actor=actor,
            action="write.account_check.fix",
            resource=f"finding:{finding.id}",
            customer_id=customer_id,
            reason=finding.summary,
            details={
                "dispute_id": dispute.id,
                "finding": finding_out(finding, reasons=[], currency=account.currency).model_dump(
                    mode="json"
                ),
            },
        )
        view = disputes.settle_dispute(
            session,
            dispute_id=dispute.id,
            decision="accepted",
            note=text,
            credit_amount=finding.amount,
            idempotency_key=key,
            actor=SYSTEM_ACCOUNT_CHECK,
            now=now,
        )
        assert view.credit is not None
        return _fix_answer(session, finding_id=finding.id, kind=finding.kind, credit=view.credit, today=today)

    return idempotent(
        session,
        key=idempotency_key,
        request=request,
        customer_id=customer_id,
        answer_type=FixOut,
        write=write,
    )
