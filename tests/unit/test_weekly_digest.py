"""The weekly digest to department heads: wording, figures, once per department and week, the
schedule, the CLI, and delivery through the real outbox worker to a fake Telegram."""

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot

from bot.cli import main
from bot.clock import SEOUL, Clock, FrozenClock, set_clock
from bot.config import Settings, get_settings
from bot.db import create_engine_and_sessions
from bot.db.engine import session_scope
from bot.db.migrate import upgrade
from bot.db.models import Department, Employee, OutboxMessage
from bot.services.outbox import enqueue_once, run_outbox_worker
from bot.services.reports import DepartmentReport, EmployeeReport, Figures, Week, weekly_report
from bot.services.weekly_digest import (
    PURPOSE,
    Schedule,
    Status,
    compose_digest,
    queue_weekly_digests,
    run_weekly_digest_worker,
    send_due_digests,
)
from bot.telegram.sender import telegram_sender
from tests.auxil.admin_data import NOW, build_admin_data
from tests.auxil.fake_telegram import FakeTelegram

W48 = Week.parse("2026-W48")
KIM_CHAT = 910001
CHOI_CHAT = 910002


def seoul_time(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SEOUL).astimezone(UTC)


@pytest.fixture
def frozen() -> Iterator[FrozenClock]:
    clock = FrozenClock(NOW)
    set_clock(clock)
    yield clock
    set_clock(Clock())


async def _link(sessions: async_sessionmaker[AsyncSession], name: str, chat: int) -> None:
    async with sessions() as session:
        await session.execute(
            update(Employee).where(Employee.name == name).values(telegram_chat_id=chat)
        )
        await session.commit()


async def _digests(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == PURPOSE).order_by(OutboxMessage.id)
        )
        return list(rows.all())


async def _queue(
    sessions: async_sessionmaker[AsyncSession], week: Week = W48
) -> dict[str, tuple[Status, str | None]]:
    async with session_scope(sessions) as session:
        outcomes = await queue_weekly_digests(session, week=week, now=NOW)
    return {o.department: (o.status, o.head) for o in outcomes}


# --- composition ---------------------------------------------------------------------------------


