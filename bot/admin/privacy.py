"""The auditor's view: the personal data each page would show, found in the database and masked.

Auditors check how the company treated its customers, not who the customers are. Every page
and CSV they reach shows names, addresses, birth dates and booking places masked, also where
they appear inside free text (a bot reply greeting 이영숙 by name, a booking summary with the
address). Pages load one :class:`Redactor` per policyholder they show; ``private`` in the
templates applies it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.admin.principal import Principal
from bot.db.models import Policyholder, Request
from bot.services.personal_data import ADDRESS_KEYS, Redactor, redactor_for_names
from bot.services.reports import Week, WeeklyReport

Redactors = dict[int | None, Redactor]
_HANGUL_WORD = re.compile(r"[가-힣]{2,5}")


def _places(details: Any) -> list[str]:
    if not isinstance(details, dict):
        return []
    return [str(v) for k, v in details.items() if k in ADDRESS_KEYS and isinstance(v, str)]


async def page_redactors(
    session: AsyncSession, principal: Principal, holder_ids: Iterable[int | None]
) -> Redactors:
    """What a page passes to its templates as ``redactors``: nothing for users who may see
    personal data, a redactor per policyholder shown for those who may not."""
    if not principal.masks_personal_data:
        return {}
    return await redactors_for(session, holder_ids)


async def redactors_for(session: AsyncSession, holder_ids: Iterable[int | None]) -> Redactors:
    """A redactor per policyholder: their name, address, birth date and booking places."""
    ids = {i for i in holder_ids if i is not None}
    if not ids:
        return {}
    places: dict[int, list[str]] = {i: [] for i in ids}
    for holder_id, details in (
        await session.execute(
            select(Request.policyholder_id, Request.details).where(Request.policyholder_id.in_(ids))
        )
    ).tuples():
        places[holder_id] += _places(details)
    return {
        row.id: Redactor(
            name=row.name, address=row.address, birth_date=row.birth_date, places=places[row.id]
        )
        for row in (
            await session.execute(
                select(
                    Policyholder.id,
                    Policyholder.name,
                    Policyholder.address,
                    Policyholder.birth_date,
                ).where(Policyholder.id.in_(ids))
            )
        ).all()
    }


async def names_redactor(session: AsyncSession, texts: Iterable[str]) -> Redactor:
    """For texts that may name any policyholder (searches in the audit log): the words in them
    that are some policyholder's name are masked."""
    words = {word for text in texts for word in _HANGUL_WORD.findall(text)}
    if not words:
        return redactor_for_names(())
    names = await session.scalars(
        select(Policyholder.name).where(Policyholder.name.in_(words)).distinct()
    )
    return redactor_for_names(names.all())


async def redact_report(session: AsyncSession, report: WeeklyReport) -> WeeklyReport:
    """The report with its free-text service wishes masked with their authors' data."""
    week: Week = report.week
    authors: dict[str, set[int]] = {}
    for summary, holder_id in (
        await session.execute(
            select(Request.summary, Request.policyholder_id).where(
                Request.kind == "suggestion",
                Request.created_at >= week.start,
                Request.created_at < week.end,
            )
        )
    ).tuples():
        authors.setdefault(summary.strip(), set()).add(holder_id)
    redactors = await redactors_for(session, {i for ids in authors.values() for i in ids})

    def masked(label: str) -> str:
        for holder_id in sorted(authors.get(label, ())):
            label = redactors[holder_id].text(label)
        # A label no request explains (a category, or text stored before masking): numbers.
        return Redactor().text(label)

    departments = [
        dataclasses.replace(
            dept,
            top_wishes=[(masked(label), count) for label, count in dept.top_wishes],
            top_complaints=[(masked(label), count) for label, count in dept.top_complaints],
        )
        for dept in report.departments
    ]
    return dataclasses.replace(report, departments=departments)
