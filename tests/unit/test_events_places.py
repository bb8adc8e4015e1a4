"""Event words (which booking a message states), places in a whole message, cancellations."""

import pytest

from bot.actions.common import is_cancellation
from nlu.events import booking_event
from nlu.places import find_place


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("이달 30일에 아빠 이사해요", "moving"),
        ("다음주에 포장이사 해요", "moving"),
        ("딸이 내년 3월에 결혼해요", "wedding"),
        ("아들 예식이 다음달이에요", "wedding"),
        ("아버지가 돌아가셨어요", "funeral"),
        ("외삼촌 상을 당했어요", "funeral"),
        ("모친상 중이에요", "funeral"),
        ("내일 발인이에요", "funeral"),
        ("이사님 연락처 알려주세요", None),
        ("결혼기념일 선물 추천해 주세요", None),
        ("상품 설명해 주세요", None),
        ("보험료 얼마예요", None),
    ],
)
def test_booking_event(text: str, kind: str | None) -> None:
    assert booking_event(text) == kind


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("12월 12일에 우리 엄마가 인천 연수구 송도동으로 이사 가요", "인천 연수구 송도동"),
        ("할머니 장례를 모레 인천적십자병원 장례식장에서 치러요", "인천적십자병원 장례식장"),
        ("강남 더채플 웨딩홀", "강남 더채플 웨딩홀"),
        ("서울 여의도 웨딩홀이요", "서울 여의도 웨딩홀"),
        ("제가 더채플 웨딩홀에서 결혼해요", "더채플 웨딩홀"),
        ("인천 남동구 만수동에서 서구로 가요", "인천 남동구 만수동"),
        ("이달 30일에 아빠 이사해요", None),
        ("장례식장 예약하고 싶어요", None),
        ("친구 결혼식에 가요", None),
        ("정도가 심해요", None),
    ],
)
def test_find_place(text: str, place: str | None) -> None:
    found = find_place(text)
    assert (found.text if found else None) == place
    if found:
        assert text[found.start : found.end] == found.text


@pytest.mark.parametrize(
    "text",
    [
        "관둘게요",
        "그만할게요",
        "취소할게요",
        "접수하지 말아 주세요",
        "신청 철회할게요",
        "안 할래요",
        "필요 없어요",
        "다음에 할게요",
        "없던 걸로 해 주세요",
        "예약 안 해도 돼요",
    ],
)
def test_cancellations(text: str) -> None:
    assert is_cancellation(text)


@pytest.mark.parametrize(
    "text",
    [
        "네",
        "아들이요",
        "다음주 토요일",
        "인천 서구 청라동",
        "해지를 취소했는데 보험료가 또 빠져나갔어요 확인 좀 해 주세요",
    ],
)
def test_not_cancellations(text: str) -> None:
    assert not is_cancellation(text)
