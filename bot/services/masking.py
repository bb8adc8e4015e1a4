"""Mask personal numbers (주민등록번호, card, account, phone) before text is stored or shown."""

import re

# 주민등록번호: 6 digits, dash, 7 digits (first of them 1-4, or 5-8 for foreigners).
_RRN = re.compile(r"(?<!\d)(\d{6})\s*-\s*([1-8])\d{6}(?!\d)")
# Card numbers: 4 groups of 4 digits.
_CARD = re.compile(r"(?<!\d)(\d{4})[ -]?(\d{4})[ -]?(\d{4})[ -]?(\d{4})(?!\d)")
# Mobile phones.
_PHONE = re.compile(r"(?<!\d)(01[016789])[ -]?(\d{3,4})[ -]?(\d{4})(?!\d)")
# Bank accounts: digit groups joined by dashes, 10-16 digits in all.
_ACCOUNT = re.compile(r"(?<![\d-])(\d{2,6}(?:-\d{2,6}){1,4})(?![\d-])")


def _mask_account(match: re.Match[str]) -> str:
    value = match.group(1)
    digits = sum(ch.isdigit() for ch in value)
    if not 10 <= digits <= 16:
        return value
    return mask_account(value)


def mask_account(value: str) -> str:
    """Keep the last four digits of an account number: '123-456-789012' → '***-***-**9012'."""
    total = sum(ch.isdigit() for ch in value)
    seen = 0
    out = []
    for ch in value:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > total - 4 else "*")
        else:
            out.append(ch)
    return "".join(out)


def mask_personal_numbers(text: str) -> str:
    """Replace personal numbers in free text with masked forms."""
    text = _RRN.sub(lambda m: f"{m.group(1)}-{m.group(2)}******", text)
    text = _CARD.sub(lambda m: f"{m.group(1)}-****-****-{m.group(4)}", text)
    text = _PHONE.sub(lambda m: f"{m.group(1)}-****-{m.group(3)}", text)
    return _ACCOUNT.sub(_mask_account, text)
