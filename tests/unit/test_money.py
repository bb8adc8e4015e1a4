"""Money normalisation: the forms policyholders and newspapers write, and a round-trip property."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlu.money import find_amounts, parse_amount

_DIGITS = "영일이삼사오육칠팔구"


def to_hangul(n: int, *, explicit_one: bool = False) -> str:
    """``n`` written out in Hangul numerals (``150000`` → ``십오만``), the way people write it."""
    if n == 0:
        return "영"
    parts = []
    for big_value, big_name in ((10**12, "조"), (10**8, "억"), (10**4, "만"), (1, "")):
        section, n = divmod(n, big_value)
        if not section:
            continue
        words = ""
        for small_value, small_name in ((1000, "천"), (100, "백"), (10, "십"), (1, "")):
            digit, section = divmod(section, small_value)
            if not digit:
                continue
            if digit == 1 and small_name and not explicit_one:
                words += small_name
            else:
                words += _DIGITS[digit] + small_name
        if words == "일" and big_name == "만" and not explicit_one:
            words = ""
        parts.append(words + big_name)
    return "".join(parts)


@pytest.mark.parametrize(
    ("text", "won"),
    [
        ("3백만원", 3_000_000),
        ("2백50만", 2_500_000),
        ("2백50만원", 2_500_000),
        ("천오백만 원", 15_000_000),
        ("오십만 원", 500_000),
        ("1,000,000원", 1_000_000),
        ("50만", 500_000),
        ("50만원", 500_000),
        ("50 만원", 500_000),
        ("3백만원이요", 3_000_000),
        ("오십만 원만요", 500_000),
        ("50만이요", 500_000),
        ("삼백만이요", 3_000_000),
        ("100만원 정도요", 1_000_000),
        ("백만원 정도", 1_000_000),
        ("약 2천만원", 20_000_000),
        ("1억 5천만 원", 150_000_000),
        ("1억5천만원", 150_000_000),
        ("1.5억", 150_000_000),
        # Typed with digits, a bare 천/백 after 억 is in 만 won; spelled in Hangul it is literal.
        ("3억5천", 350_000_000),
        ("1억 2천5백이요", 125_000_000),
        ("2억 500만원", 205_000_000),
        ("일억오천원", 100_005_000),
        ("만원", 10_000),
        ("만오천원", 15_000),
        ("삼십이만 원", 320_000),
        ("3천만원", 30_000_000),
        ("500000", 500_000),
        ("500,000원이요", 500_000),
        ("오백만원 빌려주세요", 5_000_000),
        ("천만 원까지요", 10_000_000),
        ("이천만원", 20_000_000),
        ("구십구만 구천 원", 999_000),
        ("  3백만원  ", 3_000_000),
        ("3백만원!", 3_000_000),
        # Answering "얼마가 필요하세요?", hundreds and thousands without 만 are in 만 won.
        ("삼백이요", 3_000_000),
        ("오백 정도요", 5_000_000),
        ("3백", 3_000_000),
        ("천이요", 10_000_000),
        ("500 빌려주세요", 5_000_000),
        # Bare digits stay literal: the loan's minimum asks again rather than guessing.
        ("500", 500),
    ],
)
def test_parse_amount_forms(text: str, won: int) -> None:
    assert parse_amount(text) == won


@pytest.mark.parametrize(
    "text",
    [
        "",
        "네",
        "아직 모르겠어요",
        "이요",
        "사원",
        "KL-1994-000123",
        "010-1234-5678",
        "3백만원이랑 5백만원",
        "몇백만원",
        "1,00,0원",
        "1.5원",
        "천천히 할게요",
        "다음주 토요일",
    ],
)
def test_parse_amount_rejects(text: str) -> None:
    assert parse_amount(text) is None


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("약관대출 3백만원 받고 싶어요", [("3백만원", 3_000_000)]),
        ("대출오백만원 가능한가요", [("오백만원", 5_000_000)]),
        ("1,000,000원이랑 50만원 두 번이요", [("1,000,000원", 1_000_000), ("50만원", 500_000)]),
        ("보험료 12만 3천원 빠졌어요", [("12만 3천원", 123_000)]),
        ("이달30일 이사인데 비용 2백50만 들어요", [("2백50만", 2_500_000)]),
        ("이만 가볼게요", []),
        ("천만에요", []),
        ("회사 사원이에요", []),
        ("저 기억 안 나요", []),
        ("만약에 대출하면", []),
        ("계약번호 KL-1994-000123 이요", []),
        ("010-5512-3087 로 전화주세요", []),
        ("백화점 상품권", []),
        ("몇백만원 필요해요", []),
        ("수천만원 빚이 있어요", []),
        ("12월 20일에 3시", []),
        ("5원", [("5원", 5)]),
        # For a loan, hundreds and thousands said without 만 are in 만 won.
        ("삼백 정도 융통이 될까 해서요", [("삼백", 3_000_000)]),
        ("오백만 좀 빌릴 수 있어요?", [("오백만", 5_000_000)]),
        ("애 학원비로 칠백쯤 필요한데", [("칠백", 7_000_000)]),
        ("약관대출로 2천 가능한가요", [("2천", 20_000_000)]),
        ("대출 금액은 사백이요", [("사백", 4_000_000)]),
        ("300 정도 당겨 쓸 수 있나요", [("300", 3_000_000)]),
        ("오천 원 더 빠져나갔어요", [("오천 원", 5_000)]),
        # Without a borrowing word nearby they are not money at all.
        ("백 번을 전화해도 안 받아요", []),
        ("이천에서 살아요", []),
        ("사백 명 넘게 왔대요", []),
        ("몇백 빌려야 해요", []),
    ],
)
def test_find_amounts(text: str, found: list[tuple[str, int]]) -> None:
    spans = find_amounts(text)
    assert [(s.text, s.value) for s in spans] == found
    for span in spans:
        assert text[span.start : span.end] == span.text


# From 10 up: a lone Hangul digit before 원 is a word (사원, 구원, 일원), never read as money.
@given(st.integers(min_value=10, max_value=10**15 - 1), st.booleans())
def test_hangul_numerals_round_trip(n: int, explicit_one: bool) -> None:
    words = to_hangul(n, explicit_one=explicit_one)
    assert parse_amount(words + "원") == n
    assert parse_amount(words + " 원이요") == n


@given(st.integers(min_value=1, max_value=10**12))
def test_digits_with_commas_round_trip(n: int) -> None:
    assert parse_amount(f"{n:,}원") == n
    assert parse_amount(str(n)) == n


@given(st.integers(min_value=1, max_value=9999), st.integers(min_value=0, max_value=9999))
def test_mixed_form_found_in_sentence(man: int, rest: int) -> None:
    n = man * 10_000 + rest
    written = f"{man}만" + (to_hangul(rest) if rest else "") + "원"
    spans = find_amounts(f"대출 {written} 받을 수 있나요")
    assert [(s.text, s.value) for s in spans] == [(written, n)]
