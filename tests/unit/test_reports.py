"""Weekly department report figures, worked out by hand from tests/auxil/admin_data.py."""

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.reports import (
    Week,
    WeekError,
    format_report_text,
    report_csv_rows,
    weekly_report,
)
from tests.auxil.admin_data import NOW, build_admin_data, seoul


def test_week_bounds_are_seoul_midnights() -> None:
    week = Week.parse("2026-W48")
    assert week.start == seoul(23, 0)
    assert week.end == seoul(30, 0)
    assert week.month_start == seoul(1, 0)
    assert week.previous().label == "2026-W47"
    assert Week.containing(seoul(29, 23, 59)).label == "2026-W48"
    assert Week.containing(seoul(30, 0)).label == "2026-W49"
    for bad in ("2026-48", "2026-W54", "W48"):
        with pytest.raises(WeekError):
            Week.parse(bad)


async def test_weekly_figures(sessions: async_sessionmaker[AsyncSession]) -> None:
    data = await build_admin_data(sessions)
    async with sessions() as session:
        report = await weekly_report(session, week=Week.parse("2026-W48"), now=NOW)
    planning, support = report.departments
    assert (planning.name, support.name) == ("기획부", "영업지원부")

    kim, park = planning.employees
    assert (kim.name, park.name) == ("김영환", "박민수")
    # 김영환: 이영숙 (greet, loan, his reply; the bot turns and the 2 Nov message don't count) and
    # 한철수 (visit, complaint, <script> message).
    assert (kim.figures.assigned, kim.figures.contacts, kim.figures.reached) == (2, 6, 2)
    assert (kim.figures.contacted_week, kim.figures.share_week) == (2, 1.0)
    assert kim.figures.requests_by_kind == {"complaint": 1, "loan": 1}
    # Loan acknowledged after 1 h, complaint after 27 h: median 14 h. Loan resolved after 6 h.
    assert kim.figures.median_acknowledge == timedelta(hours=14)
    assert kim.figures.median_resolve == timedelta(hours=6)
    assert kim.figures.sla_breaches == 1  # the complaint, acknowledged 3 h late
    assert kim.figures.ratings == [5]

    assert (park.figures.contacts, park.figures.reached, park.figures.contacted_week) == (3, 1, 1)
    assert park.figures.requests_by_kind == {"complaint": 1, "suggestion": 1}
    assert park.figures.sla_breaches == 1  # the wish, never acknowledged, deadline passed
    assert park.figures.median_resolve == timedelta(hours=24)

    f = planning.figures
    assert (f.assigned, f.contacts, f.reached, f.contacted_week, f.contacted_month) == (
        3,
        9,
        3,
        3,
        3,
    )
    assert f.requests == 4 and f.sla_breaches == 2
    assert f.still_open == 2  # the acknowledged complaint and the wish; two were resolved
    assert (kim.figures.still_open, park.figures.still_open) == (1, 1)
    assert f.median_acknowledge == timedelta(hours=2)  # of 1 h, 27 h, 2 h
    assert f.rating_average == 4.0
    assert planning.top_complaints == [("보험금 지급", 2)]
    assert planning.top_wishes == [("도서 할인", 1)]

    chief, jung = support.employees  # the head first
    assert (
        chief.name == "최지은" and chief.figures.assigned == 0 and chief.figures.share_week is None
    )
    assert (jung.figures.contacts, jung.figures.reached) == (2, 1)
    assert support.figures.still_open == 1
    assert support.top_complaints == [("직원 응대", 1)]
    assert data.departments["영업지원부"] == support.department_id


async def test_one_department_and_an_empty_week(sessions: async_sessionmaker[AsyncSession]) -> None:
    data = await build_admin_data(sessions)
    async with sessions() as session:
        only = await weekly_report(
            session,
            week=Week.parse("2026-W48"),
            department_id=data.departments["영업지원부"],
            now=NOW,
        )
        empty = await weekly_report(session, week=Week.parse("2026-W40"), now=NOW)
    assert [d.name for d in only.departments] == ["영업지원부"]
    assert all(d.figures.contacts == 0 and d.figures.requests == 0 for d in empty.departments)
    assert all(d.figures.median_acknowledge is None for d in empty.departments)


async def test_csv_and_text_carry_the_same_figures(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await build_admin_data(sessions)
    async with sessions() as session:
        report = await weekly_report(session, week=Week.parse("2026-W48"), now=NOW)
    header, planning, kim, *_ = report_csv_rows(report)
    row = dict(zip(header, planning, strict=True))
    assert row["구분"] == "부서" and row["부서"] == "기획부"
    assert (row["접촉 건수"], row["접촉 계약자"], row["이번 주 접촉률"]) == ("9", "3", "1.000")
    assert (row["요청:불만"], row["요청:서비스 희망"], row["SLA 위반"]) == ("2", "1", "2")
    assert row["접수 소요 중앙값(분)"] == "120"
    assert row["주요 불만 유형"] == "보험금 지급(2)"
    assert dict(zip(header, kim, strict=True))["직원"] == "김영환 기획부장"
    text = format_report_text(report)
    assert "주간 부서 실적 2026-W48 (2026-11-23 ~ 2026-11-29)" in text
    assert "■ 기획부" in text and "접촉 9건 · 접촉 계약자 3명 · 담당 3명" in text
    assert "SLA 위반 2건" in text and "주요 불만: 보험금 지급(2)" in text


async def test_undelivered_messages_are_counted(sessions: async_sessionmaker[AsyncSession]) -> None:
    await build_admin_data(sessions)
    async with sessions() as session:
        report = await weekly_report(session, week=Week.parse("2026-W48"), now=NOW)
        next_week = await weekly_report(session, week=Week.parse("2026-W49"), now=NOW)
    planning, support = report.departments
    kim = planning.employees[0]
    # The alert to 김영환 and the notice to his policyholder 이영숙; the sent one does not count.
    assert (planning.figures.undelivered, kim.figures.undelivered) == (2, 2)
    assert support.figures.undelivered == 0
    assert next_week.departments[0].figures.undelivered == 0
    header, planning_row, *_ = report_csv_rows(report)
    assert dict(zip(header, planning_row, strict=True))["전달 실패 메시지"] == "2"
    assert "전달 실패 메시지 2건" in format_report_text(report)
