"""Jinja filters for the console: Seoul times, masked phones and names, durations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

from bot.admin.principal import Principal
from bot.clock import SEOUL
from bot.services.masking import mask_personal_numbers
from bot.services.reports import format_duration


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


def masked_name(name: str) -> str:
    """이영숙 → 이*숙, 홍길 → 홍*."""
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


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


def duration(value: timedelta | None) -> str:
    return format_duration(value)


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


FILTERS: dict[str, Any] = {
    "seoul": seoul_time,
    "phone": masked_phone,
    "person": person,
    "safe_text": safe_text,
    "duration": duration,
    "percent": percent,
}
