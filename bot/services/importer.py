"""Import employees and policyholders from CSV: validate every row, then write all or nothing.

The formats are documented in ``docs/import.md``. Errors are Korean, one per problem, with the
CSV line number, so the person who exported the file can fix it and try again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.db.models import Department, Employee, Policyholder
from bot.geo.geocode import LEVEL_RANK, Level, Place, geocode
from bot.services.csv_rows import CsvLayout, CsvRow, RowError, parse_day, read_rows, row_errors
from bot.services.phones import format_phone, normalize_phone

# Column → Korean label used in messages. Required columns first.
EMPLOYEE_REQUIRED = ("employee_no", "name", "title", "department", "home_area")
EMPLOYEE_OPTIONAL = (
    "home_address",
    "home_lat",
    "home_lon",
    "phone",
    "telegram_chat_id",
    "deputy_employee_no",
    "is_head",
)
POLICYHOLDER_REQUIRED = ("phone", "name", "birth_date", "address", "area")
POLICYHOLDER_OPTIONAL = ("employee_no", "lat", "lon")

LABELS = {
    "employee_no": "사번",
    "name": "이름",
    "title": "직급",
    "department": "부서",
    "home_area": "거주 지역",
    "home_address": "집 주소",
    "home_lat": "위도",
    "home_lon": "경도",
    "lat": "위도",
    "lon": "경도",
    "phone": "전화번호",
    "telegram_chat_id": "텔레그램 채팅 ID",
    "deputy_employee_no": "대리인 사번",
    "is_head": "부서장 여부",
    "birth_date": "생년월일",
    "address": "주소",
    "area": "지역",
}
MAX_LENGTHS = {
    "employee_no": 20,
    "name": 50,
    "title": 30,
    "department": 100,
    "home_area": 100,
    "home_address": 200,
    "address": 200,
    "area": 100,
}

_MOBILE = re.compile(r"^01[016789]\d{7,8}$")
_EMPLOYEE_NO = re.compile(r"^[A-Za-z0-9-]{1,20}$")
_TRUE = {"y", "yes", "true", "1", "예", "o"}
_FALSE = {"n", "no", "false", "0", "아니오", "x", ""}
_LOOKUP_CHUNK = 1000
_EMPLOYEE_LAYOUT = CsvLayout(EMPLOYEE_REQUIRED, EMPLOYEE_OPTIONAL, LABELS, MAX_LENGTHS)
_POLICYHOLDER_LAYOUT = CsvLayout(POLICYHOLDER_REQUIRED, POLICYHOLDER_OPTIONAL, LABELS, MAX_LENGTHS)
_EMPLOYEES: Table = Employee.__table__  # type: ignore[assignment]
_POLICYHOLDERS: Table = Policyholder.__table__  # type: ignore[assignment]


@dataclass(slots=True)
class ImportResult:
    """Outcome of one import; when ``errors`` is non-empty nothing was written."""

    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message is Korean."""


