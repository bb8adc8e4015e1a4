"""CSV import: happy paths, every rejection reason with its line number, all-or-nothing writes."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import main
from bot.config import get_settings
from bot.db import create_engine_and_sessions
from bot.db.migrate import upgrade
from bot.db.models import Department, Employee, Policyholder
from bot.services.importer import (
    ImportFileError,
    ImportResult,
    decode_csv,
    import_employees,
    import_policyholders,
)

DATA = Path(__file__).resolve().parent.parent / "data"
EMPLOYEE_HEADER = (
    "employee_no,name,title,department,home_area,home_lat,home_lon,phone,"
    "telegram_chat_id,deputy_employee_no,is_head\n"
)
HOLDER_HEADER = "phone,name,birth_date,address,area,employee_no,lat,lon\n"


def _text(name: str) -> str:
    return decode_csv((DATA / name).read_bytes())


async def _count(sessions: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _import_employees(
    sessions: async_sessionmaker[AsyncSession], text: str, *, create_departments: bool = True
) -> ImportResult:
    async with sessions() as session:
        result = await import_employees(session, text=text, create_departments=create_departments)
        if result.ok:
            await session.commit()
        return result


async def _import_holders(sessions: async_sessionmaker[AsyncSession], text: str) -> ImportResult:
    async with sessions() as session:
        result = await import_policyholders(session, text=text)
        if result.ok:
            await session.commit()
        return result


def _lines(result: ImportResult) -> list[tuple[int, str]]:
    return [(e.line, e.message) for e in result.errors]


async def test_employees_happy_path(sessions: async_sessionmaker[AsyncSession]) -> None:
    result = await _import_employees(sessions, _text("employees.csv"))

    assert (result.created, result.updated, result.errors) == (5, 0, [])
    async with sessions() as session:
        by_no = {e.employee_no: e for e in await session.scalars(select(Employee))}
        departments = {d.id: d.name for d in await session.scalars(select(Department))}
    park = by_no["K1001"]
    assert (park.name, park.title, departments[park.department_id]) == (
        "박정호",
        "총무부장",
        "총무부",
    )
    assert park.is_head and park.telegram_chat_id == 700001 and park.phone == "01048213301"
    assert park.deputy_id == by_no["K1002"].id
    assert by_no["K1003"].phone == "01048213303" and not by_no["K1003"].is_head
    assert by_no["K1004"].deputy_id == by_no["K1005"].id
    # No coordinates: the home area's centre (인천 연수구), and how precise that is.
    yoon = by_no["K1004"]
    assert yoon.home_geocode_level == "sigungu" and yoon.home_lat and yoon.home_lon
    assert abs(yoon.home_lat - 37.41) < 0.03 and abs(yoon.home_lon - 126.68) < 0.05
    assert park.home_lat == 37.5070 and park.home_geocode_level == "point"
    assert by_no["K1005"].is_head  # "예" is yes
    assert sorted(departments.values()) == ["재무부", "총무부"]


async def test_employees_upsert_by_employee_no_keeps_unset_optionals(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _import_employees(sessions, _text("employees.csv"))
    text = EMPLOYEE_HEADER + "K1001,박정호,상무,총무부,인천 부평구,,,,,,\n"

    result = await _import_employees(sessions, text)

    assert (result.created, result.updated, result.errors) == (0, 1, [])
    async with sessions() as session:
        park = await session.scalar(select(Employee).where(Employee.employee_no == "K1001"))
    assert park is not None
    assert park.title == "상무"
    # Empty optional cells leave what is stored: the Telegram link and head flag survive.
    assert park.telegram_chat_id == 700001 and park.is_head and park.home_lat == 37.5070
    assert await _count(sessions, Employee) == 5


async def test_employees_unknown_department_needs_the_option(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    result = await _import_employees(sessions, _text("employees.csv"), create_departments=False)

    assert {line for line, _ in _lines(result)} == {2, 3, 4, 5, 6}
    assert "알 수 없는 부서입니다: '총무부'" in result.errors[0].message
    assert await _count(sessions, Employee) == 0
    assert await _count(sessions, Department) == 0


async def test_employees_every_rejection_reason_with_line_numbers(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _import_employees(sessions, _text("employees.csv"))
    text = EMPLOYEE_HEADER + (
        "E1,김철수,사원,총무부,인천 남동구,,,010-12-34,,,\n"  # 2 bad phone
        "E2,,사원,총무부,인천 남동구,,,,,,\n"  # 3 no name
        "E3,이민지,사원,총무부,인천 남동구,37.4,,,,,\n"  # 4 latitude without longitude
        "E4,박상민,사원,총무부,인천 남동구,51.5,-0.1,,,,\n"  # 5 outside Korea
        "E5,정은주,사원,총무부,인천 남동구,,,,abc,,\n"  # 6 chat id not a number
        "E6,강윤희,사원,총무부,인천 남동구,,,,700001,,\n"  # 7 chat id of K1001
        "E7,조현우,사원,총무부,인천 남동구,,,,,E99,\n"  # 8 unknown deputy
        "E8,윤세훈,사원,총무부,인천 남동구,,,,,E8,\n"  # 9 own deputy
        "E9,장미경,사원,총무부,인천 남동구,,,,,,maybe\n"  # 10 bad flag
        "E1,김철수,사원,총무부,인천 남동구,,,,,,\n"  # 11 duplicate of line 2
        "E10,임정훈,부장,총무부,인천 남동구,,,,,,Y\n"  # 12 second head of 총무부
        "E 11,한소영,사원,총무부,인천 남동구,,,,,,\n"  # 13 bad employee_no
        "E12,오지은,사원,없는부,인천 남동구,,,,,,\n"  # 14 unknown department
        "E13,서민호,사원,총무부,인천 남동구,,,,,,,extra\n"  # 15 too many values
    )

    result = await _import_employees(sessions, text, create_departments=False)

    expected = [
        (2, "전화번호 형식이 올바르지 않습니다"),
        (3, "이름이(가) 비어 있습니다"),
        (4, "위도와 경도는 함께 입력해 주세요"),
        (5, "대한민국 범위를 벗어납니다"),
        (6, "텔레그램 채팅 ID은(는) 정수여야 합니다"),
        (7, "이미 다른 직원(K1001)이 쓰고 있습니다"),
        (8, "대리인 사번 'E99'인 직원을 찾을 수 없습니다"),
        (9, "자기 자신을 대리인으로 지정할 수 없습니다"),
        (10, "부서장 여부은(는) Y 또는 N으로 적어 주세요"),
        (11, "사번 'E1'이(가) 2행과 중복됩니다"),
        (12, "'총무부'에는 이미 부서장(K1001 박정호)이 있습니다"),
        (13, "사번은 영문·숫자·하이픈 20자 이내여야 합니다"),
        (14, "알 수 없는 부서입니다: '없는부'"),
        (15, "머리글보다 값이 많습니다"),
    ]
    got = _lines(result)
    assert [line for line, _ in got] == [line for line, _ in expected]
    for (line, message), (_, fragment) in zip(got, expected, strict=True):
        assert fragment in message, (line, message)
    assert str(result.errors[0]).startswith("2행: ")
    assert await _count(sessions, Employee) == 5  # nothing from the bad file


async def test_header_problems_are_reported_on_line_one(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    missing = await _import_employees(sessions, "employee_no,name,title\nE1,김철수,사원\n")
    unknown = await _import_holders(sessions, HOLDER_HEADER.strip() + ",email\n")
    empty = await _import_holders(sessions, "")
    no_rows = await _import_holders(sessions, HOLDER_HEADER)

    assert _lines(missing) == [(1, "필수 열이 없습니다: department, home_area")]
    assert _lines(unknown) == [(1, "알 수 없는 열입니다: email")]
    assert _lines(empty) == [(1, "파일이 비어 있거나 머리글 행이 없습니다.")]
    assert _lines(no_rows) == [(1, "데이터 행이 없습니다.")]


def test_decode_accepts_bom_and_rejects_other_encodings() -> None:
    assert decode_csv("\ufeffphone\n".encode()) == "phone\n"
    assert decode_csv(b"phone\n") == "phone\n"
    with pytest.raises(ImportFileError, match="UTF-8"):
        decode_csv("이름\n".encode("cp949"))


async def test_policyholders_happy_path_with_bom(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _import_employees(sessions, _text("employees.csv"))

    result = await _import_holders(sessions, _text("policyholders.csv"))

    assert (result.created, result.updated, result.errors) == (3, 0, [])
    async with sessions() as session:
        holders = {h.phone: h for h in await session.scalars(select(Policyholder))}
        employees = {e.id: e.employee_no for e in await session.scalars(select(Employee))}
    assert set(holders) == {"01070010001", "01070010002", "01070010003"}
    moon = holders["01070010002"]  # "+82 10-…" normalised
    assert moon.birth_date == date(1970, 6, 30)
    assert moon.address == "인천 계양구 작전동 123-4, 태양빌라 201호"
    # No coordinates in the file: the address is geocoded to 작전동 (작전1동·작전2동 centres).
    assert moon.geocode_level == "dong" and moon.lat and moon.lon
    assert abs(moon.lat - 37.530) < 0.01 and abs(moon.lon - 126.726) < 0.01
    assert holders["01070010001"].geocode_level == "point"
    assert employees[moon.employee_id] == "K1002"
    assert holders["01070010003"].birth_date == date(1985, 12, 1)


async def test_policyholders_upsert_by_phone(sessions: async_sessionmaker[AsyncSession]) -> None:
    await _import_employees(sessions, _text("employees.csv"))
    await _import_holders(sessions, _text("policyholders.csv"))
    text = HOLDER_HEADER + (
        "010-7001-0001,오순자,1958-02-11,인천 부평구 부평동 1-1,인천 부평구,K1005,,\n"
        "010-7001-0009,신규철,1980-03-03,인천 서구 청라동,인천 서구,K1005,,\n"
    )

    result = await _import_holders(sessions, text)

    assert (result.created, result.updated, result.errors) == (1, 1, [])
    async with sessions() as session:
        oh = await session.scalar(select(Policyholder).where(Policyholder.phone == "01070010001"))
        k1005 = await session.scalar(select(Employee.id).where(Employee.employee_no == "K1005"))
    assert oh is not None and oh.address == "인천 부평구 부평동 1-1" and oh.employee_id == k1005
    # She moved: the new address places her (부평동), the old coordinates would be wrong.
    assert oh.geocode_level == "dong" and oh.lat != 37.5030
    assert await _count(sessions, Policyholder) == 4

    # The same address without coordinates keeps the ones entered before.
    same = HOLDER_HEADER + (
        "01070010003,배미란,1985.12.01,경기 부천시 중동 푸르지오 101동 1502호,경기 부천시,,,\n"
    )
    assert (await _import_holders(sessions, same)).ok
    async with sessions() as session:
        bae = await session.scalar(select(Policyholder).where(Policyholder.phone == "01070010003"))
    assert bae is not None and (bae.lat, bae.geocode_level) == (37.5030, "point")
    assert bae.employee_id is not None  # an empty employee_no keeps the employee


async def test_policyholders_every_rejection_reason_with_line_numbers(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _import_employees(sessions, _text("employees.csv"))

    result = await _import_holders(sessions, _text("policyholders_bad.csv"))

    expected = [
        (3, "전화번호 형식이 올바르지 않습니다: '010-123'"),
        (4, "생년월일 형식이 올바르지 않습니다: '1985-13-01'"),
        (5, "이름이(가) 비어 있습니다"),
        (6, "담당 직원 사번 'Z9999'인 직원을 찾을 수 없습니다"),
        (7, "전화번호 010-7001-0001이(가) 2행과 중복됩니다"),
        (8, "위도와 경도는 함께 입력해 주세요"),
        (9, "주소의 위치를 찾을 수 없습니다: '어딘가 모르는 곳 12'"),
        (10, "주소의 위치를 찾을 수 없습니다: '경기도 어딘가로 5'"),  # a 시도 is no place
    ]
    got = _lines(result)
    assert [line for line, _ in got] == [line for line, _ in expected]
    for (line, message), (_, fragment) in zip(got, expected, strict=True):
        assert fragment in message, (line, message)
    assert await _count(sessions, Policyholder) == 0  # line 2 was fine, yet nothing is written


async def test_policyholder_phone_of_someone_else_is_rejected(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _import_employees(sessions, _text("employees.csv"))
    await _import_holders(sessions, _text("policyholders.csv"))
    text = HOLDER_HEADER + (
        "010-7001-0001,김다은,1999-09-09,인천 부평구 부평동 1-1,인천 부평구,K1001,,\n"
        "010-7001-0007,미래인,2999-01-01,인천 부평구 부평동 1-1,인천 부평구,K1001,,\n"
    )

    result = await _import_holders(sessions, text)

    assert [line for line, _ in _lines(result)] == [2, 3]
    assert "생년월일이 다른 계약자에게 이미 등록되어 있습니다" in result.errors[0].message
    assert "생년월일이(가) 올바른 범위가 아닙니다" in result.errors[1].message
    async with sessions() as session:
        names = set(await session.scalars(select(Policyholder.name)))
    assert names == {"오순자", "문경호", "배미란"}


def test_cli_import_exit_codes_and_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("MILCHAK_DATABASE_URL", url)
    get_settings.cache_clear()

    async def _migrate() -> None:
        engine, _ = create_engine_and_sessions(url)
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(_migrate())
    runner = CliRunner()
    try:
        ok = runner.invoke(
            main, ["import", "employees", str(DATA / "employees.csv"), "--create-departments"]
        )
        bad = runner.invoke(main, ["import", "policyholders", str(DATA / "policyholders_bad.csv")])
        good = runner.invoke(main, ["import", "policyholders", str(DATA / "policyholders.csv")])
    finally:
        get_settings.cache_clear()

    assert ok.exit_code == 0, ok.output
    assert "직원 5명을 추가하고 0명을 갱신했습니다." in ok.output
    assert bad.exit_code == 1
    assert "3행: 전화번호 형식이 올바르지 않습니다" in bad.output
    assert "오류 8건이 있어 파일의 어떤 행도 저장하지 않았습니다." in bad.output
    assert good.exit_code == 0 and "계약자 3명을 추가하고" in good.output
