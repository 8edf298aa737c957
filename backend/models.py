"""Every table, imported in one place for Alembic and the seeds."""
from backend.arrangements.models import Arrangement, Instalment
from backend.audit.models import AuditLog
from backend.base import Base
from backend.billing.models import Invoice, LineItem, Plan, PolicyRule, Subscription
from backend.customers.models import Account, Customer, PaymentMethod, VerificationState
from backend.disputes.models import Credit, Dispute
from backend.mail.models import MailMessage, MailPreference
from backend.payment_page.models import PaymentPageLink
from backend.payments.models import IdempotencyRecord, Payment, PaymentQuote, ProcessorEvent
from backend.reminders.models import Reminder
from backend.system_credits.models import AccountCheckLimits

__all__ = [
    "Account", "AccountCheckLimits", "Arrangement", "AuditLog", "Base", "Credit", "Customer", "Dispute",
    "IdempotencyRecord",
    "Instalment", "Invoice", "LineItem", "MailMessage", "MailPreference", "Payment", "PaymentMethod",
    "PaymentPageLink", "PaymentQuote", "Plan", "PolicyRule", "ProcessorEvent", "Reminder", "Subscription",
    "VerificationState",
]
