"""Whose event is it? Korean kinship words → relation codes, and who is eligible.

Partner services (moving, funeral, wedding) are for the policyholder and lineal family
(직계존비속); spouses, siblings, in-laws (``in_law``: 장모, 시아버지, 사위 …), other kin
(``relative``: 조카, 삼촌, 이모 …) and everyone else (``other``: 친구, 지인 …) are not. Only the standard library is used:
the app imports this module too.
"""

import re

from nlu.spans import Span, drop_overlaps

RELATION_LABELS: dict[str, str] = {
    "self": "본인",
    "father": "아버지",
    "mother": "어머니",
    "parents": "부모님",
    "son": "아들",
    "daughter": "딸",
    "child": "자녀",
    "grandfather": "할아버지",
    "grandmother": "할머니",
    "grandchild": "손자녀",
    "spouse": "배우자",
    "sibling": "형제자매",
    "in_law": "배우자 쪽 가족",
    "relative": "친척",
    "other": "기타",
}

ELIGIBLE_RELATIONS: frozenset[str] = frozenset(
    {
        "self",
        "father",
        "mother",
        "parents",
        "son",
        "daughter",
        "child",
        "grandfather",
        "grandmother",
        "grandchild",
    }
)

_WORDS: dict[str, tuple[str, ...]] = {
    "self": ("본인", "저", "제가", "나", "내가", "저 자신", "제 자신", "나 자신", "당사자"),
    "father": ("아버지", "아버님", "아빠", "부친", "친정아버지", "친정아빠", "아부지"),
    "mother": ("어머니", "어머님", "엄마", "모친", "친정엄마", "친정어머니", "어무이", "울엄마"),
    "parents": ("부모님", "부모", "양친", "엄마아빠", "엄마 아빠", "아빠엄마", "친정부모님"),
    "son": ("아들", "아드님", "큰아들", "작은아들", "막내아들", "장남", "차남"),
    "daughter": ("딸", "따님", "큰딸", "작은딸", "막내딸", "딸내미", "딸래미", "장녀", "차녀"),
    "child": ("자녀", "자식", "애", "아이", "애기", "아기", "애들", "아이들", "막내"),
    "grandfather": ("할아버지", "할아버님", "외할아버지", "친할아버지", "조부", "증조할아버지"),
    "grandmother": ("할머니", "할머님", "외할머니", "친할머니", "조모", "증조할머니"),
    "grandchild": ("손자", "손녀", "손주", "외손자", "외손녀", "손자녀"),
    "spouse": (
        "남편",
        "아내",
        "와이프",
        "배우자",
        "집사람",
        "신랑",
        "부인",
        "안사람",
        "바깥양반",
    ),
    "sibling": (
        "형",
        "형님",
        "누나",
        "오빠",
        "언니",
        "동생",
        "남동생",
        "여동생",
        "형제",
        "자매",
        "남매",
        "막냇동생",
    ),
    # In-laws (인척): by marriage, not lineal.
    "in_law": (
        "시아버지",
        "시아버님",
        "시어머니",
        "시어머님",
        "시부모님",
        "시부모",
        "시댁",
        "장인",
        "장인어른",
        "장인어르신",
        "장모",
        "장모님",
        "처가",
        "처부모님",
        "사위",
        "며느리",
        "며늘아기",
        "처남",
        "처제",
        "처형",
        "시누이",
        "시누",
        "시동생",
        "시아주버니",
        "아주버님",
        "도련님",
        "동서",
        "형수",
        "형수님",
        "제수",
        "제수씨",
        "매형",
        "매제",
        "매부",
        "올케",
        "형부",
        "제부",
        "사돈",
        "사부인",
        "사돈어른",
        "시조부모님",
        "시할머니",
        "시할아버지",
        "처조부",
        "처할머니",
        "처할아버지",
    ),
    # Other kin (방계 and step-family).
    "relative": (
        "큰아버지",
        "큰아버님",
        "작은아버지",
        "작은아버님",
        "큰어머니",
        "작은어머니",
        "백부",
        "숙부",
        "새아버지",
        "새엄마",
        "새어머니",
        "계부",
        "계모",
        "의붓아버지",
        "의붓어머니",
        "삼촌",
        "외삼촌",
        "작은삼촌",
        "큰삼촌",
        "이모",
        "고모",
        "이모부",
        "고모부",
        "숙모",
        "외숙모",
        "당숙",
        "사촌",
        "사촌형",
        "사촌동생",
        "사촌언니",
        "사촌오빠",
        "사촌누나",
        "육촌",
        "조카",
        "조카딸",
        "조카며느리",
        "조카사위",
        "외조카",
        "친척",
        "종손",
        "고모할머니",
        "이모할머니",
        "큰할아버지",
        "작은할아버지",
    ),
    "other": (
        "친구",
        "지인",
        "이웃",
        "동료",
        "직장동료",
        "회사동료",
        "선배",
        "후배",
        "여자친구",
        "남자친구",
        "여친",
        "남친",
        "동창",
        "은사",
        "스승",
        "부하직원",
        "옆집",
        "아는 분",
        "아는 사람",
    ),
}

