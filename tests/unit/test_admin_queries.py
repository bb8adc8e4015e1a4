"""Conversation list, Korean search, scope and review queries, on SQLite and PostgreSQL."""

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import QueryParams

from bot.admin import conversations
from bot.admin.conversations import list_conversations
from bot.admin.filters import ContactFilter, contact_conditions
from bot.admin.principal import Principal
from bot.admin.review import label_contact, nlu_yaml, review_page
from bot.db.models import Contact
from tests.auxil.admin_data import AdminData, build_admin_data

ADMIN = Principal(id=1, username="admin", role="admin", department_id=None)


async def _names(
    sessions: async_sessionmaker[AsyncSession],
    query: str,
    principal: Principal = ADMIN,
    page: int = 1,
) -> list[str]:
    async with sessions() as session:
        flt = ContactFilter.from_query(QueryParams(query))
        conditions = await contact_conditions(session, flt, principal)
        result = await list_conversations(session, conditions, page=page)
    return [row.name for row in result.rows]


@pytest.fixture
async def data(sessions: async_sessionmaker[AsyncSession]) -> AdminData:
    return await build_admin_data(sessions)


async def test_list_is_newest_thread_first(
    sessions: async_sessionmaker[AsyncSession], data: AdminData
) -> None:
    # Latest rows: 오미나 27 Nov 18:00, 윤서준 27 Nov 15:00, 한철수 25 Nov 19:00, 이영숙 24 Nov.
    assert await _names(sessions, "") == ["오미나", "윤서준", "한철수", "이영숙"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=약관대출", {"이영숙", "윤서준"}),  # inside 약관대출받고싶어요 and mid-sentence
        ("q=약관대출받고", {"이영숙"}),
        ("q=지급", {"한철수"}),  # two characters: LIKE, not the trigram index
        ("q=보험금 늦어요", {"한철수"}),  # every term must occur
        ("q=<script>", {"한철수"}),
        ("q=100%", set()),  # LIKE wildcards are literal
        ('q=("http', {"오미나"}),  # FTS5 syntax characters are searched for, not parsed
        ("q=없는말", set()),
        ("intent=complaint", {"한철수", "윤서준"}),
        ("low=1", {"한철수", "오미나"}),
        ("kind=suggestion&status=new", {"오미나"}),
        ("date_from=2026-11-27&date_to=2026-11-27", {"오미나", "윤서준"}),
    ],
)
async def test_filters_and_search(
    sessions: async_sessionmaker[AsyncSession], data: AdminData, query: str, expected: set[str]
) -> None:
    assert set(await _names(sessions, query)) == expected


async def test_department_and_employee_filters(
    sessions: async_sessionmaker[AsyncSession], data: AdminData
) -> None:
    support = data.departments["영업지원부"]
    assert await _names(sessions, f"department={support}") == ["윤서준"]
    assert set(await _names(sessions, f"employee={data.employees['김영환']}")) == {
        "이영숙",
        "한철수",
    }


async def test_head_is_confined_to_own_department(
    sessions: async_sessionmaker[AsyncSession], data: AdminData
) -> None:
    head = Principal(2, "h", "head", data.departments["영업지원부"])
    planning = data.departments["기획부"]
    assert await _names(sessions, "", head) == ["윤서준"]
    assert await _names(sessions, f"department={planning}", head) == []
    assert await _names(sessions, "q=약관대출", head) == ["윤서준"]
    headless = Principal(3, "x", "head", None)
    assert await _names(sessions, "", headless) == []


async def test_paging_and_the_grouped_fallback_agree(
    sessions: async_sessionmaker[AsyncSession],
    data: AdminData,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(conversations, "PER_PAGE", 3)
    first, second = await _names(sessions, ""), await _names(sessions, "", page=2)
    assert first + second == ["오미나", "윤서준", "한철수", "이영숙"]
    monkeypatch.setattr(conversations, "_FIRST_BATCH", 1)
    monkeypatch.setattr(conversations, "_WALK_LIMIT", 1)  # force the GROUP BY path
    assert await _names(sessions, "") + await _names(sessions, "", page=2) == first + second


async def test_review_labels_export_as_rasa_nlu(
    sessions: async_sessionmaker[AsyncSession], data: AdminData
) -> None:
    async with sessions() as session:
        waiting, _ = await review_page(session, labelled=False, page=1)
        assert {item.contact.id for item in waiting} == {
            data.contacts["script"],
            data.contacts["unsure"],
        }
        await label_contact(session, contact_id=data.contacts["unsure"], intent="suggest_service")
        with pytest.raises(ValueError, match="nlu_fallback"):
            await label_contact(session, contact_id=data.contacts["script"], intent="nlu_fallback")
        assert (
            await label_contact(session, contact_id=data.contacts["hello"], intent="greet") is None
        )
        await session.commit()
    async with sessions() as session:
        contact = await session.get(Contact, data.contacts["unsure"])
        assert contact is not None and contact.labelled_intent == "suggest_service"
        assert await nlu_yaml(session) == (
            'version: "3.1"\n'
            "nlu:\n"
            "- intent: suggest_service\n"
            "  examples: |\n"
            "    - 책 싸게 사는 방법 있나요\n"
        )
