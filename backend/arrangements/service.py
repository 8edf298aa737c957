"""Payment arrangements: facts for the policy, creating promises, plans and waivers, and tracking them.

The rules are in arrangements/policy.py; this module gathers the facts, records the outcome (audited, with
Idempotency-Key through payments/idempotency.py) and keeps the arrangements' status up to date.
"""

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.arrangements import policy
from backend.arrangements.models import Arrangement, Instalment
from backend.arrangements.schemas import (
    ArrangementOut,
    InstalmentOut,
    OptionsOut,
    PlanChoice,
    PlanOption,
    PromiseOption,
    ReasonOut,
    WaiverOption,
    WaiverOut,
)
from backend.audit import service as audit
from backend.auth import Actor
from backend.billing.ledger import ZERO
from backend.billing.models import Invoice, LineItem
from backend.billing.service import get_balance
from backend.config import Settings
from backend.customers.models import Account
from backend.customers.service import get_account
from backend.disputes.models import Credit
from backend.disputes.router import credit_out
from backend.disputes.service import credit_view, issue_credit
from backend.enums import ChargeType, PaymentStatus
from backend.errors import Forbidden, OutsidePolicy
from backend.payments.idempotency import fingerprint, idempotent
from backend.payments.models import Payment

HOLDING = (
    "active",
    "kept",
    "completed",
)  # arrangements that keep late fees away from the invoices they cover


def _locked_account(session: Session, *, customer_id: int) -> Account:
    """The account row locked for the write (PostgreSQL): two arrangements at once are checked one by one."""
    get_account(session, customer_id=customer_id)
    account = session.scalar(select(Account).where(Account.customer_id == customer_id).with_for_update())
    assert account is not None
    return account


def gather_facts(session: Session, *, account: Account, today: date) -> policy.AccountFacts:
    balance = get_balance(session, customer_id=account.customer_id, today=today)
    unpaid = [s for s in balance.ledger.standings if s.amount_due > ZERO]
    oldest = min(unpaid, key=lambda s: s.invoice.due_date) if unpaid else None
    past_due_dates = [s.invoice.due_date for s in unpaid if s.invoice.due_date < today]
    arrangements = list(session.scalars(select(Arrangement).where(Arrangement.account_id == account.id)))
    broken_plans = [
        a.closed_on or a.created_on
        for a in arrangements
        if a.kind == "instalment_plan" and a.status == "broken"
    ]
    waivers = [a.created_on for a in arrangements if a.kind == "late_fee_waiver"]
    credited = dict(
        session.execute(
            select(Credit.line_item_id, func.sum(Credit.amount))
            .where(Credit.account_id == account.id)
            .group_by(Credit.line_item_id)
        )

        .all()
    )
    fees = tuple(
        policy.LateFee(
            line_item_id=line.id,
            invoice_number=invoice.number,
            issued_on=invoice.issue_date,
            amount=line.amount,
            credited=credited.get(line.id) or ZERO,
        )
        for line, invoice in session.execute(
            select(LineItem, Invoice)
            .join(Invoice, LineItem.invoice_id == Invoice.id)
            .where(Invoice.account_id == account.id, LineItem.charge_type == ChargeType.late_fee)
        )
    )
    return policy.AccountFacts(
        today=today,
        currency=account.currency,
        total_due=balance.ledger.total_due,
        past_due=balance.past_due,
        oldest_unpaid_due_date=oldest.invoice.due_date if oldest else None,
        oldest_unpaid_amount=oldest.amount_due if oldest else ZERO,
        latest_past_due_date=max(past_due_dates) if past_due_dates else None,
        active_kinds=frozenset(a.kind for a in arrangements if a.status == "active"),
        last_broken_plan_on=max(broken_plans) if broken_plans else None,
        last_waiver_on=max(waivers) if waivers else None,
        late_fees=fees,
    )


