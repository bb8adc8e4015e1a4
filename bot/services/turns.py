"""One customer message opens at most one request, whoever gets there first.

A turn is one inbound message on its way through Rasa. Rasa can be slow: the app stops waiting
after ``rasa_timeout`` and hands the message to a person (an outage request), while Rasa and the
action it called may still be running and open the request the customer asked for. Both sides
therefore claim the turn's ledger row before their request counts: ``claim_turn`` links the row
to the request only if nothing else was linked first, in one compare-and-set ``UPDATE``. On
PostgreSQL the second claimant waits for the first one's row lock and then finds the row taken;
on SQLite the single writer orders them the same way. The loser rolls its transaction back.
"""

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Contact


class TurnTaken(Exception):
    """The turn's message is already linked to another request: this one must not be opened."""


async def claim_turn(
    session: AsyncSession, *, contact_id: int, policyholder_id: int, request_id: int
) -> bool:
    """Link the policyholder's inbound message ``contact_id`` to ``request_id`` if it has no
    other request yet; False when another request claimed it first (or it is not theirs)."""
    result = await session.execute(
        update(Contact)
        .where(
            Contact.id == contact_id,
            Contact.policyholder_id == policyholder_id,
            Contact.direction == "in",
            or_(Contact.request_id.is_(None), Contact.request_id == request_id),
        )
        .values(request_id=request_id)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
