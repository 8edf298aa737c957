"""The bot's limits in force: the supervisor's override (table account_check_limits) or the settings."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.config import Settings
from backend.system_credits.models import AccountCheckLimits

LIMITS_ROW = 1
_CURRENT = select(AccountCheckLimits).where(AccountCheckLimits.id == LIMITS_ROW)


def current_override(session: Session) -> AccountCheckLimits | None:
    return session.scalar(_CURRENT)


def effective_settings(session: Session, settings: Settings) -> Settings:
    """The settings with the override's limits in place of the ACCOUNT_CHECK_* defaults (one indexed read)."""
    override = current_override(session)
    if override is None:
        return settings
    return settings.model_copy(
        update={
            "account_check_max_credit": override.max_credit,
            "account_check_max_credit_12_months": override.max_credit_12_months,
            "account_check_min_confidence": override.min_confidence,
        }
    )
