"""The policyholder's rating of a resolved request: 1–5 stars, then an optional comment, and
the result told to the employee."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.db.models import (
    ContactSender,
    Employee,
    OutboxPurpose,
    Policyholder,
    Request,
    RequestAction,
    RequestStatus,
)
from bot.employee_texts import EMP_RATING
from bot.services.casefile import notify_policyholder, record_event
from bot.services.ledger import record_contact
from bot.services.outbox import enqueue
from bot.texts import PH_COMMENT_THANKS, PH_RATING_DONE, PH_RATING_THANKS

RATING_COMMENT_WINDOW = timedelta(minutes=30)


def rating_keyboard(request_id: int) -> dict[str, Any]:
    """Inline keyboard 1–5 for rating a resolved request."""
    row = [{"text": f"{n}⭐", "callback_data": f"rate:{request_id}:{n}"} for n in range(1, 6)]
    return {"inline_keyboard": [row]}


def skip_comment_keyboard(request_id: int) -> dict[str, Any]:
    """One button to finish rating without a comment."""
    return {"inline_keyboard": [[{"text": "건너뛰기", "callback_data": f"rate:{request_id}:skip"}]]}


async def rate(
    session: AsyncSession,
    *,
    request: Request,
    policyholder: Policyholder,
    stars: int,
    telegram_update_id: int | None = None,
) -> bool:
    """Store a 1–5 rating for a resolved request; then invite an optional comment."""
    if request.policyholder_id != policyholder.id or request.status != RequestStatus.RESOLVED:
        return False
    if not 1 <= stars <= 5:
        return False
    now = clock.now()
    request.rating = stars
    record_event(session, request, RequestAction.RATED, None, f"{stars}점")
    await record_contact(
        session,
        direction="in",
        sender=ContactSender.POLICYHOLDER,
        text=f"별점 {stars}점",
        policyholder_id=policyholder.id,
        request_id=request.id,
        telegram_user_id=policyholder.telegram_user_id,
        telegram_update_id=telegram_update_id,
    )
    policyholder.rating_pending_request_id = request.id
    policyholder.rating_pending_until = now + RATING_COMMENT_WINDOW
    await notify_policyholder(
        session,
        request=request,
        purpose=OutboxPurpose.RATING_THANKS,
        text=PH_RATING_THANKS.format(stars=stars),
        reply_markup=skip_comment_keyboard(request.id),
    )
    await session.flush()
    return True


async def finish_rating(
    session: AsyncSession,
    *,
    request: Request,
    policyholder: Policyholder,
    comment: str | None,
) -> None:
    """Store the comment (or none), thank the policyholder, tell the employee the result."""
    policyholder.rating_pending_request_id = None
    policyholder.rating_pending_until = None
    if comment:
        request.rating_comment = comment.strip()
        record_event(session, request, RequestAction.RATING_COMMENT, None, comment.strip())
    await notify_policyholder(
        session,
        request=request,
        purpose=OutboxPurpose.RATING_THANKS,
        text=PH_COMMENT_THANKS if comment else PH_RATING_DONE,
    )
    if request.employee_id is not None and request.rating is not None:
        employee = await session.get(Employee, request.employee_id)
        if employee is not None and employee.telegram_chat_id is not None:
            await enqueue(
                session,
                chat_id=employee.telegram_chat_id,
                text=EMP_RATING.format(
                    reference=request.reference,
                    policyholder=policyholder.name,
                    stars=request.rating,
                    comment=f"\n“{request.rating_comment}”" if request.rating_comment else "",
                ),
                request_id=request.id,
                employee_id=employee.id,
                policyholder_id=policyholder.id,
                purpose=OutboxPurpose.RATING_NOTICE,
            )
    await session.flush()
