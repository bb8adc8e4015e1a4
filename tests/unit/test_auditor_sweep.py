"""An auditor walks every page and export of the console: no seeded personal data anywhere.

The console's fixture organisation (tests/auxil/admin_data.py) plus what makes personal data
leak into free text: a booking with the customer's address, a bot reply and a rating comment
that name her, a suggestion on the weekly report that gives the author's address, a birth date
and a 주민등록번호 typed into the chat, and an admin's search for a customer by name (in the
audit log). The auditor's crawler follows every link from the console's pages and downloads
every export; each answer is searched for names, phones, addresses, places and birth dates.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.config import Settings
from bot.db.models import Contact, Policyholder, Request, RequestEvent
from bot.web import create_web_app
from tests.auxil.admin_data import NOW, PASSWORD, AdminData, build_admin_data, seoul
from tests.auxil.stored import readable_numbers

PLACE = "서울 마포구 합정동 371-3"
BIRTH = date(1962, 4, 17)  # every fixture policyholder's
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_HREF = re.compile(r'href="([^"]+)"')
MAX_PAGES = 400
WEEKS = {"2026-W47", "2026-W48", "2026-W49"}


@pytest.fixture(autouse=True)
def frozen() -> Iterator[clock.FrozenClock]:
    previous = clock.clock
    fake = clock.FrozenClock(NOW)
    clock.set_clock(fake)
    yield fake
    clock.set_clock(previous)


async def add_personal_free_text(
    sessions: async_sessionmaker[AsyncSession], data: AdminData
) -> None:
    """Free text that carries personal data only the database can recognise."""
    lee, oh, han = (data.policyholders[n] for n in ("이영숙", "오미나", "한철수"))
    kim, park = data.employees["김영환"], data.employees["박민수"]
    async with sessions() as s:
        moving = Request(
            reference="R-20261126-0006",
            kind="moving",
            status="new",
            policyholder_id=lee,
            employee_id=kim,
            summary=f"이사 서비스: 본인, 2026-11-28, {PLACE}",
            details={"relation": "self", "date": "2026-11-28", "place": PLACE},
            created_at=seoul(26, 10),
            updated_at=seoul(26, 10),
        )
        wish = Request(
            reference="R-20261126-0007",
            kind="suggestion",
            status="new",
            policyholder_id=oh,
            employee_id=park,
            summary="만수동 주공아파트 앞에 오미나 전용 상담 창구가 있으면 좋겠어요",
            details={"wish": "만수동 주공아파트 앞에 오미나 전용 상담 창구가 있으면 좋겠어요"},
            created_at=seoul(26, 11),
            updated_at=seoul(26, 11),
        )
        s.add_all([moving, wish])
        await s.flush()
        data.requests |= {moving.reference: moving.id, wish.reference: wish.id}
        s.add_all(
            [
                Contact(
                    policyholder_id=lee,
                    direction="out",
                    sender="bot",
                    text=f"이영숙님, 이사 예약을 접수했어요. 장소: {PLACE}",
                    request_id=moving.id,
                    created_at=seoul(26, 10, 1),
                ),
                Contact(
                    policyholder_id=lee,
                    direction="in",
                    sender="policyholder",
                    text="합정동 371-3이요. 생일은 1962년 4월 17일, 주민번호 620417-2123456",
                    intent="inform",
                    confidence=0.9,
                    created_at=seoul(26, 10, 2),
                ),
                Contact(
                    policyholder_id=han,
                    direction="out",
                    sender="employee",
                    employee_id=kim,
                    channel="visit",
                    text="한철수 고객 댁(만수동 주공아파트) 방문, 010-2222-3333로 다시 연락",
                    created_at=seoul(26, 19),
                ),
                RequestEvent(
                    request_id=data.requests["R-20261125-0002"],
                    action="note",
                    employee_id=kim,
                    note="한철수 고객께 전화, 주소 인천 남동구 만수동 주공아파트 확인",
                    created_at=seoul(26, 12, 5),
                ),
            ]
        )
        await s.execute(
            update(Request)
            .where(Request.id == data.requests["R-20261124-0001"])
            .values(rating_comment="이영숙입니다. 김영환 부장님 덕분에 빨리 받았어요")
        )
        await s.commit()


def personal_data(holders: list[Policyholder]) -> list[str]:
    """The strings that must appear nowhere the auditor looks."""
    found = [PLACE, "합정동"]
    for holder in holders:
        found += [holder.name, holder.address, "만수동", "주공아파트"]
    found += ["620417", "19620417", "1962-04-17", "1962년 4월 17일", "62년 4월 17일"]
    return found


async def sign_in(client: httpx.AsyncClient, username: str) -> None:
    form = await client.get("/admin/login")
    match = _CSRF.search(form.text)
    assert match
    answer = await client.post(
        "/admin/login",
        data={"csrf_token": match.group(1), "username": username, "password": PASSWORD},
    )
    assert answer.status_code == 303, answer.text


def links(page: str, url: str) -> list[str]:
    """Same-console links of a page (never signing out; the report's week links only around
    the fixture's week, or the walk would go back in time forever)."""
    found = []
    for href in _HREF.findall(page):
        target = urljoin(url, html.unescape(href))
        parts = urlsplit(target)
        if not parts.path.startswith("/admin") or parts.path.startswith(
            ("/admin/static", "/admin/logout")
        ):
            continue
        weeks = parse_qs(parts.query).get("week", [])
        if any(week not in WEEKS for week in weeks):
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


async def crawl(client: httpx.AsyncClient, start: list[str]) -> dict[str, str]:
    """Every page and export reachable from ``start``, as the text the auditor receives."""
    seen: dict[str, str] = {}
    queue = list(start)
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        answer = await client.get(url)
        assert answer.status_code in (200, 403, 404), (url, answer.status_code)
        seen[url] = html.unescape(answer.text)
        if "text/html" in answer.headers.get("content-type", ""):
            queue += [link for link in links(answer.text, url) if link not in seen]
    assert len(seen) < MAX_PAGES, "the crawl did not finish"
    return seen


async def test_auditor_sees_no_personal_data_on_any_page_or_export(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    data = await build_admin_data(sessions)
    await add_personal_free_text(sessions, data)
    async with sessions() as s:
        holders = [await s.get_one(Policyholder, i) for i in data.policyholders.values()]
    app = create_web_app(sessions, Settings(_env_file=None, secret_key="k" * 40))  # type: ignore[call-arg]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as admin:
        await sign_in(admin, "admin")
        # An admin looks a customer up by name: the audit log keeps the search.
        assert (await admin.get("/admin/", params={"q": "이영숙"})).status_code == 200
        admin_view = await admin.get(f"/admin/requests/{data.requests['R-20261126-0006']}")
        assert PLACE in html.unescape(admin_view.text)  # admins still see what they need
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as auditor:
        await sign_in(auditor, "auditor")
        pages = await crawl(
            auditor,
            [
                "/admin/",
                "/admin/requests",
                "/admin/reports/weekly?week=2026-W48",
                "/admin/reports/weekly.csv?week=2026-W48",
                "/admin/export/contacts.csv",
                "/admin/audit",
            ],
        )
    # The crawl reached every policyholder's transcript and every request.
    for holder_id in data.policyholders.values():
        assert f"/admin/conversations/{holder_id}" in pages
    for request_id in [*data.requests.values()]:
        assert f"/admin/requests/{request_id}" in pages
    assert "서비스 희망" in pages["/admin/reports/weekly?week=2026-W48"]
    secrets = personal_data(holders)
    phones = [h.phone for h in holders] + ["01022223333", "6204172123456"]
    leaks = [
        (url, secret) for url, body in pages.items() for secret in secrets if secret in body
    ] + [
        (url, phone)
        for url, body in pages.items()
        for phone in phones
        if any(phone[1:] in number for number in readable_numbers(body))
    ]
    assert not leaks, leaks
    # Masked, not dropped: the auditor still reads what happened.
    transcript = pages[f"/admin/conversations/{data.policyholders['이영숙']}"]
    assert "이*숙님, 이사 예약을 접수했어요. 장소: 서울 마포구 ***" in transcript
    assert "이*숙" in pages["/admin/export/contacts.csv"]
