"""The one hook the policyholder chat calls: does this text belong to the employee workspace?

While an employee is talking to a policyholder through the bot (a handoff), the policyholder's
messages go to that employee and the bot stays silent; right after a rating press, the next text
is the rating comment. Everything else is the bot's (Rasa's) to answer.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.db.models import Contact, Policyholder, Request
from bot.services import workspace
from bot.services.sla import as_utc


async def consume_policyholder_text(
    session: AsyncSession, *, policyholder: Policyholder, text: str, contact_id: int
) -> bool:
    """Handle ``text`` for the workspace if it belongs there; True means "bot, stay silent".

    ``contact_id`` is the ledger row the caller already wrote for this inbound message; it is
    linked to the request it concerns. Runs in the caller's transaction (the caller commits).
    """
    now = clock.now()
    contact = await session.get(Contact, contact_id)

    if policyholder.rating_pending_request_id is not None:
        until = policyholder.rating_pending_until
        request = await session.get(Request, policyholder.rating_pending_request_id)
        if request is not None and until is not None and as_utc(until) > now:
            if contact is not None:
                contact.request_id = request.id
            await workspace.finish_rating(
                session, request=request, policyholder=policyholder, comment=text
            )
            return True
        policyholder.rating_pending_request_id = None
        policyholder.rating_pending_until = None

    handoff = await workspace.open_handoff(session, policyholder=policyholder, now=now)
    if handoff is None:
        return False
    if not await workspace.relay_to_employee(
        session, request=handoff, policyholder=policyholder, text=text
    ):
        return False
    if contact is not None:
        contact.request_id = handoff.id
    await session.flush()
    return True
