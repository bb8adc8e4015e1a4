"""Personal numbers never reach the ledger unmasked, whatever shape they are typed in."""

import pytest
from hypothesis import given, settings

from bot.services.masking import digits_of, fold, mask_account, mask_json, mask_personal_numbers
from bot.services.phones import format_phone, normalize_phone
from tests.auxil.personal_numbers import PersonalNumber, in_sentence, personal_numbers


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("주민번호는 620417-2123456 이에요", "주민번호는 ******-******* 이에요"),
        ("카드 1234 5678 9012 3456로 결제", "카드 1234-****-****-3456로 결제"),
        ("제 번호 010-5512-3087", "제 번호 010-****-3087"),
        ("01055123087로 전화 주세요", "010-****-3087로 전화 주세요"),
        ("계좌 123-456-789012로 보내 주세요", "계좌 ***-***-**9012로 보내 주세요"),
        ("12월 20일 2026-12-20 300만원", "12월 20일 2026-12-20 300만원"),
        ("KL-1994-000123 계약이요", "KL-1994-000123 계약이요"),
        # The shapes the audit found unmasked.
        ("주민번호 6204172123456", "주민번호 ******-*******"),
        ("주민번호 620417 2123456", "주민번호 ******-*******"),
        ("주민번호 620417–2123456", "주민번호 ******-*******"),
        ("주민번호 620417－2123456", "주민번호 ******-*******"),
        ("주민번호 ６２０４１７－２１２３４５６요", "주민번호 ******-*******요"),
        ("카카오뱅크 3333-01-1234567로", "카카오뱅크 ****-**-***4567로"),
        ("계좌 110123456789", "계좌 ********6789"),
        ("계좌 110 123 456789 입니다", "계좌 ***-***-**6789 입니다"),
        ("카드 1234.5678.9012.3456", "카드 1234-****-****-3456"),
        ("카드 1234–5678–9012–3456", "카드 1234-****-****-3456"),
        ("아멕스 3782-822463-10005", "아멕스 3782-******-*0005"),
        ("아멕스 378282246310005", "아멕스 3782*******0005"),
        ("010.1234.5678로 연락", "010-****-5678로 연락"),
        ("+821012345678", "010-****-5678"),
        ("+82 10-1234-5678 이에요", "010-****-5678 이에요"),
        # What is not a personal number stays as written.
        ("접수 시각: 2026-11-25 10:00", "접수 시각: 2026-11-25 10:00"),
        ("접수번호 R-20261125-0007", "접수번호 R-20261125-0007"),
        ("2026.12.20. 14:30에 봬요", "2026.12.20. 14:30에 봬요"),
        ("10000000000원 대출", "10000000000원 대출"),
        ("3,000,000원이요", "3,000,000원이요"),
        ("ㅋㅋㅋ 고마워요 😀", "ㅋㅋㅋ 고마워요 😀"),
    ],
)
def test_masks_personal_numbers_only(raw: str, masked: str) -> None:
    assert mask_personal_numbers(raw) == masked


def test_account_keeps_last_four_digits() -> None:
    assert mask_account("3021-0012-3456-21") == "****-****-**56-21"


def test_a_phone_from_the_database_may_stay() -> None:
    text = "계약자 010-5512-3087, 문의 내용: 제 아들 번호는 010-1111-2222예요"
    assert mask_personal_numbers(text, keep={"01055123087"}) == (
        "계약자 010-5512-3087, 문의 내용: 제 아들 번호는 010-****-2222예요"
    )


def test_folding_keeps_length_and_hangul() -> None:
    text = "ㄱㄴ ６２０－\u2013\u3000가"
    assert len(fold(text)) == len(text)
    assert fold(text) == "ㄱㄴ 620-- 가"


def test_json_strings_are_masked_keys_and_numbers_kept() -> None:
    value = {"text": "계좌 110123456789", "amount": 3_000_000, "messages": ["01012345678"]}
    assert mask_json(value) == {
        "text": "계좌 ********6789",
        "amount": 3_000_000,
        "messages": ["010-****-5678"],
    }


@settings(max_examples=600, deadline=None)
@given(number=personal_numbers(), sentence=in_sentence())
def test_no_personal_number_survives_in_any_shape(number: PersonalNumber, sentence: str) -> None:
    text = sentence.format(number.written)
    masked = mask_personal_numbers(text)
    assert number.digits not in digits_of(masked), (text, masked)
    assert len(digits_of(masked)) <= number.readable_digits, (text, masked)
    # Masking twice changes nothing: the ledger may mask what a service already masked.
    assert mask_personal_numbers(masked) == masked


@pytest.mark.parametrize(
    ("raw", "digits"),
    [
        ("010-5512-3087", "01055123087"),
        ("+82 10-5512-3087", "01055123087"),
        ("821055123087", "01055123087"),
    ],
)
def test_phone_normalisation(raw: str, digits: str) -> None:
    assert normalize_phone(raw) == digits
    assert format_phone(digits) == "010-5512-3087"
