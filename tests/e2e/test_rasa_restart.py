"""A Rasa restart keeps half-filled forms: trackers live in the SQL tracker store."""

import sqlite3

import pytest

from bot.actions.server import sender_id_for
from tests.e2e.conftest import (
    Customer,
    HolderPool,
    SessionWorld,
    holders_with_loanable_policies,
    reference_in,
    stored_request,
)

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


def stored_events(world: SessionWorld, sender_id: str) -> int:
    with sqlite3.connect(world.rasa.tracker_db) as connection:
        row = connection.execute("SELECT count(*) FROM events WHERE sender_id = ?", (sender_id,))
        return int(row.fetchone()[0])


async def test_half_filled_loan_form_survives_a_rasa_restart(
    world: SessionWorld, holders: HolderPool
) -> None:
    holder = holders.take_from(await holders_with_loanable_policies(world, at_least=2))
    customer = Customer(world.stack.telegram, holder)
    await customer.verify()

    choose = await customer.say("약관대출 받고 싶어요")
    assert "어느 보험으로" in choose[-1].text and len(choose[-1].buttons) >= 2
    title = choose[-1].buttons[0][0]
    ask_amount = await customer.press(choose[-1], title)
    assert "얼마를 빌리고" in ask_amount[-1].text
    assert stored_events(world, sender_id_for(holder.id)) > 0  # in this test's own file

    await world.rasa.restart()

    # The amount answers the form's next question: the policy chosen before is still known.
    confirm = await customer.say("10만원")
    summary = confirm[-1].text
    assert "신청 내용을 확인해 주세요" in summary, summary
    assert title in summary and "100,000원" in summary
    done = await customer.press(confirm[-1], "네, 신청할게요")
    request = await stored_request(world, reference_in(done))
    assert request.kind == "loan" and request.details["amount"] == 100_000
    assert request.policyholder_id == holder.id
