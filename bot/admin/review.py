"""The review queue: policyholder turns the NLU fell back on or was unsure of, and their labels.

Labelled turns export as Rasa NLU training data (``version: "3.1"``), ready for ``data/nlu/``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.admin.vocabulary import FALLBACK_INTENT, INTENTS, LOW_CONFIDENCE
from bot.db.models import Contact, ContactSender, Policyholder
from bot.services.masking import mask_personal_numbers

PER_PAGE = 50


def needs_review() -> ColumnElement[bool]:
    """A policyholder turn that fell back or scored below the review threshold."""
    return or_(Contact.intent == FALLBACK_INTENT, Contact.confidence < LOW_CONFIDENCE)


@dataclass
class ReviewItem:
    contact: Contact
    holder_name: str | None


async def review_page(
    session: AsyncSession, *, labelled: bool, page: int
) -> tuple[list[ReviewItem], bool]:
    """Turns waiting for a label (or already labelled), newest first."""
    state = Contact.labelled_intent.is_not(None) if labelled else Contact.labelled_intent.is_(None)
    rows = (
        await session.execute(
            select(Contact, Policyholder.name)
            .outerjoin(Policyholder, Contact.policyholder_id == Policyholder.id)
            .where(Contact.sender == ContactSender.POLICYHOLDER, needs_review(), state)
            .order_by(Contact.created_at.desc(), Contact.id.desc())
            .offset((max(page, 1) - 1) * PER_PAGE)
            .limit(PER_PAGE + 1)
        )
    ).all()
    items = [ReviewItem(contact, name) for contact, name in rows[:PER_PAGE]]
    return items, len(rows) > PER_PAGE


async def label_contact(session: AsyncSession, *, contact_id: int, intent: str) -> Contact | None:
    """Store the right intent for a turn; an empty ``intent`` clears the label."""
    if intent and intent not in INTENTS:
        raise ValueError(intent)
    contact = await session.get(Contact, contact_id)
    if contact is None or contact.sender != ContactSender.POLICYHOLDER:
        return None
    contact.labelled_intent = intent or None
    return contact


def _example(text: str) -> str:
    """One training example on one line, personal numbers masked."""
    return " ".join(mask_personal_numbers(text).split())


async def nlu_yaml(session: AsyncSession) -> str:
    """All labelled turns as Rasa NLU YAML, grouped by intent, duplicates dropped."""
    examples: dict[str, list[str]] = defaultdict(list)
    rows = await session.execute(
        select(Contact.labelled_intent, Contact.text)
        .where(Contact.labelled_intent.is_not(None))
        .order_by(Contact.labelled_intent, Contact.id)
    )
    for intent, text in rows.tuples():
        example = _example(text)
        if intent and example and example not in examples[intent]:
            examples[intent].append(example)
    lines = ['version: "3.1"', "nlu:"]
    for intent in sorted(examples):
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines += [f"    - {example}" for example in examples[intent]]
    if not examples:
        lines[-1] = "nlu: []"
    return "\n".join(lines) + "\n"