async def test_digest_carries_the_report_figures(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await build_admin_data(sessions)
    async with sessions() as session:
        report = await weekly_report(session, week=W48, now=NOW)
        kim = await session.scalar(select(Employee).where(Employee.name == "김영환"))
    assert kim is not None
    planning = report.departments[0]
    f = planning.figures
    text = compose_digest(planning, week=W48, head=kim)

    # Built from the report's own numbers ...
    assert f"접촉 {f.contacts}건 · 접촉한 계약자 {f.reached}명" in text
    assert f"아직 처리 중 {f.still_open}건 · 접수 기한 초과 {f.sla_breaches}건" in text
    # ... which are, for this fixture (see tests/unit/test_reports.py):
    assert text.splitlines() == [
        "📊 기획부 주간 실적 · 2026-W48 (11월 23일~29일)",
        "",
        "김영환 기획부장님, 11월 23일~29일 부서 밀착관리 실적을 알려 드립니다.",
        "",
        "■ 계약자 접촉",
        "· 접촉 9건 · 접촉한 계약자 3명",
        "· 담당 계약자 접촉률: 주간 100% (3/3명) · 11월 누적 100% (3/3명)",
        "",
        "■ 요청 4건",
        "· 불만 2건 · 서비스 희망 1건 · 대출 1건",
        "· 아직 처리 중 2건 · 접수 기한 초과 2건",
        "",
        "■ 접촉이 많은 직원",
        "1. 김영환 기획부장 6건",
        "2. 박민수 대리 3건",
    ]


async def test_department_without_requests_or_contacts(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await build_admin_data(sessions)
    quiet = Week.parse("2026-W40")
    async with sessions() as session:
        report = await weekly_report(session, week=quiet, now=NOW)
        choi = await session.scalar(select(Employee).where(Employee.name == "최지은"))
    assert choi is not None
    text = compose_digest(report.departments[1], week=quiet, head=choi)
    assert "📊 영업지원부 주간 실적 · 2026-W40 (9월 28일~10월 4일)" in text
    assert "· 접촉 0건 · 접촉한 계약자 0명" in text
    assert "· 담당 계약자 접촉률: 주간 0% (0/1명) · 10월 누적 0% (0/1명)" in text
    assert "■ 요청 없음" in text and "처리 중" not in text
    assert "· 이 주에는 접촉 기록이 없습니다." in text


def test_large_numbers_get_thousands_separators() -> None:
    week = Week.parse("2026-W48")
    figures = Figures(
        assigned=2500,
        contacts=12345,
        reached=1999,
        contacted_week=1250,
        contacted_month=2000,
        requests_by_kind={"loan": 1234, "complaint": 7},
        still_open=1001,
        sla_breaches=1000,
    )
    staff = Figures(contacts=4321)
    report = DepartmentReport(
        1, "기획부", figures, [EmployeeReport(2, "박민수", "대리", staff)], [], []
    )
    head = Employee(name="김영환", title="기획부장")
    text = compose_digest(report, week=week, head=head)
    assert "· 접촉 12,345건 · 접촉한 계약자 1,999명" in text
    assert "주간 50% (1,250/2,500명) · 11월 누적 80% (2,000/2,500명)" in text
    assert "■ 요청 1,241건" in text and "· 대출 1,234건 · 불만 7건" in text
    assert "· 아직 처리 중 1,001건 · 접수 기한 초과 1,000건" in text
    assert "1. 박민수 대리 4,321건" in text


# --- once per department and week ----------------------------------------------------------------


async def test_queued_once_and_unlinked_heads_reported(
    sessions: async_sessionmaker[AsyncSession], frozen: FrozenClock
) -> None:
    await build_admin_data(sessions)
    await _link(sessions, "김영환", KIM_CHAT)
    async with sessions() as session:
        session.add(Department(name="감사부"))  # nobody in it, so no head
        await session.commit()

    first = await _queue(sessions)
    assert first == {
        "감사부": (Status.NO_HEAD, None),
        "기획부": (Status.QUEUED, "김영환 기획부장"),
        "영업지원부": (Status.NOT_LINKED, "최지은 영업지원부장"),
    }
    second = await _queue(sessions)
    assert second["기획부"] == (Status.ALREADY, "김영환 기획부장")
    assert second["영업지원부"] == (Status.NOT_LINKED, "최지은 영업지원부장")

    [row] = await _digests(sessions)
    assert row.chat_id == KIM_CHAT and row.status == "pending"
    assert row.dedupe_key is not None and row.dedupe_key.endswith(":2026-W48")
    assert row.text.startswith("📊 기획부 주간 실적 · 2026-W48")

    # A blocked head is skipped too; once unblocked, the digest goes out (and only then).
    await _link(sessions, "최지은", CHOI_CHAT)
    async with sessions() as session:
        await session.execute(
            update(Employee).where(Employee.name == "최지은").values(telegram_blocked=True)
        )
        await session.commit()
    assert (await _queue(sessions))["영업지원부"][0] == Status.BLOCKED
    async with sessions() as session:
        await session.execute(
            update(Employee).where(Employee.name == "최지은").values(telegram_blocked=False)
        )
        await session.commit()
    assert (await _queue(sessions))["영업지원부"][0] == Status.QUEUED
    assert [r.chat_id for r in await _digests(sessions)] == [KIM_CHAT, CHOI_CHAT]


async def test_two_processes_racing_queue_one_message(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The second insert waits for the first transaction, then loses to the unique index."""
    async with sessions() as first, sessions() as second:
        queued = await enqueue_once(
            first, dedupe_key="weekly_digest:1:2026-W48", chat_id=1, text="가", purpose=PURPOSE
        )
        assert queued is not None
        racing = asyncio.create_task(
            enqueue_once(
                second,
                dedupe_key="weekly_digest:1:2026-W48",
                chat_id=1,
                text="나",
                purpose=PURPOSE,
            )
        )
        await asyncio.sleep(0.3)
        assert not racing.done()  # blocked on the first, uncommitted row
        await first.commit()
        assert await racing is None
        await second.commit()
    assert [r.text for r in await _digests(sessions)] == ["가"]


async def test_whole_job_on_two_sessions_at_once(
    sessions: async_sessionmaker[AsyncSession], frozen: FrozenClock
) -> None:
    await build_admin_data(sessions)
    await _link(sessions, "김영환", KIM_CHAT)
    await _link(sessions, "최지은", CHOI_CHAT)
    schedule = Schedule()
    results = await asyncio.gather(
        send_due_digests(sessions, schedule=schedule),
        send_due_digests(sessions, schedule=schedule),
    )
    statuses = sorted(o.status for outcomes in results for o in outcomes)
    assert statuses == [Status.ALREADY, Status.ALREADY, Status.QUEUED, Status.QUEUED]
    assert sorted(r.chat_id for r in await _digests(sessions)) == [KIM_CHAT, CHOI_CHAT]


# --- schedule ------------------------------------------------------------------------------------


async def test_schedule_monday_catch_up_and_next_week(
    sessions: async_sessionmaker[AsyncSession], frozen: FrozenClock
) -> None:
    await build_admin_data(sessions)
    await _link(sessions, "김영환", KIM_CHAT)
    schedule = Schedule(weekday=0, hour=8)

    async def run_at(moment: datetime) -> dict[str, Status]:
        frozen.advance(moment - frozen.now())
        outcomes = await send_due_digests(sessions, schedule=schedule)
        return {f"{o.department} {o.week.label}": o.status for o in outcomes}

    assert await run_at(seoul_time(11, 30, 7, 59)) == {}  # Monday, not yet 08:00
    assert await _digests(sessions) == []
    assert await run_at(seoul_time(11, 30, 8, 0)) == {
        "기획부 2026-W48": Status.QUEUED,
        "영업지원부 2026-W48": Status.NOT_LINKED,
    }
    # Later that week (the app was down, or 최지은 linked her account since): catch up.
    await _link(sessions, "최지은", CHOI_CHAT)
    assert await run_at(seoul_time(12, 3, 15, 0)) == {
        "기획부 2026-W48": Status.ALREADY,
        "영업지원부 2026-W48": Status.QUEUED,
    }
    assert await run_at(seoul_time(12, 6, 23, 59)) == {
        "기획부 2026-W48": Status.ALREADY,
        "영업지원부 2026-W48": Status.ALREADY,
    }
    # The next Monday: nothing before 08:00, then the next week's digest.
    assert await run_at(seoul_time(12, 7, 7, 0)) == {}
    assert await run_at(seoul_time(12, 7, 9, 30)) == {
        "기획부 2026-W49": Status.QUEUED,
        "영업지원부 2026-W49": Status.QUEUED,
    }
    rows = await _digests(sessions)
    assert [(r.chat_id, r.text.splitlines()[0]) for r in rows] == [
        (KIM_CHAT, "📊 기획부 주간 실적 · 2026-W48 (11월 23일~29일)"),
        (CHOI_CHAT, "📊 영업지원부 주간 실적 · 2026-W48 (11월 23일~29일)"),
        (KIM_CHAT, "📊 기획부 주간 실적 · 2026-W49 (11월 30일~12월 6일)"),
        (CHOI_CHAT, "📊 영업지원부 주간 실적 · 2026-W49 (11월 30일~12월 6일)"),
    ]


def test_schedule_from_settings() -> None:
    schedule = Schedule.from_settings(
        Settings(weekly_digest_weekday=2, weekly_digest_hour=9, _env_file=None)  # type: ignore[call-arg]
    )
    assert schedule == Schedule(weekday=2, hour=9)
    assert schedule.due_week(seoul_time(12, 1, 23, 0)) is None  # Tuesday
    assert schedule.due_week(seoul_time(12, 2, 8, 59)) is None  # Wednesday, before 09:00
    due = schedule.due_week(seoul_time(12, 2, 9, 0))
    assert due is not None and due.label == "2026-W48"
    # The default: Monday 08:00, Seoul (23:00 Sunday in UTC).
    assert Schedule().due_week(datetime(2026, 11, 29, 22, 59, tzinfo=UTC)) is None
    default_due = Schedule().due_week(datetime(2026, 11, 29, 23, 0, tzinfo=UTC))
    assert default_due is not None and default_due.label == "2026-W48"


# --- CLI -----------------------------------------------------------------------------------------


def test_cli_send_weekly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, frozen: FrozenClock
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("MILCHAK_DATABASE_URL", url)
    get_settings.cache_clear()

    async def prepare() -> None:
        engine, sessions = create_engine_and_sessions(url)
        await upgrade(engine)
        await build_admin_data(sessions)
        await _link(sessions, "김영환", KIM_CHAT)
        await engine.dispose()

    async def mark_sent() -> None:
        engine, sessions = create_engine_and_sessions(url)
        async with sessions() as session:
            await session.execute(update(OutboxMessage).values(status="sent"))
            await session.commit()
        await engine.dispose()

    asyncio.run(prepare())
    runner = CliRunner()
    try:
        first = runner.invoke(main, ["report", "send-weekly", "--week", "2026-W48"])
        again = runner.invoke(
            main, ["report", "send-weekly", "--week", "2026-W48", "--department", "기획부"]
        )
        asyncio.run(mark_sent())
        after_sending = runner.invoke(
            main, ["report", "send-weekly", "--week", "2026-W48", "--department", "기획부"]
        )
        unknown = runner.invoke(main, ["report", "send-weekly", "--department", "없는부"])
        unfinished = runner.invoke(main, ["report", "send-weekly", "--week", "2026-W49"])
        bad_week = runner.invoke(main, ["report", "send-weekly", "--week", "48"])
    finally:
        get_settings.cache_clear()

    assert first.exit_code == 0, first.output
    assert first.output.splitlines() == [
        "2026-W48 주간 실적 텔레그램 발송",
        "기획부: 김영환 기획부장님께 보낼 주간 실적을 발송 대기열에 넣었습니다.",
        "영업지원부: 최지은 영업지원부장님의 텔레그램이 연결되어 있지 않아 보내지 않았습니다. "
        "`milchak employee invite 3` 로 초대 링크를 만들 수 있습니다.",
        "대기열의 메시지는 실행 중인 밀착 앱(milchak run)이 텔레그램으로 보냅니다.",
    ]
    assert again.exit_code == 0, again.output
    assert again.output.splitlines() == [
        "2026-W48 주간 실적 텔레그램 발송",
        "기획부: 이 주의 주간 실적은 이미 발송 대기 중이므로 다시 보내지 않습니다.",
    ]
    assert after_sending.output.splitlines()[1] == (
        "기획부: 이 주의 주간 실적은 이미 보냈으므로 다시 보내지 않습니다."
    )
    assert unfinished.exit_code == 1
    assert "2026-W49 주는 아직 끝나지 않았습니다" in unfinished.output
    assert unknown.exit_code == 1 and "부서를 찾을 수 없습니다: 없는부" in unknown.output
    assert bad_week.exit_code == 2 and "2026-W48 처럼" in bad_week.output


# --- delivery ------------------------------------------------------------------------------------


async def test_head_receives_the_digest_once_through_the_outbox_worker(
    sessions: async_sessionmaker[AsyncSession], frozen: FrozenClock
) -> None:
    """Two digest workers (two app processes) and the real outbox worker, real PTB Bot."""
    await build_admin_data(sessions)
    await _link(sessions, "김영환", KIM_CHAT)
    async with sessions() as session:
        report = await weekly_report(session, week=W48, now=NOW)
        kim = await session.scalar(select(Employee).where(Employee.name == "김영환"))
    assert kim is not None
    expected = compose_digest(report.departments[0], week=W48, head=kim)

    async with FakeTelegram() as fake:
        bot = Bot(fake.token, base_url=fake.base_url)
        async with bot:
            stop = asyncio.Event()
            tasks = [
                asyncio.create_task(
                    run_weekly_digest_worker(
                        sessions, schedule=Schedule(), interval=0.05, stop=stop
                    )
                )
                for _ in range(2)
            ]
            tasks.append(
                asyncio.create_task(
                    run_outbox_worker(sessions, telegram_sender(bot), interval=0.05, stop=stop)
                )
            )
            try:
                message = await fake.wait_for_message(KIM_CHAT, timeout=10)
                await asyncio.sleep(0.5)  # several more rounds of every worker
            finally:
                stop.set()
                await asyncio.gather(*tasks)
    assert message.text == expected
    assert "김영환 기획부장님, 11월 23일~29일 부서 밀착관리 실적을 알려 드립니다." in message.text
    assert len(fake.sent(KIM_CHAT)) == 1
    assert len(fake.calls_to("sendMessage")) == 1  # 최지은 has no chat: nothing else went out
    [row] = await _digests(sessions)
    assert row.status == "sent" and row.telegram_message_id == message.message_id
