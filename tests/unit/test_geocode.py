"""Offline geocoding: addresses as people write them, the shipped centres, plane distances."""

from __future__ import annotations

import csv
import math

import pytest
from pyproj import Transformer

from bot.geo.distance import distance_km, distance_m
from bot.geo.geocode import DATA, Level, geocode

# (address, level, name of what matched, (lat, lon) expected within 0.01°, or None to skip)
ADDRESSES: list[tuple[str, Level, str, tuple[float, float] | None]] = [
    # Lot addresses with the 법정동: the mean of its 행정동 (만수1동 … 만수6동).
    (
        "인천 남동구 만수동 주공아파트 107동 502호",
        Level.DONG,
        "인천광역시 남동구 만수동(만수1동~만수6동)",
        (37.456, 126.733),
    ),
    ("인천광역시 남동구 만수동 1012-3 그린빌라 201호", Level.DONG, "만수동(만수1동~만수6동)", None),
    ("인천시 남동구 만수동1012-3", Level.DONG, "만수동(만수1동~만수6동)", None),
    # The 행정동 itself.
    ("인천광역시 남동구 만수1동", Level.DONG, "인천광역시 남동구 만수1동", (37.4515, 126.7325)),
    ("서울특별시 강서구 화곡동 1052", Level.DONG, "화곡동(화곡제1동~화곡제8동)", None),
    ("서울 양천구 목동 905 목동신시가지아파트", Level.DONG, "목동(목1동~목제6동)", None),
    ("서울 종로구 종로3가 11", Level.DONG, "서울특별시 종로구 종로1.2.3.4가동", None),
    # Abbreviated 시도, or none at all when the 시군구 is unique.
    ("서울시 강남구 대치동 316", Level.DONG, "서울특별시 강남구 대치동(대치1동~대치4동)", None),
    ("경기 부천시 중동 푸르지오 101동 1502호", Level.DONG, "경기도 부천시 중동", None),
    ("부천시 상동 535", Level.DONG, "경기도 부천시 상동", None),
    ("남동구 구월동 1130", Level.DONG, "인천광역시 남동구 구월동(구월1동~구월4동)", None),
    (
        "충북 청주시 흥덕구 복대동 3376",
        Level.DONG,
        "충청북도 청주시 흥덕구 복대동(복대1동~복대2동)",
        None,
    ),
    ("전북 전주시 완산구 효자동3가", Level.SIGUNGU, "전주시 완산구", None),
    ("제주 제주시 연동 312-1", Level.DONG, "제주특별자치도 제주시 연동", None),
    ("강원 춘천시 효자동", Level.DONG, "강원특별자치도 춘천시 효자동(효자1동~효자3동)", None),
    # A city with 구, written with or without its 구.
    (
        "경기도 수원시 영통구 매탄동 111",
        Level.DONG,
        "경기도 수원시 영통구 매탄동(매탄1동~매탄4동)",
        None,
    ),
    ("경기 수원시 매탄동", Level.DONG, "경기도 수원시 영통구 매탄동(매탄1동~매탄4동)", None),
    ("경기 수원시", Level.SIGUNGU, "경기도 수원시", (37.28, 127.01)),
    # 세종 has no 시군구 between the 시도 and the 동.
    ("세종시 조치원읍 침산리 123", Level.DONG, "세종특별자치시 조치원읍", None),
    # Road addresses: the 동 in the parentheses, else the 시군구.
    (
        "인천광역시 남동구 인주대로 593 (구월동, 롯데백화점)",
        Level.DONG,
        "구월동(구월1동~구월4동)",
        None,
    ),
    ("세종특별자치시 한누리대로 2130 (보람동)", Level.DONG, "세종특별자치시 보람동", None),
    ("서울 강남구 테헤란로 152", Level.SIGUNGU, "서울특별시 강남구", (37.50, 127.06)),
    # 읍·면.
    ("인천 강화군 강화읍 관청리 100", Level.DONG, "인천광역시 강화군 강화읍", None),
    ("경기 양평군 양서면 양수리", Level.DONG, "경기도 양평군 양서면", None),
    # A 법정동 whose 행정동 is named otherwise (여의도동 → 여의동): the 시군구, never a guess.
    ("서울 영등포구 여의도동 60", Level.SIGUNGU, "서울특별시 영등포구", None),
    # A 시도 alone.
    ("인천", Level.SIDO, "인천광역시", None),
]


@pytest.mark.parametrize(("address", "level", "name", "near"), ADDRESSES)
def test_addresses_as_people_write_them(
    address: str, level: Level, name: str, near: tuple[float, float] | None
) -> None:
    place = geocode(address)

    assert place is not None, address
    assert place.level == level, (address, place)
    assert name in place.name, (address, place)
    if near is not None:
        assert abs(place.lat - near[0]) < 0.01 and abs(place.lon - near[1]) < 0.01, place


@pytest.mark.parametrize(
    "address",
    [
        "",
        "주소 미상",
        "대한민국 어딘가 123",
        "Seoul Gangnam-gu",
    ],
)
def test_an_address_that_names_nothing_is_not_guessed(address: str) -> None:
    assert geocode(address) is None


def test_an_ambiguous_sigungu_is_settled_by_its_dong_or_not_at_all() -> None:
    # Six cities have a 중구; only 인천's has a 신포동.
    incheon = geocode("중구 신포동 15")
    assert incheon is not None and incheon.name == "인천광역시 중구 신포동"
    assert geocode("중구 어딘가로 5") is None


def test_the_shipped_centres_are_the_source_grid_converted_and_name_their_source() -> None:
    with DATA.open(encoding="utf-8") as f:
        header = [next(f) for _ in range(3)]
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert any("SGIS" in line and "통계청" in line for line in header)
    assert len(rows) == 5139
    transformer = Transformer.from_crs("EPSG:5179", "EPSG:4326", always_xy=True)
    lons, lats = transformer.transform([float(r["x"]) for r in rows], [float(r["y"]) for r in rows])
    for row, lat, lon in zip(rows, lats, lons, strict=True):
        assert abs(float(row["lat"]) - lat) < 2e-6 and abs(float(row["lon"]) - lon) < 2e-6, row
    city_hall = next(r for r in rows if r["name"] == "서울특별시")
    assert (
        abs(float(city_hall["lat"]) - 37.55) < 0.05 and abs(float(city_hall["lon"]) - 126.99) < 0.05
    )


def _haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


@pytest.mark.parametrize(
    ("a", "b", "tolerance"),
    [
        ((37.4558, 126.7331), (37.4499, 126.7114), 0.01),  # 만수동 → 구월동, 인천
        ((37.5665, 126.9780), (37.4563, 126.7052), 0.01),  # 서울시청 → 인천시청
        ((35.1796, 129.0756), (35.1587, 129.1604), 0.02),  # 부산 서면 → 해운대
        ((33.4996, 126.5312), (33.2541, 126.5600), 0.02),  # 제주시 → 서귀포
    ],
)
def test_plane_distance_is_close_to_the_great_circle(
    a: tuple[float, float], b: tuple[float, float], tolerance: float
) -> None:
    exact = _haversine_m(a, b)
    assert abs(distance_m(a, b) - exact) / exact < tolerance
    assert distance_km(a, b) == pytest.approx(distance_m(a, b) / 1000)
