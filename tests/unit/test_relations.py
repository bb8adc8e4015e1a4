"""Kinship words → relation codes, and who may use the partner services."""

import pytest

from nlu.relations import (
    ELIGIBLE_RELATIONS,
    RELATION_LABELS,
    find_relations,
    is_eligible,
    relation_code,
)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("본인", "self"),
        ("본인이요", "self"),
        ("저요", "self"),
        ("저예요", "self"),
        ("제가 이사해요", "self"),
        ("나", "self"),
        ("아버지요", "father"),
        ("아빠", "father"),
        ("우리아빠요", "father"),
        ("부친", "father"),
        ("어머니", "mother"),
        ("엄마요", "mother"),
        ("모친입니다", "mother"),
        ("친정엄마요", "mother"),
        ("부모님", "parents"),
        ("아들", "son"),
        ("큰아들이요", "son"),
        ("딸", "daughter"),
        ("딸이요", "daughter"),
        ("막내딸", "daughter"),
        ("자녀", "child"),
        ("애요", "child"),
        ("할아버지", "grandfather"),
        ("외할아버지요", "grandfather"),
        ("할머니", "grandmother"),
        ("외할머니", "grandmother"),
        ("손자", "grandchild"),
        ("손녀요", "grandchild"),
        ("남편", "spouse"),
        ("아내", "spouse"),
        ("와이프요", "spouse"),
        ("배우자", "spouse"),
        ("형", "sibling"),
        ("누나요", "sibling"),
        ("오빠", "sibling"),
        ("언니", "sibling"),
        ("동생이요", "sibling"),
        ("남동생", "sibling"),
        ("시아버지예요", "in_law"),
        ("시어머니", "in_law"),
        ("장인어른", "in_law"),
        ("장모님이요", "in_law"),
        ("사위요", "in_law"),
        ("며느리가요", "in_law"),
        ("처제", "in_law"),
        ("시부모님이요", "in_law"),
        ("사돈", "in_law"),
        ("형부요", "in_law"),
        ("친구요", "other"),
        ("회사 동료요", "other"),
        ("이웃이에요", "other"),
        ("큰아버지", "relative"),
        ("삼촌", "relative"),
        ("외삼촌이요", "relative"),
        ("조카", "relative"),
        ("이모가요", "relative"),
        ("고모", "relative"),
        ("사촌동생이요", "relative"),
        ("계모", "relative"),
        ("저희 장모님 장례요", "in_law"),
        ("조카딸 결혼식이요", "relative"),
        ("저희 어머니 장례요", "mother"),
        ("제 딸 결혼식이요", "daughter"),
    ],
)
def test_relation_code(text: str, code: str) -> None:
    assert relation_code(text) == code


@pytest.mark.parametrize(
    "text",
    [
        "",
        "네",
        "딸기 주세요",
        "저녁 먹었어요",
        "형태가 이상해요",
        "나중에요",
        "김철수요",
        "보험료 얼마 나가요",
        "언제 나와요",
    ],
)
def test_no_relation(text: str) -> None:
    assert relation_code(text) is None


def test_find_relations_offsets() -> None:
    text = "이달30일 우리아빠 생일이고 시어머니도 오세요"
    spans = find_relations(text)
    assert [(s.text, s.value) for s in spans] == [("아빠", "father"), ("시어머니", "in_law")]
    for span in spans:
        assert text[span.start : span.end] == span.text


def test_eligibility_is_lineal_family() -> None:
    assert ELIGIBLE_RELATIONS == {
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
    assert is_eligible("father")
    assert not is_eligible("spouse")
    assert not is_eligible("sibling")
    assert not is_eligible("other")
    assert not is_eligible("in_law")
    assert not is_eligible("relative")


def test_every_code_has_a_korean_label() -> None:
    assert RELATION_LABELS["self"] == "본인"
    assert RELATION_LABELS["father"] == "아버지"
    assert RELATION_LABELS["other"] == "기타"
    assert ELIGIBLE_RELATIONS <= RELATION_LABELS.keys()
    assert {"spouse", "sibling", "in_law", "relative", "other"} <= RELATION_LABELS.keys()
