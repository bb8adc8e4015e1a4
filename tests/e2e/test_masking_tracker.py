"""Personal numbers a verified customer types never reach Rasa's tracker store, nor any table.

Generated numbers in every shape (tests/auxil/personal_numbers.py) go in through the fake Bot
API; the real app masks them before the ledger and before Rasa, so the conversation Rasa keeps
in its SQL tracker store (the test's SQLite file) holds none of them.
"""

import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings

from bot.actions.server import sender_id_for
from bot.services.masking import mask_personal_numbers
from tests.auxil.personal_numbers import PersonalNumber, in_sentence, personal_numbers
from tests.auxil.stored import holding, last_ids, stored_strings, strings_in
from tests.e2e.conftest import Customer, HolderPool, SessionWorld

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

_customers: dict[int, Customer] = {}


def tracker_strings(tracker_db: Path, sender_id: str) -> list[tuple[str, str]]:
    """Every string in the events Rasa stored for one conversation."""
    with sqlite3.connect(tracker_db) as connection:
        rows = connection.execute(
            "SELECT type_name, data FROM events WHERE sender_id = ?", (sender_id,)
        ).fetchall()
    assert rows, f"Rasa stored nothing for {sender_id}"
    return [
        (f"rasa events.{kind}", text)
        for kind, data in rows
        for text in strings_in(json.loads(data))
    ]


async def verified_customer(world: SessionWorld, holders: HolderPool) -> Customer:
    """One verified customer for all examples (hypothesis reuses the test's fixtures)."""
    if id(world) not in _customers:
        customer = Customer(world.stack.telegram, holders.take())
        await customer.verify()
        _customers[id(world)] = customer
    return _customers[id(world)]


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(number=personal_numbers(), sentence=in_sentence())
async def test_typed_numbers_reach_neither_rasa_nor_the_database(
    world: SessionWorld, holders: HolderPool, number: PersonalNumber, sentence: str
) -> None:
    customer = await verified_customer(world, holders)
    assert customer.holder is not None
    assume(number.digits not in customer.holder.phone.replace("-", ""))  # on file: may show
    text = sentence.format(number.written)
    async with world.stack.sessions() as session:
        before = await last_ids(session)
    await customer.say(text)
    tracker = tracker_strings(world.rasa.tracker_db, sender_id_for(customer.holder.id))
    assert ("rasa events.user", mask_personal_numbers(text)) in tracker  # Rasa got the message
    assert not holding(number.digits, tracker), (text, holding(number.digits, tracker))
    async with world.stack.sessions() as session:
        stored = await stored_strings(session, after=before)
    assert stored, "the message was not stored"
    assert not holding(number.digits, stored), (text, holding(number.digits, stored))
