"""Conversation queries: the filtered list (one row per policyholder) and one transcript.

A conversation is a policyholder's whole thread in the ledger. The list is ordered by each
thread's latest matching message. Rather than grouping every matching row (slow at a million
rows), it walks matching contacts newest first along the ``created_at`` index and collects
distinct policyholders until the page is full; only when that walk gets long does it switch to
one GROUP BY.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from bot.admin.vocabulary import OPEN_STATUSES
from bot.db.models import Contact, Department, Employee, Policyholder, Request

PER_PAGE = 50
TRANSCRIPT_PAGE = 300
_FIRST_BATCH = 400
_MAX_BATCH = 20_000
_WALK_LIMIT = 60_000  # rows walked before the GROUP BY is cheaper


@dataclass
class ConversationRow:
    """One line of the conversation list."""

    policyholder_id: int
    name: str
    phone: str
    employee: str
    department: str
    last_at: datetime
    last_sender: str
    last_text: str
    intents: list[str] = field(default_factory=list)
    open_requests: int = 0


@dataclass
class ConversationPage:
    rows: list[ConversationRow]
    page: int
    has_next: bool


async def _walk_newest(
    session: AsyncSession, conditions: list[ColumnElement[bool]], need: int
) -> list[tuple[int, int]] | None:
    """(policyholder id, latest matching contact id) newest first, or None if the walk is long."""
    found: dict[int, int] = {}
    cursor: tuple[datetime, int] | None = None
    batch = _FIRST_BATCH
    walked = 0
    while len(found) < need:
        stmt = select(Contact.policyholder_id, Contact.created_at, Contact.id).where(
            Contact.policyholder_id.is_not(None), *conditions
        )
        if cursor is not None:
            stmt = stmt.where(tuple_(Contact.created_at, Contact.id) < cursor)
        stmt = stmt.order_by(Contact.created_at.desc(), Contact.id.desc()).limit(batch)
        rows = (await session.execute(stmt)).all()
        for holder_id, _at, contact_id in rows:
            found.setdefault(holder_id, contact_id)
        walked += len(rows)
        if len(rows) < batch:
            break
        next_cursor = (rows[-1].created_at, rows[-1].id)
        if next_cursor == cursor:
            break
        cursor = next_cursor
        if walked >= _WALK_LIMIT:
            return None
        batch = min(batch * 4, _MAX_BATCH)
    return list(found.items())


async def _grouped(
    session: AsyncSession, conditions: list[ColumnElement[bool]], offset: int, limit: int
) -> list[tuple[int, int]]:
    """Same answer as the walk, by grouping every matching row (for deep pages)."""
    latest = func.max(Contact.id).label("latest_id")
    stmt = (
        select(Contact.policyholder_id, latest)
        .where(Contact.policyholder_id.is_not(None), *conditions)
        .group_by(Contact.policyholder_id)
        .order_by(func.max(Contact.created_at).desc(), latest.desc())
        .offset(offset)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in (await session.execute(stmt)).all()]


async def list_conversations(
    session: AsyncSession, conditions: list[ColumnElement[bool]], *, page: int
) -> ConversationPage:
    """The page-th page of conversations with a contact matching ``conditions``."""
    page = max(page, 1)
    offset = (page - 1) * PER_PAGE
    walked = await _walk_newest(session, conditions, offset + PER_PAGE + 1)
    if walked is None:
        pairs = await _grouped(session, conditions, offset, PER_PAGE + 1)
    else:
        pairs = walked[offset : offset + PER_PAGE + 1]
    has_next = len(pairs) > PER_PAGE
    pairs = pairs[:PER_PAGE]
    rows = await _describe(session, pairs)
    return ConversationPage(rows=rows, page=page, has_next=has_next)


async def _describe(session: AsyncSession, pairs: list[tuple[int, int]]) -> list[ConversationRow]:
    """Fill in names, the shown message, intents and open requests for a page of threads."""
    if not pairs:
        return []
    holder_ids = [holder_id for holder_id, _ in pairs]
    contact_ids = [contact_id for _, contact_id in pairs]
    people = {
        row.id: row
        for row in (
            await session.execute(
                select(
                    Policyholder.id,
                    Policyholder.name,
                    Policyholder.phone,
                    Employee.name.label("employee_name"),
                    Employee.title.label("employee_title"),
                    Department.name.label("department_name"),
                )
                .outerjoin(Employee, Policyholder.employee_id == Employee.id)
                .outerjoin(Department, Employee.department_id == Department.id)
                .where(Policyholder.id.in_(holder_ids))
            )
        ).all()
    }
    shown = {
        row.id: row
        for row in (
            await session.execute(
                select(Contact.id, Contact.created_at, Contact.sender, Contact.text).where(
                    Contact.id.in_(contact_ids)
                )
            )
        ).all()
    }
    intents: dict[int, Counter[str]] = {holder_id: Counter() for holder_id in holder_ids}
    for holder_id, intent, count in (
        await session.execute(
            select(Contact.policyholder_id, Contact.intent, func.count())
            .where(Contact.policyholder_id.in_(holder_ids), Contact.intent.is_not(None))
            .group_by(Contact.policyholder_id, Contact.intent)
        )
    ).all():
        intents[holder_id][intent] = count
    open_counts = dict(
        (
            await session.execute(
                select(Request.policyholder_id, func.count())
                .where(
                    Request.policyholder_id.in_(holder_ids),
                    Request.status.in_(OPEN_STATUSES),
                )
                .group_by(Request.policyholder_id)
            )
        )
        .tuples()
        .all()
    )
    rows = []
    for holder_id, contact_id in pairs:
        person = people[holder_id]
        message = shown[contact_id]
        employee = (
            f"{person.employee_name} {person.employee_title}" if person.employee_name else "-"
        )
        rows.append(
            ConversationRow(
                policyholder_id=holder_id,
                name=person.name,
                phone=person.phone,
                employee=employee,
                department=person.department_name or "-",
                last_at=message.created_at,
                last_sender=message.sender,
                last_text=message.text,
                intents=[name for name, _ in intents[holder_id].most_common(4)],
                open_requests=open_counts.get(holder_id, 0),
            )
        )
    return rows


@dataclass
class Transcript:
    """A policyholder's thread: one page of turns in time order, and their requests."""

    holder: Policyholder
    employee: Employee | None
    department: Department | None
    turns: list[Contact]
    requests: list[Request]
    request_refs: dict[int, str]
    older_page: int | None
    newer_page: int | None