def decode_csv(data: bytes) -> str:
    """UTF-8 text of a CSV file, with or without BOM."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            "파일을 UTF-8로 읽을 수 없습니다. 엑셀에서는 'CSV UTF-8(쉼표로 분리)'로 저장해 주세요."
        ) from exc


# --- field parsing ---------------------------------------------------------------------


def _phone(row: CsvRow, column: str) -> str | None:
    raw = row.values.get(column, "")
    if not raw:
        return None
    digits = normalize_phone(raw)
    if not _MOBILE.match(digits):
        row.fail(f"{LABELS[column]} 형식이 올바르지 않습니다: '{raw}' (예: 010-1234-5678)")
        return None
    return digits


def _date(row: CsvRow, column: str) -> date | None:
    raw = row.values.get(column, "")
    parsed = parse_day(raw)
    if parsed is None:
        row.fail(f"{LABELS[column]} 형식이 올바르지 않습니다: '{raw}' (예: 1962-04-17)")
        return None
    if not date(1900, 1, 1) <= parsed <= clock.today():
        row.fail(f"{LABELS[column]}이(가) 올바른 범위가 아닙니다: '{raw}'")
        return None
    return parsed


def _coordinates(
    row: CsvRow, lat_column: str, lon_column: str
) -> tuple[float | None, float | None]:
    raw_lat, raw_lon = row.values.get(lat_column, ""), row.values.get(lon_column, "")
    if not raw_lat and not raw_lon:
        return None, None
    if not raw_lat or not raw_lon:
        row.fail("위도와 경도는 함께 입력해 주세요.")
        return None, None
    try:
        lat, lon = float(raw_lat), float(raw_lon)
    except ValueError:
        row.fail(f"위도·경도는 숫자여야 합니다: '{raw_lat}', '{raw_lon}'")
        return None, None
    if not (33.0 <= lat <= 39.0 and 124.0 <= lon <= 132.0):
        row.fail(f"위도·경도가 대한민국 범위를 벗어납니다: {lat}, {lon}")
        return None, None
    return lat, lon


def _place(row: CsvRow, *texts: str) -> Place | None:
    """The finest place the first of ``texts`` that names one gives; an error when none does.

    A 시도 alone is not a place to visit from: it counts as no match (the row is reported).
    """
    found = None
    for text in texts:
        place = geocode(text) if text else None
        if place is not None and (
            found is None or LEVEL_RANK[place.level] < LEVEL_RANK[found.level]
        ):
            found = place
    if found is None or found.level == Level.SIDO:
        shown = next((t for t in texts if t), "")
        row.fail(
            f"주소의 위치를 찾을 수 없습니다: '{shown}' "
            "(시·군·구와 읍·면·동을 확인하거나 위도·경도를 함께 적어 주세요)"
        )
        return None
    return found


def _int(row: CsvRow, column: str) -> int | None:
    raw = row.values.get(column, "")
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        row.fail(f"{LABELS[column]}은(는) 정수여야 합니다: '{raw}'")
        return None


def _flag(row: CsvRow, column: str) -> bool | None:
    raw = row.values.get(column, "")
    if not raw:
        return None
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    row.fail(f"{LABELS[column]}은(는) Y 또는 N으로 적어 주세요: '{raw}'")
    return None


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), _LOOKUP_CHUNK):
        yield values[start : start + _LOOKUP_CHUNK]


# --- employees ---------------------------------------------------------------------------


@dataclass(slots=True)
class _EmployeeRow:
    row: CsvRow
    employee_no: str
    fields: dict[str, Any]  # columns to write; optional ones only when given
    is_head: bool | None
    deputy_no: str | None
    area_place: dict[str, Any]  # coordinates of home_area, used when nothing better is known


def _parse_employee(row: CsvRow) -> _EmployeeRow:
    v = row.values
    employee_no = v["employee_no"]
    if employee_no and not _EMPLOYEE_NO.match(employee_no):
        row.fail(f"사번은 영문·숫자·하이픈 20자 이내여야 합니다: '{employee_no}'")
    fields: dict[str, Any] = {
        "name": v["name"],
        "title": v["title"],
        "home_area": v["home_area"],
    }
    if v.get("home_address"):
        fields["home_address"] = v["home_address"]
    fallback: dict[str, Any] = {}
    lat, lon = _coordinates(row, "home_lat", "home_lon")
    if lat is not None:
        fields.update(home_lat=lat, home_lon=lon, home_geocode_level=str(Level.POINT))
    elif not row.errors:
        place = _place(row, v.get("home_address", ""), v["home_area"])
        if place is not None:
            located = {
                "home_lat": place.lat,
                "home_lon": place.lon,
                "home_geocode_level": str(place.level),
            }
            # An address locates the home; the area alone only does for a new employee or one
            # whose area changed (never over coordinates someone entered).
            if v.get("home_address"):
                fields.update(located)
            else:
                fallback = located
    phone = _phone(row, "phone")
    if phone:
        fields["phone"] = phone
    chat_id = _int(row, "telegram_chat_id")
    if chat_id is not None:
        fields["telegram_chat_id"] = chat_id
    is_head = _flag(row, "is_head")
    deputy_no = v.get("deputy_employee_no") or None
    if deputy_no and deputy_no == employee_no:
        row.fail("자기 자신을 대리인으로 지정할 수 없습니다.")
    return _EmployeeRow(row, employee_no, fields, is_head, deputy_no, fallback)


async def import_employees(
    session: AsyncSession, *, text: str, create_departments: bool = False
) -> ImportResult:
    """Validate and upsert employees keyed by ``employee_no``; write nothing if any row is bad.

    Empty optional cells keep the stored value of an existing employee. Departments must
    exist unless ``create_departments``. The caller commits.
    """
    rows, problems = read_rows(text, _EMPLOYEE_LAYOUT, CsvRow)
    if problems:
        return ImportResult(errors=problems)
    parsed = [_parse_employee(r) for r in rows]

    departments = {n: i for n, i in await session.execute(select(Department.name, Department.id))}
    existing = {
        e.employee_no: e
        for e in await session.scalars(select(Employee).where(Employee.employee_no.is_not(None)))
    }
    chat_owner = {
        e.telegram_chat_id: e.employee_no
        for e in existing.values()
        if e.telegram_chat_id is not None
    }
    in_file: dict[str, int] = {}
    chats_in_file: dict[int, int] = {}
    for p in parsed:
        _check_employee_refs(
            p,
            departments=departments,
            create_departments=create_departments,
            existing=existing,
            chat_owner=chat_owner,
            in_file=in_file,
            chats_in_file=chats_in_file,
        )
    file_nos = {p.employee_no for p in parsed}
    for p in parsed:
        if p.deputy_no and p.deputy_no not in file_nos and p.deputy_no not in existing:
            p.row.fail(f"대리인 사번 '{p.deputy_no}'인 직원을 찾을 수 없습니다.")
    _check_heads(parsed, existing, departments)
    errors = row_errors(rows)
    if errors:
        return ImportResult(errors=errors)
    return await _write_employees(session, parsed, existing, departments)


def _check_employee_refs(
    p: _EmployeeRow,
    *,
    departments: dict[str, int],
    create_departments: bool,
    existing: dict[str | None, Employee],
    chat_owner: dict[int, str | None],
    in_file: dict[str, int],
    chats_in_file: dict[int, int],
) -> None:
    dept = p.row.values["department"]
    if dept and dept not in departments and not create_departments:
        p.row.fail(
            f"알 수 없는 부서입니다: '{dept}' "
            "(새 부서를 만들려면 --create-departments 옵션을 쓰세요)"
        )
    if p.employee_no in in_file:
        p.row.fail(f"사번 '{p.employee_no}'이(가) {in_file[p.employee_no]}행과 중복됩니다.")
    elif p.employee_no:
        in_file[p.employee_no] = p.row.line
    chat_id = p.fields.get("telegram_chat_id")
    if chat_id is not None:
        if chat_id in chats_in_file:
            p.row.fail(f"텔레그램 채팅 ID {chat_id}이(가) {chats_in_file[chat_id]}행과 중복됩니다.")
        else:
            chats_in_file[chat_id] = p.row.line
        owner = chat_owner.get(chat_id)
        if owner is not None and owner != p.employee_no:
            p.row.fail(f"텔레그램 채팅 ID {chat_id}은(는) 이미 다른 직원({owner})이 쓰고 있습니다.")


def _check_heads(
    parsed: list[_EmployeeRow], existing: dict[str | None, Employee], departments: dict[str, int]
) -> None:
    """At most one head per department once the file is applied."""
    dept_name = {i: n for n, i in departments.items()}
    in_file = {p.employee_no for p in parsed}
    heads: dict[str, str] = {
        dept_name[e.department_id]: f"{e.employee_no} {e.name}"
        for no, e in existing.items()
        if e.is_head and no not in in_file and e.department_id in dept_name
    }
    for p in parsed:
        stored = existing.get(p.employee_no)
        is_head = p.is_head if p.is_head is not None else bool(stored and stored.is_head)
        if not is_head:
            continue
        dept = p.row.values["department"]
        if dept in heads:
            p.row.fail(f"'{dept}'에는 이미 부서장({heads[dept]})이 있습니다.")
        else:
            heads[dept] = f"{p.employee_no} {p.fields['name']}"


async def _write_employees(
    session: AsyncSession,
    parsed: list[_EmployeeRow],
    existing: dict[str | None, Employee],
    departments: dict[str, int],
) -> ImportResult:
    connection = await session.connection()
    new_departments = sorted({p.row.values["department"] for p in parsed} - departments.keys())
    if new_departments:
        await connection.execute(insert(Department), [{"name": n} for n in new_departments])
        departments = {
            n: i for n, i in await connection.execute(select(Department.name, Department.id))
        }
    inserts, updates = [], []
    for p in parsed:
        values = {**p.fields, "department_id": departments[p.row.values["department"]]}
        if p.is_head is not None:
            values["is_head"] = p.is_head
        stored = existing.get(p.employee_no)
        if p.area_place and (
            stored is None or stored.home_lat is None or stored.home_area != values["home_area"]
        ):
            values.update(p.area_place)
        if stored is None:
            inserts.append({"employee_no": p.employee_no, "is_head": False, **values})
        else:
            updates.append((stored.id, values))
    if inserts:
        await connection.execute(insert(_EMPLOYEES), _uniform(inserts))
    for employee_id, values in updates:
        await connection.execute(
            update(_EMPLOYEES).where(_EMPLOYEES.c.id == employee_id).values(values)
        )
    ids = {
        no: i
        for no, i in await connection.execute(
            select(Employee.employee_no, Employee.id).where(Employee.employee_no.is_not(None))
        )
    }
    deputies = [
        {"b_id": ids[p.employee_no], "b_deputy": ids[p.deputy_no]} for p in parsed if p.deputy_no
    ]
    if deputies:
        table = _EMPLOYEES
        await connection.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(deputy_id=bindparam("b_deputy")),
            deputies,
        )
    return ImportResult(created=len(inserts), updated=len(updates))


def _uniform(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give every row the same keys (None where missing) so executemany can batch them."""
    keys = {k for r in rows for k in r}
    return [{k: r.get(k) for k in keys} for r in rows]


