"""Hypothesis strategies: personal numbers in every shape people type them, inside Korean
sentences (주민등록번호, bank accounts, cards, mobile phones)."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import assume
from hypothesis import strategies as st

# Separators between digit groups: none, hyphen, spaces, en dash, full-width hyphen and other
# dashes, dots and middle dots, an ideographic or no-break space, a zero-width space.
SEPARATORS = (
    "",
    "-",
    " ",
    " - ",
    "\u2013",  # en dash
    "\uff0d",  # full-width hyphen
    "\u2010",  # hyphen
    "\u2212",  # minus sign
    "\u2014",  # em dash
    ".",
    "\u00b7",  # middle dot
    "\u3000",  # ideographic space
    "\u00a0",  # no-break space
    "\u200b",  # zero-width space
)
GROUPED = tuple(s for s in SEPARATORS if s)

# Account layouts of Korean banks (digits per group), 10-14 digits.
ACCOUNT_LAYOUTS = (
    (3, 2, 6),  # 농협 구 계좌
    (3, 3, 6),  # 신한
    (4, 2, 7),  # 카카오뱅크 3333-01-1234567
    (3, 6, 5),  # 기업
    (6, 2, 6),  # 국민
    (3, 4, 4, 2),  # 우리 구 계좌
    (4, 3, 6),  # 하나
    (3, 2, 8),
)

PREFIXES = (
    "",
    "네 ",
    "제 번호는 ",
    "주민번호",
    "주민등록번호는 ",
    "계좌번호: ",
    "입금 계좌 ",
    "카드번호 ",
    "연락처는",
    "이 번호로 전화 주세요 ",
    "아들 계좌는 ",
    "번호.",
)
SUFFIXES = (
    "",
    "이에요",
    "입니다",
    " 입니다.",
    "로 보내 주세요",
    "으로 연락 주세요",
    "요",
    ".",
    "!",
    " 맞아요?",
    "\n감사합니다",
    " ㅎㅎ",
)


@dataclass(frozen=True)
class PersonalNumber:
    """One generated number: as written, the digits that identify it, and how many digits its
    masked form may still show (a card its first and last four, an account its last four)."""

    kind: str
    written: str
    digits: str
    readable_digits: int


def _digits(count: int, *, first: str = "0123456789") -> st.SearchStrategy[str]:
    head = st.sampled_from(first)
    tail = st.text("0123456789", min_size=count - 1, max_size=count - 1)
    return st.tuples(head, tail).map("".join)


def _full_width(text: str) -> str:
    return "".join(chr(0xFF10 + int(ch)) if ch.isdigit() else ch for ch in text)


@st.composite
def _join(draw: st.DrawFn, groups: list[str], *, grouped_only: bool = False) -> str:
    """Groups joined by one separator drawn for the number (people rarely mix them)."""
    separator = draw(st.sampled_from(GROUPED if grouped_only else SEPARATORS))
    written = separator.join(groups)
    return _full_width(written) if draw(st.booleans()) else written


@st.composite
def resident_numbers(draw: st.DrawFn) -> PersonalNumber:
    birth = draw(st.dates()).strftime("%y%m%d")
    back = draw(_digits(7, first="12345678"))
    written = draw(_join([birth, back]))
    return PersonalNumber("rrn", written, birth + back, 0)


@st.composite
def accounts(draw: st.DrawFn) -> PersonalNumber:
    layout = draw(st.sampled_from(ACCOUNT_LAYOUTS))
    groups = [draw(_digits(size, first="123456789")) for size in layout]
    digits = "".join(groups)
    # A run that starts like 010… or 82 10… is a phone number, masked as one.
    assume(not digits.startswith(("01", "82")))
    if draw(st.booleans()):
        written = draw(_join(groups, grouped_only=True))
    else:
        written = draw(_join([digits]))
    return PersonalNumber("account", written, digits, 4)


@st.composite
def cards(draw: st.DrawFn) -> PersonalNumber:
    if draw(st.booleans()):
        groups = [draw(_digits(4, first="3456"))] + [draw(_digits(4)) for _ in range(3)]
    else:  # American Express: 4-6-5
        groups = [draw(st.sampled_from(("3400", "3700", "3782", "3714"))), draw(_digits(6))]
        groups.append(draw(_digits(5)))
    return PersonalNumber("card", draw(_join(groups)), "".join(groups), 8)


@st.composite
def phones(draw: st.DrawFn) -> PersonalNumber:
    prefix = draw(st.sampled_from(("10", "11", "16", "17", "18", "19")))
    middle = draw(_digits(draw(st.sampled_from((3, 4)))))
    last = draw(_digits(4))
    national = "0" + prefix
    if draw(st.booleans()):
        national = draw(st.sampled_from(("+82 ", "+82-", "+82", "82-", "+82 (0)"))) + prefix
    written = draw(_join([national, middle, last]))
    # The digits after the leading 0 / 82 identify the line; 010 and the last four may show.
    return PersonalNumber("phone", written, prefix + middle + last, 7)


def personal_numbers() -> st.SearchStrategy[PersonalNumber]:
    return st.one_of(resident_numbers(), accounts(), cards(), phones())


def in_sentence() -> st.SearchStrategy[str]:
    """A Korean sentence with one ``{}`` where the number goes."""
    return st.tuples(st.sampled_from(PREFIXES), st.sampled_from(SUFFIXES)).map(
        lambda parts: parts[0] + "{}" + parts[1]
    )
