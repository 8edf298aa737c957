"""Every table, imported in one place for Alembic and the seeds."""
from backend.audit.models import AuditLog
from backend.base import Base
from backend.billing.models import Invoice, LineItem, Plan, PolicyRule, Subscription
from backend.customers.models import Account, Customer, PaymentMethod, VerificationState
from backend.disputes.models import Credit, Dispute
from backend.payments.models import Payment

__all__ = [
    "Account", "AuditLog", "Base", "Credit", "Customer", "Dispute", "Invoice", "LineItem", "Payment",
    "PaymentMethod", "Plan", "PolicyRule", "Subscription", "VerificationState",
]
