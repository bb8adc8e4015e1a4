"""What a reader without the right to personal data sees of free text (the console's auditor).

Stored text already has its personal numbers masked (``bot.db.types``). What remains personal
in it is what only the database can recognise: a policyholder's name inside a bot reply
("이영숙님, 안녕하세요"), their address, birth date, or the place of a booking they made. A
:class:`Redactor` knows those strings for one policyholder and replaces them with masked forms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from bot.services.masking import mask_personal_numbers

# Request detail keys whose values are places or addresses (bookings).
ADDRESS_KEYS = frozenset({"place", "event_place", "address", "destination"})
_TOKEN = re.compile(r"\S+")


def masked_name(name: str) -> str:
    """이영숙 → 이*숙, 홍길 → 홍*."""
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def masked_address(address: str) -> str:
    """Keep the region (시·도 and 시·군·구), hide the rest: '인천 남동구 만수동 12' → '인천 남동구 ***'."""
    tokens = address.split()
    if len(tokens) <= 2:
        return "***"
    return " ".join([*tokens[:2], "***"])


def birth_date_forms(birth: date) -> list[str]:
    """How people write a birth date: 620417, 19620417, 1962-04-17, 1962.4.17, 1962년 4월 17일."""
    y, m, d = birth.year, birth.month, birth.day
    return [
        f"{y}년 {m}월 {d}일",
        f"{y % 100:02d}년 {m}월 {d}일",
        f"{y}-{m:02d}-{d:02d}",
        f"{y}.{m:02d}.{d:02d}",
        f"{y}.{m}.{d}",
        f"{y}/{m:02d}/{d:02d}",
        f"{y}{m:02d}{d:02d}",
        f"{y % 100:02d}{m:02d}{d:02d}",
    ]


@dataclass
class Redactor:
    """Masks one policyholder's personal data in free text about them."""

    name: str = ""
    address: str = ""
    birth_date: date | None = None
    places: list[str] = field(default_factory=list)
    _replacements: list[tuple[str, str]] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        pairs: list[tuple[str, str]] = []
        for place in [self.address, *self.places]:
            place = place.strip()
            if len(place) < 2:
                continue
            pairs.append((place, masked_address(place)))
            # The detail part of an address also shows up alone ("만수동 주공아파트로 와 주세요").
            pairs += [(token, "***") for token in _TOKEN.findall(place)[2:] if len(token) >= 2]
        if self.birth_date is not None:
            pairs += [(form, "******") for form in birth_date_forms(self.birth_date)]
        if len(self.name) >= 2:
            pairs.append((self.name, masked_name(self.name)))
        # Longest first, so a whole address goes before its parts.
        self._replacements = sorted(set(pairs), key=lambda pair: len(pair[0]), reverse=True)

    def text(self, value: str | None) -> str:
        """``value`` with personal numbers and this policyholder's data masked."""
        result = mask_personal_numbers(value or "")
        for original, masked in self._replacements:
            result = result.replace(original, masked)
        return result

    def detail(self, key: str, value: object) -> str:
        """A request detail as text: places masked to their region, the rest like free text."""
        text = value if isinstance(value, str) else str(value)
        if key in ADDRESS_KEYS:
            return masked_address(text)
        return self.text(text)


def redactor_for_names(names: Iterable[str]) -> Redactor:
    """A redactor for text that mentions several people only by name (the audit log)."""
    redactor = Redactor()
    redactor._replacements = sorted(
        {(name, masked_name(name)) for name in names if len(name) >= 2},
        key=lambda pair: len(pair[0]),
        reverse=True,
    )
    return redactor
