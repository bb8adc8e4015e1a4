"""Money expressions in Korean → integer won.

Handles Arabic digits with or without commas (``1,000,000원``), Hangul numerals (``오십만 원``),
and the mixed forms people and newspapers write (``3백만원``, ``2백50만``, ``1억 5천만 원``,
``1.5억``). Only the standard library is used: the app imports this module too.
"""

import re

from nlu.numerals import ATOM, DIGIT_CHARS, GROUPED, HANGUL_DIGITS, UNIT_CHARS, numeral_value
from nlu.spans import Span, drop_overlaps

# A space may separate sections after a big unit (1억 5천만) or a number from its unit (50 만원).
_SEP = rf"(?:(?<=[만억조])\s(?=[\d{DIGIT_CHARS}십백천])|(?<=\d)\s(?=[만억천백]))"
_CANDIDATE = re.compile(rf"{ATOM}(?:{_SEP}?{ATOM})*(?P<won>\s?원)?")
_ATOMS = re.compile(ATOM)
_HANGUL = re.compile(r"[가-힣]")
# Prefixes that make a numeral vague (몇백만 원, 수천만 원) rather than an amount.
_VAGUE_PREFIXES = ("몇", "수")
_CODE_NEIGHBOURS = set("-/:._") | set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

# Words that may surround an amount when the whole message is the answer to "얼마가 필요하세요?".
_FILLERS = (
    "빌려주세요|빌려줘요|빌려줘|빌리고싶어요|빌리고싶습니다|빌릴게요|필요해요|필요합니다|필요함|"
    "부탁드려요|부탁드립니다|부탁해요|주세요|해주세요|해줘|받을게요|받고싶어요|할게요|할래요|"
    "가능해요|가능할까요|가능한가요|가능해|되나요|되죠|돼요|될까요|있나요|있어요|입니다|이에요|이예요|예요|에요|이요|여|요|임|"
    "정도|쯤|가량|대략|대충|한|약|딱|총|전부|까지|이내|만큼|으로|로|이면|면|은|는|이|가|을|를|도|"
    "원|만|대출|약관대출|약대|신청|요청|금액|이상|이하|씩|네|예"
)
_FILLER_RESIDUE = re.compile(rf"(?:{_FILLERS})*")
_PUNCT_SPACE = re.compile(r"[\s.,!?~^…·ㅎㅋㅠㅜ\"'()]+")
# 3억5천, 1억 2천5백: typed with digits, a 천/백 remainder after 억 means 만 won (3억 5천만).
_EOK_REMAINDER = re.compile(
    r"(?P<eok>.*억)\s?(?P<rest>[\d,일이삼사오육륙칠팔구십]*[천백][^만억조]*)"
)
# "삼백 정도 융통", "오백 빌려주세요": for a loan, hundreds and thousands said without 만 or 원
# are in 만 won (nobody borrows 300 won). Only read so when a borrowing word follows closely
# (after 정도/쯤/만 and a particle), or a loan word comes just before: "백 번 전화했어요" stays.
_SMALL_ONLY = re.compile(r"[\d일이삼사오육륙칠팔구십백천]*[백천]|\d{3,4}")
_LOAN_AFTER = re.compile(
    r"\s?(?:정도|쯤|가량|만큼|남짓)?\s?(?:만|좀|만\s?좀|이나|을|를|은|는|이|가)?\s?"
    r"(?:융통|대출|약대|빌려|빌리|빌릴|빌렸|꿔|꾸어|필요|마련|당겨|받|땡겨)"
)
_LOAN_BEFORE = re.compile(
    r"(?:대출|약대|융통|빌려|빌리고)\s?(?:으로|로|을|를|은|는|금액|금액은)?\s?$"
)
_MAN = 10**4


def _money_value(expr: str) -> int | None:
    """``numeral_value``, reading a bare 천/백 remainder after 억 the way people type it.

    Written out wholly in Hangul (일억오천) the strict reading stands, so any number spelled in
    Hangul numerals still reads back as itself.
    """
    colloquial = _EOK_REMAINDER.fullmatch(expr)
    if colloquial and any(ch.isdigit() for ch in expr):
        eok, rest = numeral_value(colloquial["eok"]), numeral_value(colloquial["rest"])
        if eok is not None and rest is not None:
            return eok + rest * 10**4
    return numeral_value(expr)


