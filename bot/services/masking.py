"""Mask personal numbers (주민등록번호, card, account, phone) before text is stored or shown.

``mask_personal_numbers`` is the one masking function: the ledger, requests, event notes,
ratings, the outbox, the audit log (``bot.db.types``) and the text handed to Rasa all go
through it.

People type these numbers in many shapes: with or without separators, with spaces, dots, en
dashes or full-width hyphens, in full-width digits, or a phone as +82. Matching runs on a folded
copy of the text: every character that NFKC maps to a decimal digit becomes that ASCII digit,
every dash, dot and space variant becomes ``-``, ``.`` or a space. Folding is one character for
one character, so a match's position is the same in the original, and the rest of the text
(Hangul, emoji, line breaks) is kept exactly as written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

MASK = "*"

# Characters that separate digit groups once folded. NFKC already maps the full-width and small
# forms (－ ﹣ ． ﹒) and most spaces; the dashes, middle dots and invisible characters below it
# leaves alone.
_DASHES = "\u00ad\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\u2e3a\u2e3b\u30fc\uff70"
_DOTS = "\u00b7\u2022\u2024\u2027\u2219\u22c5\u30fb\u3002\uff61\uff65"
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"


def _fold_char(ch: str) -> str:
    """The character a matcher sees in place of ``ch`` (always exactly one character)."""
    if ch in "\t\r\x0b\x0c":
        return " "
    if ch.isascii():
        return ch
    if ch in _DASHES:
        return "-"
    if ch in _DOTS:
        return "."
    if ch in _INVISIBLE:
        return " "
    folded = unicodedata.normalize("NFKC", ch)
    if len(folded) == 1:
        if folded.isdecimal():
            return str(unicodedata.decimal(folded))
        if folded in "-.":
            return folded
        if folded.isspace() and folded != "\n":
            return " "
    return ch


class _FoldTable(dict[int, str]):
    """``str.translate`` table that folds each character on first sight and remembers it."""

    def __missing__(self, code: int) -> str:
        folded = _fold_char(chr(code))
        self[code] = folded
        return folded


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """``text`` with digits and separators in their ASCII form, same length (see module doc)."""
    return text.translate(_FOLD)


# Between two digit groups: a dash or dot (spaces around it allowed), or spaces alone.
_SEP = r"(?:[ ]*[-.][ ]*|[ ]{1,3})"
_OPT = _SEP + "?"

# 주민등록번호 / 외국인등록번호: six digits (birth date), then seven, the first of them 1-8.
_RRN = re.compile(rf"(?<![0-9])[0-9]{{6}}{_OPT}[1-8][0-9]{{6}}(?![0-9])")
# Cards: 16 digits in fours, 15 (American Express, 4-6-5) or 14 grouped 4-6-4 (Diners); a run
# of 14 digits is more likely an account, masked as one below.
_CARD = re.compile(
    rf"(?<![0-9])(?:[0-9]{{4}}(?:{_OPT}[0-9]{{4}}){{3}}"
    rf"|[0-9]{{4}}{_OPT}[0-9]{{6}}{_OPT}[0-9]{{5}}|[0-9]{{4}}{_SEP}[0-9]{{6}}{_SEP}[0-9]{{4}})"
    r"(?![0-9])"
)
# Mobile phones, also written +82 10 …, 82-10-… or +82 (0)10 ….
_PHONE = re.compile(
    rf"(?<![0-9])(?:\+?[ ]*82{_OPT}(?:\(0\)[ ]*)?0?|0)(1[016789]){_OPT}([0-9]{{3,4}})"
    rf"{_OPT}([0-9]{{4}})(?![0-9])"
)
# Bank accounts: 10-16 digits, in groups of 2-8 or in one run. Right after an ASCII letter (and
# a dash or dot) the digits belong to an identifier (KL-1994-000123, R-20261125-0007).
_ACCOUNT = re.compile(
    rf"(?<![0-9A-Za-z])(?<![0-9A-Za-z][-.])(?:[0-9]{{2,8}}(?:{_SEP}[0-9]{{2,8}}){{1,5}}|[0-9]{{10,16}})"
    r"(?![0-9A-Za-z])"
)
# What the account rule must not read as an account: dates with a time (2026-11-25 10:00) and
# amounts (10000000000원).
_DATE_TIME = re.compile(
    r"(?<![0-9])(?:19|20)[0-9]{2}[ ]*[-./][ ]*[0-9]{1,2}[ ]*[-./][ ]*[0-9]{1,2}\.?(?![0-9])"
    r"|(?<![0-9])[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?(?![0-9])"
)
_AMOUNT_AFTER = re.compile(r"[ ]*(?:원|만|천|억|조|달러|엔|위안)")
_ACCOUNT_DIGITS = range(10, 17)
_ASCII_DIGIT = re.compile(r"[0-9]")


def digits_of(text: str) -> str:
    """The decimal digits of ``text`` in ASCII, in order (full-width and other forms folded)."""
    return "".join(ch for ch in fold(text) if "0" <= ch <= "9")


def _grouped(span: str, *, keep_head: int, keep_tail: int) -> str:
    """The digits of ``span`` with all but the first ``keep_head`` and last ``keep_tail``
    masked, its groups joined by single dashes: '1234 5678 9012 3456' → '1234-****-****-3456'."""
    groups = [g for g in re.split(r"[^0-9]+", span) if g]
    total = sum(len(g) for g in groups)
    seen = 0
    out = []
    for group in groups:
        chars = []
        for ch in group:
            chars.append(ch if seen < keep_head or seen >= total - keep_tail else MASK)
            seen += 1
        out.append("".join(chars))
    return "-".join(out)


def mask_account(value: str) -> str:
    """Keep the last four digits of an account number: '123-456-789012' → '***-***-**9012'."""
    return _grouped(fold(value), keep_head=0, keep_tail=4)


def _rrn(span: str) -> str:
    return "******-*******"


def _card(span: str) -> str:
    return _grouped(span, keep_head=4, keep_tail=4)


def _phone(match: re.Match[str]) -> str:
    return f"0{match.group(1)}-{MASK * 4}-{match.group(3)}"


def _phone_digits(match: re.Match[str]) -> str:
    """A matched phone as stored in the database: 01055123087."""
    return "0" + match.group(1) + match.group(2) + match.group(3)


class _Text:
    """The text being masked and its folded twin, replaced in step (same positions)."""

    def __init__(self, text: str) -> None:
        self.original = text
        self.folded = fold(text)

    def replace(self, spans: list[tuple[int, int, str]]) -> None:
        """Replace (start, end, masked) spans, which must not overlap and be in order."""
        if not spans:
            return
        original, folded = [], []
        last = 0
        for start, end, masked in spans:
            original += [self.original[last:start], masked]
            folded += [self.folded[last:start], masked]
            last = end
        original.append(self.original[last:])
        folded.append(self.folded[last:])
        self.original, self.folded = "".join(original), "".join(folded)


def _blank(match: re.Match[str]) -> str:
    return "D" * len(match.group(0))


def _is_amount(folded: str, match: re.Match[str]) -> bool:
    if match.start() and folded[match.start() - 1] in "₩$":
        return True
    return _AMOUNT_AFTER.match(folded, match.end()) is not None


def mask_personal_numbers(text: str, *, keep: Collection[str] = ()) -> str:
    """Replace personal numbers in free text with masked forms.

    ``keep`` lists phone numbers (digits only, as stored: 01055123087) that may stay readable,
    because they come from the database for someone allowed to see them (an employee's alert
    shows the policyholder's phone on file); the same number typed by anyone else is kept too,
    as it is no secret from that reader.
    """
    if not text:
        return text
    work = _Text(text)
    if _ASCII_DIGIT.search(work.folded) is None:
        return text
    for pattern, masker in ((_RRN, _rrn), (_CARD, _card)):
        work.replace(
            [(m.start(), m.end(), masker(m.group(0))) for m in pattern.finditer(work.folded)]
        )
    phones = list(_PHONE.finditer(work.folded))
    work.replace([(m.start(), m.end(), _phone(m)) for m in phones if _phone_digits(m) not in keep])
    # Dates, times and kept phones are blanked (same length) so that the account rule cannot
    # read them as accounts.
    candidates = _DATE_TIME.sub(_blank, work.folded)
    if keep:
        candidates = _PHONE.sub(
            lambda m: _blank(m) if _phone_digits(m) in keep else m[0], candidates
        )
    spans = []
    for match in _ACCOUNT.finditer(candidates):
        digits = sum(ch.isdigit() for ch in match.group(0))
        if digits in _ACCOUNT_DIGITS and not _is_amount(candidates, match):
            spans.append((match.start(), match.end(), mask_account(match.group(0))))
    work.replace(spans)
    return work.original


def mask_json(value: object) -> object:
    """``value`` (decoded JSON) with every string in it masked; keys and other values as they are."""
    if isinstance(value, str):
        return mask_personal_numbers(value)
    if isinstance(value, list):
        return [mask_json(item) for item in value]
    if isinstance(value, dict):
        return {key: mask_json(item) for key, item in value.items()}
    return value
