"""Operations alerts: one message per admin when a condition fires and one when it clears,
never one per check; a chat that could not be reached is tried again."""

import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot

from bot import clock, metrics
from bot.config import Settings
from bot.db.models import OutboxMessage
from bot.health import Health
from bot.ops_alerts import Alarm, OpsWatch
from bot.runner import stop_process
from bot.services.outbox import SENT
from bot.supervisor import RasaSupervisor
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.stack import free_port

ADMINS = (910001, 910002)


def test_a_short_outage_tells_nobody() -> None:
    alarm = Alarm("rasa_down", after=180)
    for now, bad in [(0, True), (60, True), (170, True), (175, False), (400, False)]:
        alarm.observe(bad, now)
        assert not alarm.firing
        assert alarm.owed(ADMINS) == []


def test_a_long_outage_is_told_once_and_its_end_once() -> None:
    alarm = Alarm("rasa_down", after=180)
    alarm.observe(True, 0)
    alarm.observe(True, 120)
    assert alarm.owed(ADMINS) == []
    alarm.observe(True, 181)
    assert alarm.firing and alarm.owed(ADMINS) == list(ADMINS)
    for chat in ADMINS:
        alarm.told(chat)
    for now in (200, 500, 3600):  # still down: nothing more to say
        alarm.observe(True, now)
        assert alarm.owed(ADMINS) == []
    alarm.observe(False, 3700)
    assert not alarm.firing and alarm.lasted == 3700
    assert alarm.owed(ADMINS) == list(ADMINS)  # the recovery, once
    for chat in ADMINS:
        alarm.told(chat)
    alarm.observe(False, 3800)
    assert alarm.owed(ADMINS) == []


def test_a_new_outage_after_a_recovery_is_a_new_alert() -> None:
    alarm = Alarm("outbox_stuck", after=0)
    alarm.observe(True, 0)
    alarm.told(ADMINS[0])
    alarm.observe(False, 10)
    alarm.told(ADMINS[0])
    alarm.observe(True, 20)
    assert alarm.owed(ADMINS[:1]) == [ADMINS[0]]


def test_a_chat_hears_a_recovery_only_after_it_heard_the_alert() -> None:
    alarm = Alarm("rasa_down", after=0)
    alarm.observe(True, 0)
    alarm.told(ADMINS[0])
    assert alarm.owed(ADMINS) == [ADMINS[1]]
    alarm.observe(False, 5)
    assert alarm.owed(ADMINS) == [ADMINS[0]]


class Ticks:
    """A monotonic clock moved by the test."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def up_rasa() -> AsyncIterator[RasaSupervisor]:
    process = subprocess.Popen(  # noqa: ASYNC220 (starts at once; nothing to wait for)
        [sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True
    )

    async def answers() -> bool:
        return True

    yield RasaSupervisor(
        name="t-alerts",
        port=5998,
        start=lambda: process,
        terminate=stop_process,
        probe=answers,
        process=process,
    )
    stop_process(process, grace=2)


def alerts_sent(condition: str, state: str) -> float:
    value = metrics.REGISTRY.get_sample_value(
        "milchak_ops_alerts_total", {"condition": condition, "state": state}
    )
    return value or 0.0


async def test_rasa_down_for_minutes_alerts_each_admin_once_and_once_on_recovery(
    sessions: async_sessionmaker[AsyncSession], db_url: str, up_rasa: RasaSupervisor
) -> None:
    settings = Settings(
        database_url=db_url,
        rasa_url=f"http://127.0.0.1:{free_port()}",  # nothing there: Rasa is down
        alert_chat_ids=ADMINS,
        alert_rasa_down_seconds=180,
    )
    health = Health(sessions, settings)
    ticks = Ticks()
    fired_before = alerts_sent("rasa_down", "firing")
    async with FakeTelegram() as telegram, Bot(telegram.token, base_url=telegram.base_url) as bot:
        watch = OpsWatch(health, settings, bot.send_message, clock=ticks)
        telegram.fail_next("sendMessage", ADMINS[1], status=500)  # one admin unreachable once
        for ticks.now in (0, 60, 120, 179):
            await watch.check()
        assert telegram.sent() == []  # down, but not for long enough
        ticks.now = 181
        await watch.check()
        first = telegram.sent(ADMINS[0])
        assert len(first) == 1 and "상담 엔진(Rasa)이 3분째 응답하지 않아요" in first[0].text
        assert telegram.sent(ADMINS[1]) == []  # its send failed …
        for ticks.now in (240, 300):
            await watch.check()
        assert len(telegram.sent(ADMINS[1])) == 1  # … and was tried again at the next check
        assert len(telegram.sent(ADMINS[0])) == 1  # without repeating it to the other admin
        assert alerts_sent("rasa_down", "firing") == fired_before + 2

        health.supervisors.append(up_rasa)  # Rasa answers again
        for ticks.now in (315, 330, 345):
            await watch.check()
        for chat in ADMINS:
            texts = [m.text for m in telegram.sent(chat)]
            assert len(texts) == 2, texts
            assert "다시 응답해요" in texts[1] and "약 5분" in texts[1]


async def test_a_stuck_outbox_alerts_once_and_its_recovery_once(
    sessions: async_sessionmaker[AsyncSession], db_url: str, up_rasa: RasaSupervisor
) -> None:
    settings = Settings(database_url=db_url, alert_chat_ids=ADMINS[:1], outbox_max_age_seconds=300)
    health = Health(sessions, settings)
    health.supervisors.append(up_rasa)
    ticks = Ticks()
    async with sessions() as session:
        session.add(
            OutboxMessage(
                chat_id=1,
                text="직원 알림",
                created_at=clock.now() - timedelta(minutes=12),
                next_attempt_at=clock.now(),
            )
        )
        await session.commit()
    async with FakeTelegram() as telegram, Bot(telegram.token, base_url=telegram.base_url) as bot:
        watch = OpsWatch(health, settings, bot.send_message, clock=ticks)
        for ticks.now in (0, 15, 30):
            await watch.check()
        stuck = telegram.sent(ADMINS[0])
        assert len(stuck) == 1
        assert "12분 넘게 나가지 못하고 있어요 (대기 1건)" in stuck[0].text
        async with sessions() as session:
            await session.execute(update(OutboxMessage).values(status=SENT))
            await session.commit()
        for ticks.now in (45, 60):
            await watch.check()
        texts = [m.text for m in telegram.sent(ADMINS[0])]
        assert len(texts) == 2 and "다시 나가고 있어요 (남은 대기 0건)" in texts[1]
