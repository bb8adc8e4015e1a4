"""Personal numbers never reach the ledger unmasked."""

import pytest

from bot.services.masking import mask_account, mask_personal_numbers
from bot.services.phones import format_phone, normalize_phone


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("주민번호는 620417-2123456 이에요", "주민번호는 620417-2****** 이에요"),
        ("카드 1234 5678 9012 3456로 결제", "카드 1234-****-****-3456로 결제"),
        ("제 번호 010-5512-3087", "제 번호 010-****-3087"),
        ("01055123087로 전화 주세요", "010-****-3087로 전화 주세요"),
        ("계좌 123-456-789012로 보내 주세요", "계좌 ***-***-**9012로 보내 주세요"),
        ("12월 20일 2026-12-20 300만원", "12월 20일 2026-12-20 300만원"),
        ("KL-1994-000123 계약이요", "KL-1994-000123 계약이요"),
    ],
)
def test_masks_personal_numbers_only(raw: str, masked: str) -> None:
    assert mask_personal_numbers(raw) == masked


def test_account_keeps_last_four_digits() -> None:
    assert mask_account("3021-0012-3456-21") == "****-****-**56-21"


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
