"""Plans and policy rules: reference data every seed needs (idempotent)."""
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.billing.models import Plan, PolicyRule

PLANS = [
    # code, name, monthly price, data allowance (GB, None = unlimited), overage per GB
    ("BASIC-45", "Basic 45", Decimal("45.00"), Decimal("10"), Decimal("10.00")),
    ("PLUS-60", "Plus 60", Decimal("60.00"), Decimal("20"), Decimal("10.00")),
    ("PREMIUM-75", "Premium 75", Decimal("75.00"), Decimal("50"), Decimal("10.00")),
    ("UNLIMITED-90", "Unlimited 90", Decimal("90.00"), None, None),
]

LATE_FEE = Decimal("25.00")
LATE_FEE_GRACE_DAYS = 5
SALES_TAX_RATE = Decimal("0.0625")
FUSF_RATE = Decimal("0.034")
E911_FEE = Decimal("0.75")

POLICY_RULES = [
    (
        "PLAN-MONTHLY", "Monthly plan charge",
        "Each billing period is charged the full monthly price of the plan active on its first day.", {},
    ),
    (
        "USAGE-OVERAGE", "Data overage",
        "Data used beyond the plan's monthly allowance is billed per GB at the plan's overage rate, "
        "in 0.1 GB steps.",
        {},
    ),
    (
        "LATE-FEE-1", "Late payment fee",
        f"A flat ${LATE_FEE} fee is added to the next invoice when an invoice's payment is received more "
        f"than {LATE_FEE_GRACE_DAYS} days after its due date, or not at all by the next invoice date.",
        {"fee": str(LATE_FEE), "grace_days": LATE_FEE_GRACE_DAYS},
    ),
    (
        "PRORATION-DAILY", "Mid-cycle plan change",
        "When the plan changes during a billing period, the old plan's unused days are credited and the new "
        "plan's remaining days are charged, each at monthly price / days in the period.",
        {},
    ),
    (
        "ONE-TIME-ORDER", "One-time service charge",
        "Services ordered once (installation, activation, a technician visit) are charged once, on the next "
        "invoice after the service date.",
        {},
    ),
    (
        "EQUIP-INSTALLMENT", "Device installment plan",
        "A device bought on an installment plan is billed in equal monthly parts of its price.", {},
    ),
    (
        "TAX-STATE-SALES", "State sales tax",
        f"State sales tax of {(SALES_TAX_RATE * 100).normalize()}% applies to plan and equipment charges, as "
        "required by the customer's state.",
        {"rate": str(SALES_TAX_RATE), "applies_to": ["plan", "equipment"]},
    ),
    (
        "REG-FUSF", "Federal Universal Service Fund fee",
        f"The federal Universal Service Fund contribution, {(FUSF_RATE * 100).normalize()}% of the plan "
        "charge, passed on as the FCC requires.",
        {"rate": str(FUSF_RATE), "applies_to": ["plan"]},
    ),
    (
        "REG-911", "911 emergency service fee",
        f"A fixed ${E911_FEE} per phone line each month, set by the local 911 authority.",
        {"fee": str(E911_FEE)},
    ),
    (
        "PROMO-DISCOUNT", "Promotional discount",
        "A promotion takes a fixed amount off each monthly bill for the promotion's stated months, then ends "
        "automatically.",
        {},
    ),
    (
        "GOODWILL-CREDIT", "Account credit",
        "A credit issued by a billing specialist, with the reason recorded.", {},
    ),
]


def ensure_reference_data(session: Session) -> dict[str, Plan]:
    plans = {plan.code: plan for plan in session.scalars(select(Plan))}
    for code, name, price, allowance, overage in PLANS:
        if code not in plans:
            plans[code] = Plan(
                code=code, name=name, monthly_price=price, data_allowance_gb=allowance,
                overage_rate_per_gb=overage,
            )
            session.add(plans[code])
    existing_rules = set(session.scalars(select(PolicyRule.code)))
    for code, title, description, parameters in POLICY_RULES:
        if code not in existing_rules:
            session.add(PolicyRule(code=code, title=title, description=description, parameters=parameters))
    session.flush()
    return plans
