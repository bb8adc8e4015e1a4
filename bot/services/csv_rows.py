"""Reading an uploaded CSV into rows for the importers: header checks, blank lines skipped, every
row's own problems kept with its line number (the header is line 1), all messages in Korean."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

R = TypeVar("R", bound="CsvRow")
_DAY = re.compile(r"^(\d{4})[-./]?(\d{1,2})[-./]?(\d{1,2})$")


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in the file; ``line`` is the CSV line (the header is line 1)."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.line}행: {self.message}"


@dataclass(slots=True)
class CsvRow:
    """One data line: its stripped values by column, and what is wrong with it."""

    line: int
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)

    def fail(self, message: str) -> None:
        self.errors.append(message)


@dataclass(frozen=True, slots=True)
class CsvLayout:
    """The columns a file may have, their Korean labels and length limits."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    labels: Mapping[str, str]
    max_lengths: Mapping[str, int]


def read_rows(text: str, layout: CsvLayout, row_type: type[R]) -> tuple[list[R], list[RowError]]:
    """The file's data rows, or no rows and what is wrong with the header or the whole file.

    Each row already carries the problems visible without parsing: too many values, an empty
    required column, a value over its length limit.
    """
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        return [], [RowError(1, "파일이 비어 있거나 머리글 행이 없습니다.")]
    reader.fieldnames = header
    problems = []
    missing = [c for c in layout.required if c not in header]
    if missing:
        problems.append(RowError(1, f"필수 열이 없습니다: {', '.join(missing)}"))
    unknown = [c for c in header if c not in layout.required and c not in layout.optional]
    if unknown:
        problems.append(RowError(1, f"알 수 없는 열입니다: {', '.join(unknown)}"))
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        problems.append(RowError(1, f"같은 이름의 열이 여러 개입니다: {', '.join(duplicated)}"))
    if problems:
        return [], problems
    rows = []
    for raw in reader:
        extra = raw.pop(None, None)
        values = {k: (v or "").strip() for k, v in raw.items()}
        if not any(values.values()) and not extra:
            continue
        row = row_type(reader.line_num, values)
        if extra:
            row.fail("머리글보다 값이 많습니다. 쉼표가 들어간 값은 큰따옴표로 감싸 주세요.")
        for column in layout.required:
            if not values.get(column):
                row.fail(f"{layout.labels[column]}이(가) 비어 있습니다.")
        for column, limit in layout.max_lengths.items():
            if len(values.get(column, "")) > limit:
                row.fail(f"{layout.labels[column]}이(가) 너무 깁니다(최대 {limit}자).")
        rows.append(row)
    if not rows:
        return [], [RowError(1, "데이터 행이 없습니다.")]
    return rows, []


def row_errors(rows: Sequence[CsvRow]) -> list[RowError]:
    """Every row's problems, in file order."""
    return [RowError(r.line, m) for r in rows for m in r.errors]


def parse_day(raw: str) -> date | None:
    """A calendar day written as 2025-03-10, 2025.3.10, 2025/03/10 or 20250310; else None."""
    match = _DAY.match(raw)
    if not match:
        return None
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        return None