def arrangement_out(arrangement: Arrangement, *, customer_id: int) -> ArrangementOut:
    return ArrangementOut(
        id=arrangement.id,
        customer_id=customer_id,
        kind=arrangement.kind,
        status=arrangement.status,
        amount=arrangement.amount,
        pay_by=arrangement.pay_by,
        instalments=[
            InstalmentOut(number=i.number, due_date=i.due_date, amount=i.amount, status=i.status)
            for i in arrangement.instalments
        ],
        line_item_id=arrangement.line_item_id,
        credit_id=arrangement.credit_id,
        approved_outside_policy=arrangement.approved_outside_policy,
        note=arrangement.note,
        created_by=arrangement.created_by,
        created_at=arrangement.created_at,
        closed_on=arrangement.closed_on,
    )


def _reasons(reasons: list[policy.Reason]) -> list[ReasonOut]:
    return [ReasonOut(code=r.code, message=r.message) for r in reasons]


def list_arrangements(
    session: Session, *, customer_id: int, active_only: bool = False
) -> list[ArrangementOut]:
    account = get_account(session, customer_id=customer_id)
    query = select(Arrangement).where(Arrangement.account_id == account.id)
    if active_only:
        query = query.where(Arrangement.status == "active")
    rows = session.scalars(query.order_by(Arrangement.created_at.desc(), Arrangement.id.desc()))
    return [arrangement_out(a, customer_id=customer_id) for a in rows]


def options(session: Session, *, customer_id: int, today: date, settings: Settings) -> OptionsOut:
    account = get_account(session, customer_id=customer_id)
    evaluate_arrangements(session, account=account, today=today)
    session.commit()
    facts = gather_facts(session, account=account, today=today)
    numbers = policy.PolicyNumbers.from_settings(settings)
    promise = policy.promise_terms(facts, numbers)
    plan = policy.plan_terms(facts, numbers)
    waiver = policy.waiver_terms(facts, numbers)
    return OptionsOut(
        currency=account.currency,
        total_due=facts.total_due,
        past_due=facts.past_due,
        oldest_unpaid_due_date=facts.oldest_unpaid_due_date,
        active=list_arrangements(session, customer_id=customer_id, active_only=True),
        promise_to_pay=PromiseOption(
            eligible=promise.eligible,
            reasons=_reasons(promise.reasons),
            earliest_date=promise.earliest,
            latest_date=promise.latest,
            minimum_amount=promise.minimum,
            maximum_amount=promise.maximum,
        ),
        instalment_plan=PlanOption(
            eligible=plan.eligible,
            reasons=_reasons(plan.reasons),
            amount=plan.amount,
            choices=[
                PlanChoice(
                    instalments=count,
                    amount_each=schedule[0].amount,
                    schedule=[
                        InstalmentOut(number=i.number, due_date=i.due_date, amount=i.amount) for i in schedule
                    ],
                )
                for count, schedule in plan.choices.items()
            ],
        ),
        late_fee_waiver=WaiverOption(
            eligible=waiver.eligible,
            reasons=_reasons(waiver.reasons),
            line_item_id=waiver.fee.line_item_id if waiver.fee and waiver.eligible else None,
            invoice_number=waiver.fee.invoice_number if waiver.fee and waiver.eligible else None,
            amount=waiver.fee.amount - waiver.fee.credited if waiver.fee and waiver.eligible else None,
        ),
    )


def _approve(actor: Actor, *, override_policy: bool, reasons: list[policy.Reason]) -> bool:
    """True when staff approves outside policy; raises OutsidePolicy (422 with reasons) otherwise."""
    if override_policy and not actor.is_staff:
        raise Forbidden("Only a specialist or supervisor may approve an arrangement outside policy.")
    if reasons and not override_policy:
        raise OutsidePolicy(
            " ".join(r.message for r in reasons),
            reasons=[{"code": r.code, "message": r.message} for r in reasons],
        )
    return bool(reasons)