# --- policyholders -------------------------------------------------------------------------


@dataclass(slots=True)
class _HolderRow:
    row: CsvRow
    phone: str | None
    values: dict[str, Any]


def _parse_holder(row: CsvRow) -> _HolderRow:
    v = row.values
    phone = _phone(row, "phone") if v["phone"] else None
    birth = _date(row, "birth_date") if v["birth_date"] else None
    lat, lon = _coordinates(row, "lat", "lon")
    values: dict[str, Any] = {
        "name": v["name"],
        "birth_date": birth,
        "address": v["address"],
        "area": v["area"],
    }
    if lat is not None:
        values.update(lat=lat, lon=lon, geocode_level=str(Level.POINT))
    elif v["address"] and not row.errors:
        # People often leave the 시도 or 시군구 out of the address when the area column has it.
        place = _place(row, v["address"], f"{v['area']} {v['address']}")
        if place is not None:
            values.update(lat=place.lat, lon=place.lon, geocode_level=str(place.level))
    return _HolderRow(row, phone, values)


async def import_policyholders(session: AsyncSession, *, text: str) -> ImportResult:
    """Validate and upsert policyholders keyed by phone; write nothing if any row is bad.

    A phone already stored for someone with a different birth date is an error (a different
    person), not an update. The caller commits.
    """
    rows, problems = read_rows(text, _POLICYHOLDER_LAYOUT, CsvRow)
    if problems:
        return ImportResult(errors=problems)
    parsed = [_parse_holder(r) for r in rows]
    employee_ids = {
        no: i
        for no, i in await session.execute(
            select(Employee.employee_no, Employee.id).where(Employee.employee_no.is_not(None))
        )
    }
    stored = await _stored_holders(session, [p.phone for p in parsed if p.phone])
    await _keep_entered_coordinates(session, parsed, stored)
    seen: dict[str, int] = {}
    for p in parsed:
        employee_no = p.row.values.get("employee_no", "")
        if employee_no:
            if employee_no in employee_ids:
                p.values["employee_id"] = employee_ids[employee_no]
            else:
                p.row.fail(f"담당 직원 사번 '{employee_no}'인 직원을 찾을 수 없습니다.")
        if not p.phone:
            continue
        if p.phone in seen:
            p.row.fail(f"전화번호 {format_phone(p.phone)}이(가) {seen[p.phone]}행과 중복됩니다.")
            continue
        seen[p.phone] = p.row.line
        matches = stored.get(p.phone, [])
        if len(matches) > 1:
            p.row.fail(
                f"전화번호 {format_phone(p.phone)}인 계약자가 이미 여러 명 저장되어 있습니다."
            )
        elif matches and p.values["birth_date"] and matches[0][1] != p.values["birth_date"]:
            p.row.fail(
                f"전화번호 {format_phone(p.phone)}은(는) 생년월일이 다른 계약자에게 이미 "
                "등록되어 있습니다."
            )
    errors = row_errors(rows)
    if errors:
        return ImportResult(errors=errors)
    connection = await session.connection()
    table = _POLICYHOLDERS
    inserts = [{"phone": p.phone, **p.values} for p in parsed if p.phone not in stored]
    updates = [(stored[p.phone][0][0], p.values) for p in parsed if p.phone in stored]
    if inserts:
        await connection.execute(insert(table), _uniform(inserts))
    for holder_id, values in updates:
        await connection.execute(update(table).where(table.c.id == holder_id).values(values))
    return ImportResult(created=len(inserts), updated=len(updates))


