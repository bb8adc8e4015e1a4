"""Column types that mask personal numbers on the way into the database.

Free text from people (messages, request summaries and details, rating comments, event notes,
audit details) is stored through these types, so no code path — ORM or Core insert, update or
``executemany`` — can write a full 주민등록번호, card, account or phone number into them. Values
already masked pass unchanged (masking is idempotent).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from bot.services.masking import mask_json, mask_personal_numbers


class MaskedText(TypeDecorator[str]):
    """``Text`` whose written values have their personal numbers masked."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else mask_personal_numbers(value)


class MaskedJSON(TypeDecorator[Any]):
    """``JSON`` whose written strings (at any depth) have their personal numbers masked."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else mask_json(value)
