"""Service-level deadlines: how long a request may wait for an employee to acknowledge it."""

from datetime import datetime, timedelta

from bot.db.models import RequestKind

ACK_DEADLINES: dict[str, timedelta] = {
    RequestKind.FUNERAL: timedelta(hours=1),
    RequestKind.LOAN: timedelta(hours=4),
    RequestKind.COMPLAINT: timedelta(hours=24),
}
DEFAULT_DEADLINE = timedelta(hours=48)


def due_at(kind: str, created_at: datetime) -> datetime:
    """When a request of ``kind`` opened at ``created_at`` must have been acknowledged."""
    return created_at + ACK_DEADLINES.get(kind, DEFAULT_DEADLINE)