async def _keep_entered_coordinates(
    session: AsyncSession, parsed: list[_HolderRow], stored: dict[str, list[tuple[int, date]]]
) -> None:
    """Coordinates entered for a policyholder stay while the file gives the same address and none.

    A geocoded 동 centre is coarser than a point someone typed in; a new address moves them.
    """
    ids = {
        stored[p.phone][0][0]: p
        for p in parsed
        if p.phone in stored and p.values.get("geocode_level") not in (None, Level.POINT)
    }
    for chunk in _chunks(sorted(ids)):
        rows = await session.execute(
            select(Policyholder.id, Policyholder.address, Policyholder.geocode_level).where(
                Policyholder.id.in_(chunk), Policyholder.lat.is_not(None)
            )
        )
        for holder_id, address, level in rows:
            p = ids[holder_id]
            if address == p.values["address"] and level in (None, Level.POINT):
                for key in ("lat", "lon", "geocode_level"):
                    p.values.pop(key, None)


async def _stored_holders(
    session: AsyncSession, phones: list[str]
) -> dict[str, list[tuple[int, date]]]:
    found: dict[str, list[tuple[int, date]]] = {}
    for chunk in _chunks(sorted(set(phones))):
        result = await session.execute(
            select(Policyholder.phone, Policyholder.id, Policyholder.birth_date).where(
                Policyholder.phone.in_(chunk)
            )
        )
        for phone, holder_id, birth in result:
            found.setdefault(phone, []).append((holder_id, birth))
    return found
