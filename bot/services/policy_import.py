"""Import policy history (``milchak import policy-events``): validate every row, then write all
or nothing, like the employee and policyholder imports (see ``docs/import.md``).

One row is one status change of one policy. A row may also carry the policy's master data
(holder's phone, product, contract date, payment cycle, premium): required the first time a
policy number appears, optional (and then an update) afterwards. After the write every policy
the file touched gets its status, installments paid and next due day recomputed from its whole
history (:func:`bot.services.policy_history.state_on`), so the stored policy always agrees with
its events. Re-importing the same rows changes nothing: an event already stored for the same
policy, day and status is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.db.models import Policy, PolicyEvent, PolicyEventKind, Policyholder
from bot.services.csv_rows import CsvLayout, CsvRow, RowError, parse_day, read_rows, row_errors
from bot.services.phones import format_phone, normalize_phone
from bot.services.policy_history import (
    CYCLE_LABELS,
    EVENT_BY_LABEL,
    HistoryEvent,
    state_on,
)

REQUIRED = ("policy_number", "event", "date")
OPTIONAL = (
    "paid_through",
    "note",
    "policyholder_phone",
    "product",
    "contract_date",
    "payment_cycle",
    "premium",
)
MASTER = ("policyholder_phone", "product", "contract_date", "payment_cycle", "premium")
LABELS = {
    "policy_number": "증권번호",
    "event": "상태",
    "date": "일자",
    "paid_through": "납입 회차",
    "note": "메모",
    "policyholder_phone": "계약자 전화번호",
    "product": "상품명",
    "contract_date": "계약일",
    "payment_cycle": "납입 주기",
    "premium": "회차 보험료",
}
MAX_LENGTHS = {"policy_number": 30, "product": 50, "note": 500}
_CYCLE_BY_LABEL = {
    **{label: code for code, label in CYCLE_LABELS.items()},
    **{c: c for c in CYCLE_LABELS},
}
_KINDS = {**EVENT_BY_LABEL, **{str(k): str(k) for k in PolicyEventKind}}
_NEEDS_PAID = {PolicyEventKind.UNPAID, PolicyEventKind.LAPSED, PolicyEventKind.SURRENDERED}
_LAYOUT = CsvLayout(REQUIRED, OPTIONAL, LABELS, MAX_LENGTHS)
_POLICIES: Table = Policy.__table__  # type: ignore[assignment]


@dataclass(slots=True)
class PolicyEventsResult:
    """Outcome of one import; when ``errors`` is non-empty nothing was written."""

    events_added: int = 0
    events_skipped: int = 0  # already stored (same policy, day and status)
    policies_created: int = 0
    policies_recomputed: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(slots=True)
class _Row(CsvRow):
    """A CSV row and what parsing made of it."""

    kind: str = ""
    day: date | None = None
    paid: int | None = None
    master: dict[str, Any] = field(default_factory=dict)


def _date(row: _Row, column: str, today: date) -> date | None:
    raw = row.values.get(column, "")
    if not raw:
        return None
    parsed = parse_day(raw)
    if parsed is None:
        row.fail(f"{LABELS[column]} 형식이 올바르지 않습니다: '{raw}' (예: 2025-03-10)")
        return None
    if not date(1950, 1, 1) <= parsed <= today:
        row.fail(f"{LABELS[column]}이(가) 올바른 범위가 아닙니다: '{raw}' (미래 날짜는 안 됩니다)")
        return None
    return parsed


def _count(row: _Row, column: str, *, positive: bool = False) -> int | None:
    raw = row.values.get(column, "").replace(",", "")
    if not raw:
        return None
    if not raw.isdigit() or (positive and int(raw) == 0):
        kind = "1 이상의 정수" if positive else "0 이상의 정수"
        row.fail(f"{LABELS[column]}은(는) {kind}여야 합니다: '{row.values[column]}'")
        return None
    return int(raw)


def _parse(row: _Row, today: date) -> None:
    v = row.values
    kind = _KINDS.get(v["event"]) if v["event"] else None
    if v["event"] and kind is None:
        row.fail(
            f"알 수 없는 상태입니다: '{v['event']}' "
            "(정상, 미납, 실효, 부활, 해지, 완납, 만기 중 하나)"
        )
    row.kind = kind or ""
    row.day = _date(row, "date", today)
    row.paid = _count(row, "paid_through")
    if row.kind in _NEEDS_PAID and row.paid is None and v["event"]:
        row.fail(f"'{v['event']}' 행에는 납입 회차(paid_through)가 필요합니다.")
    if v.get("policyholder_phone"):
        row.master["phone"] = normalize_phone(v["policyholder_phone"])
    if v.get("product"):
        row.master["product"] = v["product"]
    contract = _date(row, "contract_date", today)
    if contract is not None:
        row.master["contract_date"] = contract
    if v.get("payment_cycle"):
        cycle = _CYCLE_BY_LABEL.get(v["payment_cycle"])
        if cycle is None:
            row.fail(
                f"알 수 없는 납입 주기입니다: '{v['payment_cycle']}' (월납, 3개월납, 6개월납, 연납, 일시납)"
            )
        else:
            row.master["payment_cycle"] = cycle
    premium = _count(row, "premium", positive=True)
    if premium is not None:
        row.master["premium"] = premium


async def import_policy_events(session: AsyncSession, *, text: str) -> PolicyEventsResult:
    """Validate and write policy events (and policies' master data); nothing if any row is bad.

    The caller commits.
    """
    rows, problems = read_rows(text, _LAYOUT, _Row)
    if problems:
        return PolicyEventsResult(errors=problems)
    today = clock.today()
    for row in rows:
        _parse(row, today)
    numbers = sorted({r.values["policy_number"] for r in rows if r.values["policy_number"]})
    stored = {
        p.number: p
        for chunk in range(0, len(numbers), 1000)
        for p in await session.scalars(
            select(Policy).where(Policy.number.in_(numbers[chunk : chunk + 1000]))
        )
    }
    phones = sorted({r.master["phone"] for r in rows if "phone" in r.master})
    holders: dict[str, list[int]] = {}
    for chunk in range(0, len(phones), 1000):
        for phone, holder_id in await session.execute(
            select(Policyholder.phone, Policyholder.id).where(
                Policyholder.phone.in_(phones[chunk : chunk + 1000])
            )
        ):
            holders.setdefault(phone, []).append(holder_id)
    masters = _check_masters(rows, stored, holders)
    _check_events(rows, stored, masters)
    errors = row_errors(rows)
    if errors:
        return PolicyEventsResult(errors=errors)
    return await _write(session, rows, stored, masters, today)


def _check_masters(
    rows: list[_Row], stored: dict[str, Policy], holders: dict[str, list[int]]
) -> dict[str, dict[str, Any]]:
    """The master data each policy number ends up with; errors on the rows that disagree."""
    masters: dict[str, dict[str, Any]] = {}
    first_line: dict[str, int] = {}
    for row in rows:
        number = row.values["policy_number"]
        if not number:
            continue
        known = masters.setdefault(number, {})
        for key, value in row.master.items():
            if key in known and known[key] != value:
                row.fail(
                    f"증권번호 {number}의 {LABELS[_column(key)]}이(가) "
                    f"{first_line[number]}행과 다릅니다."
                )
            known.setdefault(key, value)
        first_line.setdefault(number, row.line)
        phone = row.master.get("phone")
        if phone is not None:
            found = holders.get(phone, [])
            if not found:
                row.fail(
                    f"전화번호 {format_phone(phone)}인 계약자가 없습니다. 계약자를 먼저 가져오세요."
                )
            elif len(found) > 1:
                row.fail(f"전화번호 {format_phone(phone)}인 계약자가 여러 명입니다.")
            else:
                known["policyholder_id"] = found[0]
    for number, known in masters.items():
        if number in stored:
            continue
        missing = [
            LABELS[_column(k)]
            for k in ("phone", "product", "contract_date", "payment_cycle", "premium")
            if k not in known
        ]
        if missing:
            line = first_line[number]
            row = next(r for r in rows if r.line == line)
            row.fail(f"새 증권번호 {number}에는 {', '.join(missing)}이(가) 필요합니다.")
    return masters


def _column(key: str) -> str:
    return "policyholder_phone" if key == "phone" else key


def _check_events(
    rows: list[_Row], stored: dict[str, Policy], masters: dict[str, dict[str, Any]]
) -> None:
    seen: dict[tuple[str, date, str], int] = {}
    for row in rows:
        number = row.values["policy_number"]
        if not number or row.day is None or not row.kind:
            continue
        key = (number, row.day, row.kind)
        if key in seen:
            row.fail(f"같은 계약·일자·상태의 행이 {seen[key]}행에도 있습니다.")
        seen.setdefault(key, row.line)
        contract = masters.get(number, {}).get("contract_date")
        if contract is None and number in stored:
            contract = stored[number].contract_date
        if contract is not None and row.day < contract:
            row.fail(f"일자 {row.day}이(가) 계약일 {contract}보다 빠릅니다.")


async def _write(
    session: AsyncSession,
    rows: list[_Row],
    stored: dict[str, Policy],
    masters: dict[str, dict[str, Any]],
    today: date,
) -> PolicyEventsResult:
    result = PolicyEventsResult()
    connection = await session.connection()
    new = [
        {
            "number": number,
            "policyholder_id": m["policyholder_id"],
            "product": m["product"],
            "premium": m["premium"],
            "contract_date": m["contract_date"],
            "payment_cycle": m["payment_cycle"],
            "status": "active",
            "coverage_summary": "",
        }
        for number, m in masters.items()
        if number not in stored
    ]
    if new:
        await connection.execute(insert(_POLICIES), new)
        result.policies_created = len(new)
    for number, m in masters.items():
        if number in stored:
            values = {k: v for k, v in m.items() if k != "phone"}
            if values:
                await connection.execute(
                    update(_POLICIES).where(_POLICIES.c.id == stored[number].id).values(values)
                )
    numbers = list(masters)
    ids = {
        number: pid
        for chunk in range(0, len(numbers), 1000)
        for number, pid in await connection.execute(
            select(Policy.number, Policy.id).where(Policy.number.in_(numbers[chunk : chunk + 1000]))
        )
    }
    existing: set[tuple[int, date, str]] = set()
    id_list = list(ids.values())
    for chunk in range(0, len(id_list), 1000):
        for pid, day, kind in await connection.execute(
            select(PolicyEvent.policy_id, PolicyEvent.occurred_on, PolicyEvent.kind).where(
                PolicyEvent.policy_id.in_(id_list[chunk : chunk + 1000])
            )
        ):
            existing.add((pid, day, kind))
    events = []
    for row in rows:
        assert row.day is not None
        key = (ids[row.values["policy_number"]], row.day, row.kind)
        if key in existing:
            result.events_skipped += 1
            continue
        existing.add(key)
        events.append(
            {
                "policy_id": key[0],
                "kind": row.kind,
                "occurred_on": row.day,
                "paid_through": row.paid,
                "note": row.values.get("note", ""),
                "source": "import",
            }
        )
    if events:
        await connection.execute(insert(PolicyEvent), events)
    result.events_added = len(events)
    result.policies_recomputed = await recompute_policies(session, list(ids.values()), today=today)
    return result


async def recompute_policies(session: AsyncSession, policy_ids: list[int], *, today: date) -> int:
    """Store each policy's status, installments paid and next due day as its events say."""
    connection = await session.connection()
    count = 0
    for chunk in range(0, len(policy_ids), 1000):
        part = policy_ids[chunk : chunk + 1000]
        policies = {
            pid: (contract, cycle)
            for pid, contract, cycle in await connection.execute(
                select(Policy.id, Policy.contract_date, Policy.payment_cycle).where(
                    Policy.id.in_(part)
                )
            )
        }
        history: dict[int, list[HistoryEvent]] = {}
        for pid, kind, day, paid in await connection.execute(
            select(
                PolicyEvent.policy_id,
                PolicyEvent.kind,
                PolicyEvent.occurred_on,
                PolicyEvent.paid_through,
            )
            .where(PolicyEvent.policy_id.in_(part))
            .order_by(PolicyEvent.occurred_on, PolicyEvent.id)
        ):
            history.setdefault(pid, []).append(HistoryEvent(kind, day, paid))
        for pid, (contract, cycle) in policies.items():
            if contract is None:
                continue
            state = state_on(contract=contract, cycle=cycle, events=history.get(pid, []), on=today)
            values: dict[str, Any] = {
                "status": state.status,
                "paid_installments": state.paid_installments,
                "next_due_date": state.next_due_date,
            }
            if state.status != "active":
                values["loan_limit"] = 0
            await connection.execute(update(_POLICIES).where(_POLICIES.c.id == pid).values(values))
            count += 1
    return count