def _trim_particle(expr: str, following: str) -> str:
    """Drop a trailing Hangul digit that is really a particle: 50만이요 → 50만, 3백이에요 → 3백."""
    if (
        len(expr) >= 2
        and expr[-1] in HANGUL_DIGITS
        and expr[-2] in UNIT_CHARS
        and _HANGUL.match(following[:1] or " ")
    ):
        return expr[:-1]
    return expr


def _vague(before: str) -> bool:
    """몇백, 수천: a prefix that makes the numeral vague rather than an amount."""
    return bool(before) and before[-1] in _VAGUE_PREFIXES


def _acceptable(expr: str, has_won: bool, before: str, *, lenient: bool) -> bool:
    """Whether a well-formed numeral reads as money rather than as an ordinary word."""
    if _vague(before):
        return False
    has_unit = any(ch in UNIT_CHARS for ch in expr)
    if any(ch.isdigit() for ch in expr):
        if before and before[-1] in _CODE_NEIGHBOURS:
            return False
        return has_won or has_unit or lenient or bool(GROUPED.fullmatch(expr))
    # Hangul only: 사원, 구원 are words, 만원 and 오십만 원 are money.
    if not has_unit:
        return False
    if has_won or (lenient and len(expr) >= 2):
        return True
    after_word = bool(before) and bool(_HANGUL.match(before[-1]))
    has_big = any(ch in "만억조" for ch in expr)
    return has_big and not after_word and (len(expr) >= 3 or "억" in expr)


def _omits_man(expr: str, has_won: bool) -> bool:
    """삼백, 3백, 오천, 300: hundreds or thousands with no 만/억/조 and no 원 after them."""
    return not has_won and bool(_SMALL_ONLY.fullmatch(expr))


def _loan_context(text: str, start: int, end: int) -> bool:
    """Whether a borrowing word follows the number closely or a loan word comes just before."""
    return bool(
        _LOAN_AFTER.match(text, end) or _LOAN_BEFORE.search(text[max(0, start - 12) : start])
    )


def _scan(text: str, *, lenient: bool) -> list[Span[int]]:
    """All amounts in ``text``; ``lenient`` also accepts bare numbers such as ``500000``."""
    spans: list[Span[int]] = []
    for match in _CANDIDATE.finditer(text):
        start = match.start()
        has_won = match.group("won") is not None
        expr = text[start : match.start("won")] if has_won else match.group(0)
        end = match.end()
        if not has_won:
            trimmed = _trim_particle(expr, text[end : end + 1])
            end -= len(expr) - len(trimmed)
            expr = trimmed
        if end < len(text) and text[end] in _CODE_NEIGHBOURS - {".", ","}:
            continue
        # A malformed run (30일오십만원) may still end in a good amount: drop atoms from the left.
        while expr:
            value = _money_value(expr)
            if value is not None:
                if _omits_man(expr, has_won) and (
                    _loan_context(text, start, end) or (lenient and not expr.isdigit())
                ):
                    # "삼백 정도 융통", or "오백이요" answering "얼마가 필요하세요?"
                    if not _vague(text[:start]):
                        spans.append(Span(start, end, text[start:end], value * _MAN))
                elif _acceptable(expr, has_won, text[:start], lenient=lenient):
                    spans.append(Span(start, end, text[start:end], value))
                break
            head = _ATOMS.match(expr)
            if head is None:
                break
            cut = head.end()
            while cut < len(expr) and expr[cut].isspace():
                cut += 1
            expr, start = expr[cut:], start + cut
    return drop_overlaps(spans)


def find_amounts(text: str) -> list[Span[int]]:
    """Money amounts mentioned in free text, in order, with their value in won."""
    return _scan(text, lenient=False)


def parse_amount(text: str) -> int | None:
    """The amount when the whole of ``text`` is an amount answer (``3백만원이요``), else ``None``.

    Particles and filler words around the number (원, 만, 이요, 정도, 빌려주세요 …) are tolerated;
    bare numbers (``500000``, ``오십만``) are accepted because the question gave the context.
    """
    spans = _scan(text, lenient=True)
    if len(spans) != 1:
        return None
    span = spans[0]
    residue = _PUNCT_SPACE.sub("", text[: span.start] + text[span.end :])
    if not _FILLER_RESIDUE.fullmatch(residue):
        return None
    return span.value