async def policyholder_department_id(session: AsyncSession, holder_id: int) -> int | None:
    """The department of the employee a policyholder is assigned to."""
    return await session.scalar(
        select(Employee.department_id)
        .join(Policyholder, Policyholder.employee_id == Employee.id)
        .where(Policyholder.id == holder_id)
    )


async def load_transcript(session: AsyncSession, holder_id: int, *, page: int) -> Transcript | None:
    """Page 1 is the newest TRANSCRIPT_PAGE turns; higher pages go back in time."""
    holder = await session.get(Policyholder, holder_id)
    if holder is None:
        return None
    employee = await session.get(Employee, holder.employee_id) if holder.employee_id else None
    department = await session.get(Department, employee.department_id) if employee else None
    page = max(page, 1)
    newest_first = (
        await session.scalars(
            select(Contact)
            .where(Contact.policyholder_id == holder_id)
            .order_by(Contact.created_at.desc(), Contact.id.desc())
            .offset((page - 1) * TRANSCRIPT_PAGE)
            .limit(TRANSCRIPT_PAGE + 1)
        )
    ).all()
    has_older = len(newest_first) > TRANSCRIPT_PAGE
    turns = list(reversed(newest_first[:TRANSCRIPT_PAGE]))
    requests = list(
        (
            await session.scalars(
                select(Request)
                .where(Request.policyholder_id == holder_id)
                .order_by(Request.created_at.desc())
            )
        ).all()
    )
    linked_ids = {t.request_id for t in turns if t.request_id} - {r.id for r in requests}
    refs = {r.id: r.reference for r in requests}
    if linked_ids:
        refs.update(
            (
                await session.execute(
                    select(Request.id, Request.reference).where(Request.id.in_(linked_ids))
                )
            )
            .tuples()
            .all()
        )
    return Transcript(
        holder=holder,
        employee=employee,
        department=department,
        turns=turns,
        requests=requests,
        request_refs=refs,
        older_page=page + 1 if has_older else None,
        newer_page=page - 1 if page > 1 else None,
    )