_CODE_BY_WORD: dict[str, str] = {w: code for code, words in _WORDS.items() for w in words}
_CODE_BY_KEY: dict[str, str] = {w.replace(" ", ""): code for w, code in _CODE_BY_WORD.items()}

# Short words are only kinship words when they stand alone (딸기, 형태, 저녁, 나중, 애프터 are not).
_STANDALONE = {"저", "나", "애", "형", "딸", "제가", "내가", "막내", "부인", "장인", "자매"}
_PARTICLES = (
    "이요|예요|이에요|입니다|이고|인데|이랑|랑|하고|께서|한테|에게|께|님|네|들|이|가|은|는|을|를|"
    "의|도|만|요|와|과|도요|이가|분|쪽"
)
_LEFT_OK = ("우리", "울", "제", "내", "저희", "나의", "저의", "랑", "와", "과", "하고", "및", "네")
_HANGUL = re.compile(r"[가-힣]")
_WORD_RE = re.compile(
    "|".join(
        re.escape(w).replace("\\ ", r"\s?") for w in sorted(_CODE_BY_WORD, key=len, reverse=True)
    )
)
# 나가요, 나와요, 나이가: after 나 these are verb or noun endings, not particles.
_NA_VERB = re.compile(r"(?:가|와|요|이|서|갔|왔|을|ㄴ)")
_RIGHT_OK = re.compile(rf"(?:{_PARTICLES})*(?![가-힣])")


def _left_ok(text: str, start: int) -> bool:
    """Whether a kinship word may start here: a word start, 우리아빠, or 엄마랑아빠."""
    if start == 0 or not _HANGUL.match(text[start - 1]):
        return True
    return text[:start].endswith(_LEFT_OK)


def find_relations(text: str) -> list[Span[str]]:
    """Kinship words in ``text`` with their relation code, in order."""
    spans: list[Span[str]] = []
    for start in range(len(text)):
        match = _WORD_RE.match(text, start)
        if match is None or not _left_ok(text, start):
            continue
        word = match.group(0)
        key = re.sub(r"\s", "", word)
        code = _CODE_BY_KEY[key]
        if key in _STANDALONE and not _RIGHT_OK.match(text, match.end()):
            continue
        if key == "나" and _NA_VERB.match(text, match.end()):
            continue
        spans.append(Span(start, match.end(), word, code))
    return drop_overlaps(spans)


def relation_code(text: str) -> str | None:
    """The relation code ``text`` names (``시아버지예요`` → ``other``), or ``None`` if none.

    When several relations are named, a family member wins over the speaker (``제 아버지`` is
    the father) and the first family member mentioned is taken.
    """
    spans = find_relations(text)
    if not spans:
        return None
    others = [s for s in spans if s.value != "self"]
    return (others or spans)[0].value


def is_eligible(code: str) -> bool:
    """Whether ``code`` is the policyholder or lineal family (직계존비속)."""
    return code in ELIGIBLE_RELATIONS
