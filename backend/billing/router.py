from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query

from backend.audit import service as audit
from backend.auth import OptionalActorDep
from backend.billing import service
from backend.billing.ledger import InvoiceStanding
from backend.billing.schemas import (
    BalanceOut,
    BillComparisonOut,
    ChangeOut,
    ExplanationOut,
    InvoiceDetailOut,
    InvoiceOut,
    LastPaymentOut,
    LineItemWithInvoiceOut,
    line_item_out,
)
from backend.clock import TodayDep
from backend.database import SessionDep
from backend.params import CustomerIdPath, IdPath
from backend.schemas import InvoiceNumber, MoneyQuery

router = APIRouter(prefix="/api/v1/customers/{customer_id}", tags=["billing"])


InvoiceModel = TypeVar("InvoiceModel", bound=InvoiceOut)


def _invoice_out(
    model: type[InvoiceModel], standing: InvoiceStanding, currency: str, **extra: Any
) -> InvoiceModel:
    invoice = standing.invoice
    return model(
        number=invoice.number, period_start=invoice.period_start, period_end=invoice.period_end,
        issue_date=invoice.issue_date, due_date=invoice.due_date, status=str(standing.status),
        total=invoice.total, amount_due=standing.amount_due, currency=currency, **extra,
    )


@router.get("/balance", response_model=BalanceOut)
def get_balance(
    customer_id: CustomerIdPath, session: SessionDep, today: TodayDep, actor: OptionalActorDep
) -> BalanceOut:
    balance = service.get_balance(session, customer_id=customer_id, today=today)
    ledger, last = balance.ledger, balance.last_payment
    result = BalanceOut(
        account_number=ledger.account.number, currency=ledger.account.currency, total_due=ledger.total_due,
        past_due=balance.past_due,
        next_due_date=balance.next_due.invoice.due_date if balance.next_due else None,
        next_due_amount=balance.next_due.amount_due if balance.next_due else None,
        pending_payments=ledger.pending_payments_total,
        last_payment=LastPaymentOut(
            amount=last.amount, received_date=last.received_date, method=last.method, status=str(last.status)
        ) if last else None,
    )
    audit.record_read(session, actor=actor, resource="balance", customer_id=customer_id)
    return result


@router.get("/invoices", response_model=list[InvoiceOut])
def list_invoices(
    customer_id: CustomerIdPath, session: SessionDep, today: TodayDep, actor: OptionalActorDep
) -> list[InvoiceOut]:
    ledger = service.ledger_for_customer(session, customer_id=customer_id, today=today)
    result = [_invoice_out(InvoiceOut, s, ledger.account.currency) for s in ledger.standings]
    audit.record_read(session, actor=actor, resource="invoices", customer_id=customer_id)
    return result


@router.get("/invoices/{number}", response_model=InvoiceDetailOut)
def get_invoice(
    customer_id: CustomerIdPath, number: InvoiceNumber, session: SessionDep, today: TodayDep,
    actor: OptionalActorDep,
) -> InvoiceDetailOut:
    standing, account = service.get_invoice(session, customer_id=customer_id, number=number, today=today)
    lines = service.load_line_items(session, invoice_ids=[standing.invoice.id])[standing.invoice.id]
    result = _invoice_out(
        InvoiceDetailOut, standing, account.currency, line_items=[line_item_out(li) for li in lines]
    )
    audit.record_read(session, actor=actor, resource=f"invoice:{number}", customer_id=customer_id)
    return result


@router.get("/line-items", response_model=list[LineItemWithInvoiceOut])
def search_line_items(
    customer_id: CustomerIdPath,
    session: SessionDep,
    actor: OptionalActorDep,
    amount: Annotated[MoneyQuery | None, Query(description="Exact amount (sign ignored)")] = None,
    on_date: Annotated[
        date | None,
        Query(alias="date", description="A day inside the charge's period, or the invoice's issue/due date"),
    ] = None,
    name: Annotated[
        str | None,
        Query(
            min_length=1, max_length=80, pattern=r"^[^\x00-\x1f]+$",
            description="Charge type or words of the description; synonyms like 'late payment charge'",
        ),
    ] = None,
    invoice: Annotated[InvoiceNumber | None, Query()] = None,
) -> list[LineItemWithInvoiceOut]:
    rows = service.search_line_items(
        session, customer_id=customer_id, amount=amount, on_date=on_date, name=name, invoice_number=invoice
    )
    result = [
        LineItemWithInvoiceOut(**line_item_out(line).model_dump(), invoice_number=inv.number)
        for line, inv in rows
    ]
    audit.record_read(session, actor=actor, resource="line-items", customer_id=customer_id)
    return result


@router.get("/line-items/{line_item_id}/explanation", response_model=ExplanationOut)
def explain_line_item(
    customer_id: CustomerIdPath, line_item_id: IdPath, session: SessionDep, actor: OptionalActorDep
) -> ExplanationOut:
    explained = service.explain_line_item(session, customer_id=customer_id, line_item_id=line_item_id)
    explanation = explained.explanation
    result = ExplanationOut(
        line_item=line_item_out(explained.line), invoice_number=explained.invoice.number,
        summary=explanation.summary, computation=explanation.computation, policy=explanation.policy,
        facts=explanation.facts,
    )
    audit.record_read(session, actor=actor, resource=f"line-item:{line_item_id}", customer_id=customer_id)
    return result


@router.get("/bill-comparison", response_model=BillComparisonOut)
def compare_bills(
    customer_id: CustomerIdPath, session: SessionDep, actor: OptionalActorDep,
    invoice: Annotated[InvoiceNumber | None, Query(description="Defaults to the latest invoice")] = None,
) -> BillComparisonOut:
    comparison = service.compare_bills(session, customer_id=customer_id, invoice_number=invoice)
    result = BillComparisonOut(
        invoice_number=comparison.current.number, previous_invoice_number=comparison.previous.number,
        currency=comparison.currency, current_total=comparison.current.total,
        previous_total=comparison.previous.total, difference=comparison.difference,
        summary=comparison.summary,
        changes=[
            ChangeOut(
                kind=c.kind, description=c.description, charge_type=c.charge_type,
                previous_amount=c.previous_amount, current_amount=c.current_amount, difference=c.difference,
                explanation=c.explanation,
            )
            for c in comparison.changes
        ],
    )
    audit.record_read(
        session, actor=actor, resource=f"bill-comparison:{comparison.current.number}", customer_id=customer_id
    )
    return result