def create_arrangement(
    session: Session,
    *,
    customer_id: int,
    kind: str,
    amount: Decimal | None,
    pay_by: date | None,
    instalments: int | None,
    override_policy: bool,
    note: str | None,
    conversation_id: str | None,
    actor: Actor,
    idempotency_key: str,
    today: date,
    settings: Settings,
) -> tuple[ArrangementOut, bool]:
    request = fingerprint(
        op="arrangement",
        customer_id=customer_id,
        kind=kind,
        amount=amount,
        pay_by=pay_by,
        instalments=instalments,
        override=override_policy,
        note=note,
        role=actor.role,
    )

    def write() -> ArrangementOut:
        account = _locked_account(session, customer_id=customer_id)
        evaluate_arrangements(session, account=account, today=today)
        facts = gather_facts(session, account=account, today=today)
        numbers = policy.PolicyNumbers.from_settings(settings)
        if kind == "promise_to_pay":
            assert amount is not None and pay_by is not None
            terms = policy.check_promise(facts, numbers, amount=amount, pay_by=pay_by)
            outside = _approve(actor, override_policy=override_policy, reasons=terms.reasons)
            arrangement = Arrangement(
                account_id=account.id,
                kind=kind,
                status="active",
                amount=amount,
                pay_by=pay_by,
                covers_due_through=terms.covers_due_through
                or facts.latest_past_due_date
                or facts.oldest_unpaid_due_date,
            )
        else:
            assert instalments is not None
            plan = policy.check_plan(facts, numbers, instalments=instalments)
            outside = _approve(actor, override_policy=override_policy, reasons=plan.reasons)
            total = plan.amount if plan.amount is not None else max(facts.past_due, ZERO)
            if total <= ZERO:
                total = max(facts.total_due, ZERO)
            schedule = plan.choices.get(instalments) or policy.instalment_schedule(
                amount=total, count=instalments, start=today, interval_days=numbers.instalment_interval_days
            )
            arrangement = Arrangement(
                account_id=account.id,
                kind=kind,
                status="active",
                amount=total,
                pay_by=schedule[-1].due_date,
                covers_due_through=facts.latest_past_due_date or facts.oldest_unpaid_due_date,
                instalments=[
                    Instalment(number=i.number, due_date=i.due_date, amount=i.amount, status="due")
                    for i in schedule
                ],
            )
        arrangement.approved_outside_policy = outside
        arrangement.note = note
        arrangement.conversation_id = conversation_id
        arrangement.created_by = actor.label
        arrangement.created_on = today
        session.add(arrangement)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action=f"write.arrangement.{kind}",
            resource=f"arrangement:{arrangement.id}",
            customer_id=customer_id,
            reason=note,
            details={
                "amount": f"{arrangement.amount:.2f}",
                "pay_by": str(arrangement.pay_by),
                "instalments": instalments,
                "outside_policy": outside,
                "conversation_id": conversation_id,
            },
        )
        return arrangement_out(arrangement, customer_id=customer_id)

    return idempotent(
        session,
        key=idempotency_key,
        request=request,
        customer_id=customer_id,
        answer_type=ArrangementOut,
        write=write,
    )


