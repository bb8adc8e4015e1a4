"""Jinja filters for the console: Seoul times, masked phones, names and free text, durations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

from bot.admin.principal import Principal
from bot.clock import SEOUL
from bot.services.masking import mask_personal_numbers
from bot.services.personal_data import Redactor, masked_name
from bot.services.reports import format_duration

WITHHELD_TEXT = "(개인정보 보호로 표시하지 않음)"
_WITHHELD = Redactor()


def seoul_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Format a stored (UTC) time in Seoul time."""
    if value is None:
        return "-"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(SEOUL).strftime(fmt)


def masked_phone(digits: str | None) -> str:
    """01055123087 → 010-****-3087."""
    if not digits:
        return "-"
    clean = "".join(ch for ch in digits if ch.isdigit())
    if len(clean) < 8:
        return "****"
    return f"{clean[:3]}-****-{clean[-4:]}"


@pass_context
def person(context: Context, name: str | None) -> str:
    """A policyholder's name as this user may see it (auditors see it masked)."""
    if not name:
        return "-"
    principal: Principal | None = context.get("principal")
    if principal is None or principal.masks_personal_data:
        return masked_name(name)
    return name


def safe_text(text: str | None) -> str:
    """Message text with any personal number masked (again, in case one slipped through)."""
    return mask_personal_numbers(text or "")


def _redactor(context: Context, holder_id: int | None) -> Redactor | None:
    """The page's redactor for a policyholder when this user sees masked data, else None."""
    principal: Principal | None = context.get("principal")
    if principal is not None and not principal.masks_personal_data:
        return None
    redactors: dict[int | None, Redactor] = context.get("redactors") or {}
    # A page that forgot to load one shows nothing personal rather than everything.
    return redactors.get(holder_id) or _WITHHELD


@pass_context
def private(context: Context, text: str | None, holder_id: int | None = None) -> str:
    """Free text about a policyholder as this user may see it (auditors: personal data masked)."""
    redactor = _redactor(context, holder_id)
    if redactor is None:
        return safe_text(text)
    if redactor is _WITHHELD:
        return WITHHELD_TEXT if text else ""
    return redactor.text(text)


@pass_context
def private_detail(context: Context, value: object, key: str, holder_id: int | None = None) -> str:
    """One request detail as this user may see it (auditors: a booking place shows its region)."""
    redactor = _redactor(context, holder_id)
    if redactor is None:
        return safe_text(str(value))
    if redactor is _WITHHELD:
        return WITHHELD_TEXT
    return redactor.detail(key, value)


def duration(value: timedelta | None) -> str:
    return format_duration(value)


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


FILTERS: dict[str, Any] = {
    "seoul": seoul_time,
    "phone": masked_phone,
    "person": person,
    "safe_text": safe_text,
    "private": private,
    "private_detail": private_detail,
    "duration": duration,
    "percent": percent,
}
