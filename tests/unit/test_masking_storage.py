"""No personal number typed by anyone survives in any stored column (SQLite and PostgreSQL).

Each generated sentence goes through every path that writes people's free text: a policyholder's
message while Rasa is down (ledger, a request's summary and details, the employee's alert), a
request opened by an action, an employee's reply and a policyholder's relayed answer, a visit
note, a rating comment, the console's audit log. Then every string of every table is searched.
Rasa's own tracker store is checked by tests/e2e/test_masking_tracker.py.
"""

from collections.abc import Iterator
from datetime import timedelta
from itertools import count

import pytest
from hypothesis import HealthCheck, assume, given, settings
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.admin import audit
from bot.clock import Clock, FrozenClock, set_clock
from bot.conversation import Inbound, handle_message
from bot.db.engine import session_scope
from bot.db.models import Employee, Policyholder, RequestStatus
from bot.rasa_client import RasaClient
from bot.services import portfolio, ratings, relay
from bot.services.remask import mask_stored_text
from bot.services.requests import open_request
from bot.services.sla import Deadlines
from tests.auxil.employees import Org, build_org, freeze
from tests.auxil.personal_numbers import PersonalNumber, in_sentence, personal_numbers
from tests.auxil.stack import free_port
from tests.auxil.stored import holding, stored_strings

ON_FILE = "1055123087"  # 이영숙's own phone may appear in her employee's alerts
_update_ids = count(1)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[FrozenClock]:
    yield freeze()
    set_clock(Clock())


async def write_everywhere(
    sessions: async_sessionmaker[AsyncSession], org: Org, rasa: RasaClient, text: str
) -> None:
    """Put ``text`` through every service that stores what people write."""
    # A policyholder's message while Rasa is down: ledger, request summary/details, alert.
    inbound = Inbound(org.policyholder_id, text, update_id=next(_update_ids))
    await handle_message(sessions, rasa, inbound, deadlines=Deadlines())
    async with session_scope(sessions) as session:
        holder = await session.get(Policyholder, org.policyholder_id)
        owner = await session.get(Employee, org.owner_id)
        assert holder is not None and owner is not None
        # A request an action opens with the customer's words.
        request = await open_request(
            session,
            policyholder=holder,
            kind="complaint",
            summary=text,
            details={"text": text},
            deadlines=Deadlines(),
        )
        # The employee answers through the bot; the policyholder's reply is relayed back.
        await relay.relay_to_policyholder(session, request=request, employee=owner, text=text)
        await relay.relay_to_employee(session, request=request, policyholder=holder, text=text)
        await portfolio.log_touch(
            session, employee=owner, policyholder=holder, channel="phone", note=text
        )
        request.status = RequestStatus.RESOLVED
        request.rating = 4
        await ratings.finish_rating(session, request=request, policyholder=holder, comment=text)
        audit.record(session, None, "search", "conversations", text)


_orgs: dict[int, Org] = {}


async def org_in(sessions: async_sessionmaker[AsyncSession]) -> Org:
    """One organisation per database: hypothesis runs every example on the same fixtures."""
    if id(sessions) not in _orgs:
        _orgs[id(sessions)] = await build_org(sessions)
    return _orgs[id(sessions)]


@pytest.mark.postgres
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(number=personal_numbers(), sentence=in_sentence())
async def test_no_personal_number_is_stored_anywhere(
    sessions: async_sessionmaker[AsyncSession], number: PersonalNumber, sentence: str
) -> None:
    assume(number.digits not in ON_FILE)
    org = await org_in(sessions)
    assert isinstance(clock.clock, FrozenClock)
    clock.clock.advance(timedelta(minutes=31))  # each message opens its own outage request
    rasa = RasaClient(f"http://127.0.0.1:{free_port()}", timeout=1)  # down: a person takes over
    try:
        await write_everywhere(sessions, org, rasa, sentence.format(number.written))
    finally:
        await rasa.close()
    async with sessions() as session:
        leaks = holding(number.digits, await stored_strings(session))
    assert not leaks, (sentence.format(number.written), leaks)


@pytest.mark.postgres
async def test_rows_stored_before_are_masked_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Rows written by an older version (raw SQL here, past the masked column types)."""
    org = await build_org(sessions)
    old = "주민번호 6204172123456, 계좌 3333-01-1234567, 카드 1234.5678.9012.3456"
    async with session_scope(sessions) as session:
        request = await open_request(
            session,
            policyholder=await session.get_one(Policyholder, org.policyholder_id),
            kind="complaint",
            summary="새 요청",
            deadlines=Deadlines(),
        )
        request_id = request.id
    async with session_scope(sessions) as session:
        await session.execute(
            sql(
                "INSERT INTO contacts (policyholder_id, direction, channel, sender, text, created_at)"
                " VALUES (:holder, 'in', 'telegram', 'policyholder', :old, CURRENT_TIMESTAMP)"
            ),
            {"holder": org.policyholder_id, "old": old},
        )
        await session.execute(
            sql("UPDATE requests SET summary = :old, rating_comment = :old WHERE id = :id"),
            {"old": old, "id": request_id},
        )
        await session.execute(
            sql("UPDATE outbox SET text = :old WHERE request_id = :id"),
            {"old": old, "id": request_id},
        )
    async with sessions() as session:
        assert holding("6204172123456", await stored_strings(session))  # the old rows leak
    changed = await mask_stored_text(sessions, batch=2)
    assert changed["contacts.text"] == 1 and changed["requests.summary"] == 1
    assert changed["requests.rating_comment"] == 1 and changed["outbox.text"] >= 1
    async with sessions() as session:
        strings = await stored_strings(session)
    for digits in ("6204172123456", "3333011234567", "1234567890123456"):
        assert not holding(digits, strings), digits
    assert set((await mask_stored_text(sessions)).values()) == {0}  # nothing left to do
