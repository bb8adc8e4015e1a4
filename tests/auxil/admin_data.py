"""A small, hand-made organisation with conversations and requests for admin console tests.

Two departments, four employees, four policyholders, a few dozen ledger rows and requests, all
inside ISO week 2026-W48 (Mon 23 – Sun 29 November 2026, Seoul time), so the weekly report's
figures can be worked out by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import SEOUL
from bot.db.models import (
    Contact,
    Department,
    Employee,
    OutboxMessage,
    Policyholder,
    Request,
    RequestEvent,
)
from bot.services.admin_users import create_admin_user

PASSWORD = "비밀번호-1234"
SCRIPT_TEXT = "<script>alert('xss')</script> 이거 보이나요?"
LOAN_TEXT = "약관대출받고싶어요"
UNDELIVERED_ALERT = "[대출] R-20261124-0001 알림 (전달 실패)"
UNDELIVERED_NOTICE = "요청하신 건이 접수됐어요. (전달 실패)"
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=SEOUL).astimezone(UTC)  # Monday after W48


def seoul(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in November 2026, Seoul, as UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=SEOUL).astimezone(UTC)


@dataclass
class AdminData:
    """Ids of what :func:`build_admin_data` created."""

    departments: dict[str, int] = field(default_factory=dict)
    employees: dict[str, int] = field(default_factory=dict)
    policyholders: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    contacts: dict[str, int] = field(default_factory=dict)


async def build_admin_data(sessions: async_sessionmaker[AsyncSession]) -> AdminData:
    """Create the organisation, conversations, requests and console accounts."""
    data = AdminData()
    async with sessions() as s:
        planning = Department(name="기획부")
        support = Department(name="영업지원부")
        s.add_all([planning, support])
        await s.flush()
        data.departments = {"기획부": planning.id, "영업지원부": support.id}

        def employee(name: str, title: str, dept: Department, head: bool = False) -> Employee:
            return Employee(
                name=name,
                title=title,
                department_id=dept.id,
                home_area="인천 남동구",
                is_head=head,
            )

        kim = employee("김영환", "기획부장", planning, head=True)
        park = employee("박민수", "대리", planning)
        choi = employee("최지은", "영업지원부장", support, head=True)
        jung = employee("정하늘", "사원", support)
        s.add_all([kim, park, choi, jung])
        await s.flush()
        data.employees = {e.name: e.id for e in (kim, park, choi, jung)}

        def holder(name: str, phone: str, emp: Employee) -> Policyholder:
            return Policyholder(
                name=name,
                phone=phone,
                birth_date=date(1962, 4, 17),
                address="인천 남동구 만수동 주공아파트",
                area="인천 남동구",
                employee_id=emp.id,
            )

        lee = holder("이영숙", "01055123087", kim)
        han = holder("한철수", "01022223333", kim)
        # Homes for the 담당 배정 pages: 김영환 and 이영숙 in 만수동, 한철수 2.2 km away.
        kim.home_lat, kim.home_lon, kim.home_geocode_level = 37.455783, 126.733085, "dong"
        lee.lat, lee.lon, lee.geocode_level = 37.455783, 126.733085, "dong"
        han.lat, han.lon, han.geocode_level = 37.4355, 126.7255, "sigungu"
        oh = holder("오미나", "01044445555", park)
        yoon = holder("윤서준", "01066667777", jung)
        s.add_all([lee, han, oh, yoon])
        await s.flush()
        data.policyholders = {p.name: p.id for p in (lee, han, oh, yoon)}

        def request(
            ref: str,
            kind: str,
            ph: Policyholder,
            emp: Employee,
            created: datetime,
            *,
            status: str = "new",
            details: dict[str, object] | None = None,
            ack: datetime | None = None,
            resolved: datetime | None = None,
            due: datetime | None = None,
            rating: int | None = None,
            summary: str = "",
        ) -> Request:
            return Request(
                reference=ref,
                kind=kind,
                status=status,
                policyholder_id=ph.id,
                employee_id=emp.id,
                summary=summary or f"{kind} 요청",
                details=details or {},
                created_at=created,
                updated_at=created,
                due_at=due,
                acknowledged_at=ack,
                resolved_at=resolved,
                rating=rating,
            )

        loan = request(
            "R-20261124-0001",
            "loan",
            lee,
            kim,
            seoul(24, 9),
            status="resolved",
            ack=seoul(24, 10),
            resolved=seoul(24, 15),
            due=seoul(24, 13),
            rating=5,
            summary="약관대출 300만원",
        )
        complaint = request(
            "R-20261125-0002",
            "complaint",
            han,
            kim,
            seoul(25, 9),
            status="acknowledged",
            details={"category": "보험금 지급"},
            ack=seoul(26, 12),  # after the 24 h deadline: an SLA breach
            due=seoul(26, 9),
            summary="보험금 지급이 늦어요",
        )
        complaint2 = request(
            "R-20261126-0003",
            "complaint",
            oh,
            park,
            seoul(26, 9),
            status="resolved",
            details={"category": "보험금 지급"},
            ack=seoul(26, 11),
            resolved=seoul(27, 9),
            due=seoul(27, 9),
            rating=3,
        )
        wish = request(
            "R-20261127-0004",
            "suggestion",
            oh,
            park,
            seoul(27, 9),
            details={"category": "도서 할인"},
            due=seoul(29, 9),  # never acknowledged, deadline passed: a breach
        )
        other = request(
            "R-20261127-0005",
            "complaint",
            yoon,
            jung,
            seoul(27, 14),
            details={"category": "직원 응대"},
            due=seoul(28, 14),
            ack=seoul(27, 15),
        )
        s.add_all([loan, complaint, complaint2, wish, other])
        await s.flush()
        data.requests = {r.reference: r.id for r in (loan, complaint, complaint2, wish, other)}
        s.add_all(
            [
                RequestEvent(request_id=loan.id, action="created", created_at=seoul(24, 9)),
                RequestEvent(
                    request_id=loan.id,
                    action="acknowledged",
                    employee_id=kim.id,
                    created_at=seoul(24, 10),
                ),
                RequestEvent(
                    request_id=loan.id,
                    action="resolved",
                    employee_id=kim.id,
                    note="송금 완료",
                    created_at=seoul(24, 15),
                ),
                RequestEvent(request_id=other.id, action="created", created_at=seoul(27, 14)),
            ]
        )

        def turn(
            key: str,
            ph: Policyholder,
            sender: str,
            text: str,
            at: datetime,
            *,
            intent: str | None = None,
            confidence: float | None = None,
            req: Request | None = None,
            emp: Employee | None = None,
            channel: str = "telegram",
        ) -> Contact:
            contact = Contact(
                policyholder_id=ph.id,
                employee_id=emp.id if emp else None,
                direction="in" if sender == "policyholder" else "out",
                channel=channel,
                sender=sender,
                text=text,
                intent=intent,
                confidence=confidence,
                request_id=req.id if req else None,
                created_at=at,
            )
            s.add(contact)
            return contact

        keyed = {
            "greet": turn(
                "greet",
                lee,
                "policyholder",
                "안녕하세요",
                seoul(24, 8, 50),
                intent="greet",
                confidence=0.98,
            ),
            "hello": turn(
                "hello", lee, "bot", "이영숙님, 안녕하세요. 무엇을 도와드릴까요?", seoul(24, 8, 51)
            ),
            "loan": turn(
                "loan",
                lee,
                "policyholder",
                LOAN_TEXT,
                seoul(24, 8, 55),
                intent="request_loan",
                confidence=0.93,
            ),
            "loan_ok": turn(
                "loan_ok",
                lee,
                "bot",
                "대출 신청을 접수했어요. 접수번호 R-20261124-0001",
                seoul(24, 9),
                req=loan,
            ),
            "kim_reply": turn(
                "kim_reply",
                lee,
                "employee",
                "김영환입니다. 오늘 송금해 드릴게요.",
                seoul(24, 10),
                req=loan,
                emp=kim,
            ),
            "visit": turn(
                "visit",
                han,
                "employee",
                "댁 방문, 보험금 지급 지연 설명",
                seoul(25, 19),
                emp=kim,
                channel="visit",
            ),
            "han_complaint": turn(
                "han_complaint",
                han,
                "policyholder",
                "보험금 지급이 너무 늦어요",
                seoul(25, 8, 58),
                intent="complaint",
                confidence=0.88,
            ),
            "script": turn(
                "script",
                han,
                "policyholder",
                SCRIPT_TEXT,
                seoul(25, 9, 5),
                intent="nlu_fallback",
                confidence=0.31,
            ),
            "unsure": turn(
                "unsure",
                oh,
                "policyholder",
                "책 싸게 사는 방법 있나요",
                seoul(27, 8, 59),
                intent="suggest_service",
                confidence=0.55,
            ),
            "formula": turn(
                "formula",
                oh,
                "policyholder",
                '=HYPERLINK("http://x")',
                seoul(27, 9, 1),
                intent="out_of_scope",
                confidence=0.9,
            ),
            "park_call": turn(
                "park_call",
                oh,
                "employee",
                "전화 상담 완료",
                seoul(27, 18),
                emp=park,
                channel="phone",
            ),
            "yoon": turn(
                "yoon",
                yoon,
                "policyholder",
                "직원분이 불친절했어요. 약관대출 문의도 있어요",
                seoul(27, 13, 55),
                intent="complaint",
                confidence=0.91,
            ),
            "jung_reply": turn(
                "jung_reply",
                yoon,
                "employee",
                "죄송합니다. 바로 연락드릴게요.",
                seoul(27, 15),
                req=other,
                emp=jung,
            ),
            "old": turn(
                "old",
                lee,
                "policyholder",
                "지난달 문의",
                seoul(2, 10),
                intent="ask_policy",
                confidence=0.95,
            ),
        }
        await s.flush()
        data.contacts = {key: c.id for key, c in keyed.items()}

        # The outbox gave up on two messages in the week (김영환's alert, a notice to 이영숙)
        # and delivered a third: "발송 실패" lists two, the report counts two for 김영환.
        def queued(text: str, chat: int, created: datetime, status: str, **ids: Any) -> None:
            s.add(
                OutboxMessage(
                    chat_id=chat,
                    text=text,
                    status=status,
                    attempts=150 if status == "failed" else 1,
                    last_error="TimedOut: Timed out" if status == "failed" else None,
                    created_at=created,
                    next_attempt_at=created,
                    **ids,
                )
            )

        queued(
            UNDELIVERED_ALERT,
            900001,
            seoul(25, 9),
            "failed",
            employee_id=kim.id,
            request_id=loan.id,
        )
        queued(
            UNDELIVERED_NOTICE,
            555001,
            seoul(26, 9),
            "failed",
            policyholder_id=lee.id,
            purpose="ack_notice",
        )
        queued("전달된 알림", 900001, seoul(26, 10), "sent", employee_id=kim.id)
        await s.flush()

        await create_admin_user(s, username="admin", password=PASSWORD, role="admin")
        await create_admin_user(
            s, username="planning_head", password=PASSWORD, role="head", department_name="기획부"
        )
        await create_admin_user(
            s,
            username="support_head",
            password=PASSWORD,
            role="head",
            department_name="영업지원부",
        )
        await create_admin_user(s, username="auditor", password=PASSWORD, role="auditor")
        await s.commit()
    return data


__all__ = [
    "LOAN_TEXT",
    "NOW",
    "PASSWORD",
    "SCRIPT_TEXT",
    "UNDELIVERED_ALERT",
    "UNDELIVERED_NOTICE",
    "AdminData",
    "build_admin_data",
    "seoul",
]
