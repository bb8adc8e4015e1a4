"""Where an event takes place, found in a whole message (인천 연수구 송도동으로 이사 가요).

DIET tags ``place`` spans it learned; this finds the addresses and venues most messages use,
so that a message that says everything at once fills the place too. Only the standard library
is used: the app imports this module.
"""

import re

from nlu.relations import find_relations
from nlu.spans import Span

_REGIONS = frozenset(
    "서울 인천 부산 대구 광주 대전 울산 세종 경기 강원 충북 충남 전북 전남 경북 경남 제주 "
    "수원 성남 고양 용인 부천 안산 안양 남양주 화성 평택 의정부 시흥 파주 김포 광명 하남 "
    "송도 청라 분당 일산 판교 강남 강북 강서 강동 영종 동탄 검단".split()
)
_SHORT_DISTRICTS = frozenset({"중구", "동구", "서구", "남구", "북구"})
_ADMIN = re.compile(r"[가-힣]{2,}(?:특별시|광역시|시|군|구|읍|면|동|리|[0-9]+가)")
# After an address word, a short one continues it (부천 상동, 인천 중구).
_NEAR = frozenset({"쪽", "근처", "부근", "인근", "앞", "옆"})
_SHORT_ADMIN = re.compile(r"[가-힣]{1,2}(?:동|구|읍|면|리)")
# -도 names: provinces and islands (엄마도, 정도 are no places).
_DO_PLACES = frozenset(
    "경기도 강원도 충청북도 충청남도 전라북도 전라남도 경상북도 경상남도 제주도 영종도 여의도 "
    "강화도 거제도 울릉도 안면도 대부도 백령도 진도 완도 송도".split()
)
_VENUES = (
    "장례식장",
    "병원",
    "의료원",
    "웨딩홀",
    "웨딩",
    "예식장",
    "컨벤션",
    "컨벤시아",
    "호텔",
    "성당",
    "교회",
    "회관",
    "센터",
    "아파트",
    "빌라",
    "오피스텔",
    "타워",
    "홀",
)
# Words that end like an address but are not one.
_NOT_PLACES = frozenset(
    "친구 가구 도구 연구 요구 입구 출구 활동 운동 자동 이동 행동 감동 부동 혹시 다시 역시 동시 "
    "정도 제도 속도 용도 온도 태도 시도 의도 지도 보호 이모부 고모부 아무리 가리 거리 머리 "
    "자리 소리 정리 처리 관리 요리 우리 미리 빨리 따로 거리로".split()
)
_FUNCTION_WORDS = frozenset(
    "그 이 저 거기 여기 저기 그곳 이곳 어디 좀 꼭 바로 같은 큰 작은 새".split()
)
_PARTICLE = re.compile(
    r"(?:쪽으로|으로|로|에서|에서요|에|까지|쪽|근처|부근|이요|요|이에요|예요|입니다|이고|인데|"
    r"이랑|하고|은|는|이|가|도|을|를|의)$"
)


def _bare(token: str) -> tuple[str, bool]:
    """The token without a trailing particle, and whether it had one (여의도 keeps its 도)."""
    if _is_place(token):
        return token, False
    stripped = _PARTICLE.sub("", token)
    return (stripped, stripped != token) if len(stripped) >= 2 else (token, False)


def _is_place(word: str) -> bool:
    if word in _NOT_PLACES:
        return False
    if word in _REGIONS or word in _SHORT_DISTRICTS or word in _DO_PLACES:
        return True
    if _ADMIN.fullmatch(word) and len(word) >= 3:
        return True
    return any(word.endswith(v) and len(word) > len(v) for v in _VENUES)


def _is_venue(word: str) -> bool:
    return any(word.endswith(v) for v in _VENUES)


def find_place(text: str) -> Span[str] | None:
    """The longest run of address or venue words in ``text`` (particles cut off), or None.

    A bare venue word also takes the name words just before it (강남 더채플 웨딩홀).
    """
    tokens = [(m.start(), m.group(0)) for m in re.finditer(r"\S+", text)]
    runs: list[tuple[int, int]] = []
    start: int | None = None
    end = 0
    for index, (offset, token) in enumerate(tokens):
        word, had_particle = _bare(token.strip(".,!?~"))
        continues = start is not None and (
            _is_venue(word)
            or word in _NEAR
            or (bool(_SHORT_ADMIN.fullmatch(word)) and word not in _NOT_PLACES)
        )
        placey = _is_place(word) or continues
        if start is None and word in _VENUES:  # 웨딩홀 alone: its name comes before it
            # A venue with its name before it: up to two plain words that carry no particle.
            names = 0
            while names < 2 and index - names - 1 >= 0:
                before = tokens[index - names - 1][1]
                if (
                    _bare(before)[1]
                    or not re.fullmatch(r"[가-힣A-Za-z0-9]+", before)
                    or before in _FUNCTION_WORDS
                    or find_relations(before)
                ):
                    break
                names += 1
            if names:
                placey, start = True, tokens[index - names][0]
        if placey:
            if start is None:
                start = offset
            end = offset + len(word)
            if had_particle:
                runs.append((start, end))
                start = None
        elif start is not None:
            runs.append((start, end))
            start = None
    if start is not None:
        runs.append((start, end))
    if not runs:
        return None
    first, last = max(runs, key=lambda r: r[1] - r[0])
    return Span(first, last, text[first:last], text[first:last])