def waive_late_fee(
    session: Session,
    *,
    customer_id: int,
    line_item_id: int | None,
    conversation_id: str | None,
    actor: Actor,
    idempotency_key: str,
    today: date,
    settings: Settings,
) -> tuple[WaiverOut, bool]:
    request = fingerprint(op="waiver", customer_id=customer_id, line_item_id=line_item_id, role=actor.role)

    def write() -> WaiverOut:
        account = _locked_account(session, customer_id=customer_id)
        facts = gather_facts(session, account=account, today=today)
        terms = policy.waiver_terms(
            facts, policy.PolicyNumbers.from_settings(settings), line_item_id=line_item_id
        )
        _approve(actor, override_policy=False, reasons=terms.reasons)
        assert terms.fee is not None
        fee = terms.fee
        # The credit has its own key, derived from ours: a retry after a failure here replays it.
        view, _created = issue_credit(
            session,
            customer_id=customer_id,
            amount=fee.amount - fee.credited,
            reason="One-time late-fee waiver (courtesy, first late fee in 12 months)",
            line_item_id=fee.line_item_id,
            invoice_number=None,
            dispute_id=None,
            actor=actor,
            idempotency_key=f"waiver:{idempotency_key}"[:128],
            today=today,
        )
        arrangement = Arrangement(
            account_id=account.id,
            kind="late_fee_waiver",
            status="applied",
            amount=view.credit.amount,
            line_item_id=fee.line_item_id,
            credit_id=view.credit.id,
            conversation_id=conversation_id,
            created_by=actor.label,
            created_on=today,
            closed_on=today,
        )
        session.add(arrangement)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="write.arrangement.late_fee_waiver",
            resource=f"arrangement:{arrangement.id}",
            customer_id=customer_id,
            details={
                "line_item_id": fee.line_item_id,
                "credit_id": view.credit.id,
                "amount": f"{view.credit.amount:.2f}",
            },
        )
        balance = get_balance(session, customer_id=customer_id, today=today)
        return WaiverOut(
            arrangement=arrangement_out(arrangement, customer_id=customer_id),
            credit=credit_out(credit_view(session, view.credit)),
            total_due=balance.ledger.total_due,
        )

    return idempotent(
        session,
        key=idempotency_key,
        request=request,
        customer_id=customer_id,
        answer_type=WaiverOut,
        write=write,
    )


def _paid_since(session: Session, *, account: Account, arrangement: Arrangement) -> Decimal:
    return (
        session.scalar(
            select(func.sum(Payment.amount)).where(
                Payment.account_id == account.id,
                Payment.status == PaymentStatus.posted,
                Payment.created_at >= arrangement.created_at,
            )
        )
        or ZERO
    )


def evaluate_arrangements(session: Session, *, account: Account, today: date) -> list[Arrangement]:
    """Marks active promises kept/broken and plans completed/broken (instalments paid/missed); uncommitted.
    Returns the arrangements whose status changed."""
    changed = []
    active = session.scalars(
        select(Arrangement).where(Arrangement.account_id == account.id, Arrangement.status == "active")
    )
    for arrangement in active:
        paid = _paid_since(session, account=account, arrangement=arrangement)
        if arrangement.kind == "promise_to_pay":
            assert arrangement.pay_by is not None
            progress = policy.promise_progress(
                amount=arrangement.amount, pay_by=arrangement.pay_by, paid=paid, today=today
            )
        else:
            progress = policy.plan_progress(
                instalments=[
                    policy.Instalment(i.number, i.due_date, i.amount) for i in arrangement.instalments
                ],
                paid=paid,
                today=today,
            )
            for instalment in arrangement.instalments:
                status = (
                    "paid"
                    if instalment.number in progress.paid_numbers
                    else "missed"
                    if instalment.number in progress.missed_numbers
                    else "due"
                )
                instalment.status = status
        if progress.status != arrangement.status:
            arrangement.status = progress.status
            arrangement.closed_on = today
            changed.append(arrangement)
            audit.record(
                session,
                actor=Actor(role="system", username="billing-jobs"),
                action=f"write.arrangement.{progress.status}",
                resource=f"arrangement:{arrangement.id}",
                customer_id=account.customer_id,
                details={"paid_since": f"{paid:.2f}"},
            )
    session.flush()
    return changed


def covered_by_arrangement(session: Session, *, account: Account, due_date: date) -> bool:
    """Whether a holding promise or plan covers an invoice with this due date (no late fee for it)."""
    count = session.scalar(
        select(func.count())
        .select_from(Arrangement)
        .where(
            Arrangement.account_id == account.id,
            Arrangement.kind.in_(("promise_to_pay", "instalment_plan")),
            Arrangement.status.in_(HOLDING),
            Arrangement.covers_due_through >= due_date,
        )
    )
    return bool(count)
