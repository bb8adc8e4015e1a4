"""Numerals written in Arabic digits, Hangul (``오십``, ``이십일``) or a mix (``3백50만``).

Shared by the money and date normalisers so that there is one reading of Hangul numerals.
Only the standard library is used: the app imports this module too.
"""

import re
from decimal import Decimal, InvalidOperation

HANGUL_DIGITS = {
    "영": 0,
    "공": 0,
    "일": 1,
    "이": 2,
    "삼": 3,
    "사": 4,
    "오": 5,
    "육": 6,
    "륙": 6,
    "칠": 7,
    "팔": 8,
    "구": 9,
}
SMALL_UNITS = {"십": 10, "백": 100, "천": 1000}
BIG_UNITS = {"만": 10**4, "억": 10**8, "조": 10**12}
DIGIT_CHARS = "일이삼사오육륙칠팔구"
UNIT_CHARS = "십백천만억조"

# One Arabic number (commas and a decimal part allowed), one Hangul digit or one unit.
ATOM = rf"(?:\d[\d,]*(?:\.\d+)?|[{DIGIT_CHARS}{UNIT_CHARS}])"
GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_ATOMS = re.compile(ATOM)


def _number(atom: str) -> Decimal | None:
    """Value of one Arabic number atom; ``None`` if its comma grouping is malformed."""
    if "," in atom and not GROUPED.fullmatch(atom):
        return None
    try:
        return Decimal(atom.replace(",", ""))
    except InvalidOperation:
        return None


def numeral_value(expr: str) -> int | None:
    """Value of a numeral expression (``이십오`` → 25), or ``None`` when it is not well formed."""
    total = Decimal(0)
    section = Decimal(0)
    current: Decimal | None = None
    last_small = 10**5
    last_big = 10**13
    atoms = _ATOMS.findall(expr)
    if not atoms:
        return None
    for atom in atoms:
        if atom[0].isdigit():
            if current is not None:
                return None
            current = _number(atom)
            if current is None:
                return None
        elif atom in HANGUL_DIGITS:
            if current is not None:
                return None
            current = Decimal(HANGUL_DIGITS[atom])
        elif atom in SMALL_UNITS:
            unit = SMALL_UNITS[atom]
            if unit >= last_small:
                return None
            section += (Decimal(1) if current is None else current) * unit
            current, last_small = None, unit
        else:
            unit = BIG_UNITS[atom]
            if unit >= last_big:
                return None
            segment = section + (current or 0)
            total += (segment or Decimal(1)) * unit
            section, current, last_small, last_big = Decimal(0), None, 10**5, unit
    value = total + section + (current or 0)
    if value != value.to_integral_value():
        return None
    return int(value)
