"""Korean phone numbers: normalise for matching, format for people."""

import re

_NON_DIGITS = re.compile(r"\D")


def normalize_phone(raw: str) -> str:
    """Digits only, with +82 turned into a leading 0: '+82 10-5512-3087' → '01055123087'."""
    digits = _NON_DIGITS.sub("", raw)
    if digits.startswith("82") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    return digits


def format_phone(digits: str) -> str:
    """'01055123087' → '010-5512-3087'."""
    if len(digits) == 11:
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if len(digits) == 10:
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    return digits
