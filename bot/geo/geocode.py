"""Offline geocoding of Korean addresses as people write them, to 행정동 / 시군구 / 시도 centres.

The centres are Statistics Korea's (SGIS, see ``admdong.tsv``). An address is read left to right:
an optional 시도 in any common form (서울, 서울시, 서울특별시, 경기, 충북 …), a 시군구 (남동구,
수원시 장안구, 수원시, or 장안구 alone when it is unique), then a 읍·면·동 anywhere after it or
in the parentheses of a road address (``인주대로 123 (만수동)``). People write the 법정동 (만수동)
while the centres are 행정동 (만수1동 … 만수6동): a 법정동 stands for the mean of the 행정동
named after it. ``geocode`` returns the finest level it matched, or None when not even a 시도
or 시군구 matched — an address is never guessed.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

DATA = Path(__file__).with_name("admdong.tsv")


class Level(StrEnum):
    """How precisely a place is known, finest first."""

    POINT = "point"  # coordinates given with the data
    DONG = "dong"  # 행정동 (or a 법정동: the mean of its 행정동), 읍, 면
    SIGUNGU = "sigungu"
    SIDO = "sido"


# Precision rank: lower is finer.
LEVEL_RANK = {Level.POINT: 0, Level.DONG: 1, Level.SIGUNGU: 2, Level.SIDO: 3}
LEVEL_LABELS = {
    Level.POINT: "좌표",
    Level.DONG: "읍·면·동",
    Level.SIGUNGU: "시·군·구",
    Level.SIDO: "시·도",
}


@dataclass(frozen=True, slots=True)
class Place:
    """Where an address was placed: the centre of ``name`` at ``level``."""

    lat: float
    lon: float
    level: Level
    name: str  # what matched, e.g. "인천광역시 남동구 만수동(만수1동~만수6동)"


@dataclass(frozen=True, slots=True)
class _Centre:
    code: str
    lat: float
    lon: float


# 시도: canonical key → spellings people use besides the full names in the data.
_SIDO_ALIASES: dict[str, tuple[str, ...]] = {
    "서울": ("서울", "서울시", "서울특별시"),
    "부산": ("부산", "부산시", "부산광역시"),
    "대구": ("대구", "대구시", "대구광역시"),
    "인천": ("인천", "인천시", "인천광역시"),
    "광주": ("광주", "광주시", "광주광역시"),
    "대전": ("대전", "대전시", "대전광역시"),
    "울산": ("울산", "울산시", "울산광역시"),
    "세종": ("세종", "세종시", "세종특별자치시"),
    "경기": ("경기", "경기도"),
    "강원": ("강원", "강원도", "강원특별자치도"),
    "충북": ("충북", "충청북도"),
    "충남": ("충남", "충청남도"),
    "전북": ("전북", "전라북도", "전북특별자치도"),
    "전남": ("전남", "전라남도"),
    "경북": ("경북", "경상북도"),
    "경남": ("경남", "경상남도"),
    "제주": ("제주", "제주도", "제주특별자치도"),
}
_SIDO_BY_SPELLING = {s: key for key, spellings in _SIDO_ALIASES.items() for s in spellings}

_PARENS = re.compile(r"[(\[（]([^)\]）]*)[)\]）]")
_SEPARATORS = re.compile(r"[,\s]+")
# A token that starts with a 읍·면·동·가 name and may run into a lot number: 만수동1012-3.
_PLACE_TOKEN = re.compile(r"^(\D\S*?(?:동|읍|면|가))(?:\d[\d-]*)?$")
_NUMBERED_GA = re.compile(r"^(.*?)(\d+)가$")


class Gazetteer:
    """The district centres, indexed the ways addresses name them."""

    def __init__(self, rows: Iterable[tuple[str, str, float, float]]) -> None:
        self._sido: dict[str, list[_Centre]] = defaultdict(list)
        self._sido_name: dict[str, str] = {}
        self._sido_code: dict[str, str] = {}
        # (sido key, 시군구 name) → centres; names include "수원시 장안구", "장안구" and "수원시".
        self._sigungu: dict[tuple[str, str], list[_Centre]] = defaultdict(list)
        self._sigungu_full: dict[tuple[str, str], set[str]] = defaultdict(set)
        # (sido key, full 시군구 name) → 행정동 name → centres.
        self._dongs: dict[tuple[str, str], dict[str, list[_Centre]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self._city_parts: dict[tuple[str, str], set[str]] = defaultdict(set)
        # Addresses repeat their 동: (sido key, 시군구, written 동) → place, filled on demand.
        self._dong_cache: dict[tuple[str, str, str], Place | None] = {}
        for code, name, lat, lon in rows:
            self._add(code, name, _Centre(code, lat, lon))
        # A city with 구 but no row of its own (수원시) is the mean of its 구.
        for (key, city), parts in self._city_parts.items():
            if (key, city) not in self._sigungu:
                for part in parts:
                    self._sigungu[(key, city)].extend(self._sigungu[(key, part)])
            self._sigungu_full[(key, city)] |= parts

    def _add(self, code: str, name: str, centre: _Centre) -> None:
        tokens = name.split()
        key = _SIDO_BY_SPELLING.get(tokens[0])
        if key is None:
            return
        # The data keeps renamed 시도 under old and new codes (강원도 42, 강원특별자치도 51): show
        # the newest name.
        if code[:2] >= self._sido_code.get(key, ""):
            self._sido_code[key], self._sido_name[key] = code[:2], tokens[0]
        if code[2:] == "00000000":
            self._sido[key].append(centre)
            return
        is_sigungu = code[5:] == "00000"
        sigungu_tokens = tokens[1:] if is_sigungu else tokens[1:-1]
        if not sigungu_tokens:  # 세종's 읍·면·동 sit directly under the 시도
            sigungu_tokens = [tokens[0]]
        sigungu = " ".join(sigungu_tokens)
        if is_sigungu:
            self._sigungu[(key, sigungu)].append(centre)
            self._sigungu_full[(key, sigungu)].add(sigungu)
            if len(sigungu_tokens) == 2:  # 수원시 장안구: also "장안구" and the city "수원시"
                self._sigungu[(key, sigungu_tokens[1])].append(centre)
                self._sigungu_full[(key, sigungu_tokens[1])].add(sigungu)
                self._city_parts[(key, sigungu_tokens[0])].add(sigungu)
            return
        self._dongs[(key, sigungu)][tokens[-1]].append(centre)

    def dong_centres(self, sido_keys: Iterable[str]) -> list[tuple[float, float]]:
        """(lat, lon) of every 읍·면·동 centre in the given 시도 (keys such as "서울")."""
        wanted = set(sido_keys)
        return [
            (c.lat, c.lon)
            for (key, _), dongs in self._dongs.items()
            if key in wanted
            for centres in dongs.values()
            for c in centres
        ]

    # --- lookup --------------------------------------------------------------------------

    def geocode(self, address: str) -> Place | None:
        """The finest place ``address`` names, or None when it names no 시도 or 시군구."""
        inside = " ".join(_PARENS.findall(address))
        tokens = [t for t in _SEPARATORS.split(_PARENS.sub(" ", address)) if t]
        extra = [t for t in _SEPARATORS.split(inside) if t]
        if not tokens:
            return None
        key = _SIDO_BY_SPELLING.get(tokens[0])
        keys = [key] if key else list(_SIDO_ALIASES)
        rest = tokens[1:] if key else tokens
        found = self._find_sigungu(keys, rest)
        if found is None and key is not None and (key, self._sido_name[key]) in self._sigungu:
            found = key, self._sido_name[key], rest  # 세종: no 시군구 between 시도 and 동
        if found is None:
            if key is None or not self._sido[key]:
                return None
            return self._place(self._sido[key], Level.SIDO, self._sido_name[key])
        sido_key, sigungu, after = found
        for token in [*after, *extra]:
            place = self._find_dong(sido_key, sigungu, token)
            if place is not None:
                return place
        return self._place(
            self._sigungu[(sido_key, sigungu)],
            Level.SIGUNGU,
            self._full_name(sido_key, sigungu),
        )

    def _find_sigungu(
        self, keys: list[str], tokens: list[str]
    ) -> tuple[str, str, list[str]] | None:
        """(sido key, 시군구 name, tokens after it) for the first 시군구 in the first tokens."""
        for start in range(min(2, len(tokens))):
            for width in (2, 1):
                name = " ".join(tokens[start : start + width])
                if len(tokens) < start + width:
                    continue
                matches = [k for k in keys if (k, name) in self._sigungu]
                if len(matches) > 1:  # 중구 without a 시도: let the 동 decide
                    after = tokens[start + width :]
                    matches = [k for k in matches if self._has_dong(k, name, after)] or []
                if len(matches) == 1:
                    return matches[0], name, tokens[start + width :]
        return None

    def _has_dong(self, key: str, sigungu: str, tokens: list[str]) -> bool:
        return any(self._find_dong(key, sigungu, t) is not None for t in tokens)

    def _find_dong(self, key: str, sigungu: str, token: str) -> Place | None:
        match = _PLACE_TOKEN.match(token)
        if match is None:
            return None
        written = match.group(1)
        cache_key = (key, sigungu, written)
        if cache_key not in self._dong_cache:
            self._dong_cache[cache_key] = self._lookup_dong(key, sigungu, written)
        return self._dong_cache[cache_key]

    def _lookup_dong(self, key: str, sigungu: str, written: str) -> Place | None:
        for full in sorted(self._sigungu_full[(key, sigungu)]):
            dongs = self._dongs.get((key, full))
            if not dongs:
                continue
            names = _matching_dongs(written, dongs)
            if names:
                centres = [c for n in names for c in dongs[n]]
                shown = names[0] if len(names) == 1 else f"{written}({names[0]}~{names[-1]})"
                return self._place(centres, Level.DONG, f"{self._full_name(key, full)} {shown}")
        return None

    def _full_name(self, key: str, sigungu: str) -> str:
        sido = self._sido_name[key]
        return sido if sigungu == sido else f"{sido} {sigungu}"

    @staticmethod
    def _place(centres: list[_Centre], level: Level, name: str) -> Place:
        # The data repeats a district under old and new codes; count each position once.
        unique = sorted({(c.lat, c.lon) for c in centres})
        lat = sum(p[0] for p in unique) / len(unique)
        lon = sum(p[1] for p in unique) / len(unique)
        return Place(round(lat, 6), round(lon, 6), level, name)


def _matching_dongs(written: str, dongs: dict[str, list[_Centre]]) -> list[str]:
    """행정동 names a written 읍·면·동 stands for: itself, or its numbered parts (만수1동)."""
    if written in dongs:
        return [written]
    if written.endswith("동"):
        base = re.escape(written[:-1])
        pattern = re.compile(rf"^{base}제?\d+(?:[.·,]\d+)*(?:가)?동$")
        return sorted((n for n in dongs if pattern.match(n)), key=_natural)
    ga = _NUMBERED_GA.match(written)
    if ga:  # 종로3가 → 종로1.2.3.4가동, 명륜3가 → 명륜3가동
        base, number = re.escape(ga.group(1)), ga.group(2)
        pattern = re.compile(rf"^{base}[\d.·,]*가동$")
        return sorted(
            (n for n in dongs if pattern.match(n) and number in re.findall(r"\d+", n)),
            key=_natural,
        )
    return []


def _natural(name: str) -> tuple[int, str]:
    digits = re.findall(r"\d+", name)
    return (int(digits[0]) if digits else 0, name)


def _read(path: Path) -> list[tuple[str, str, float, float]]:
    with path.open(encoding="utf-8", newline="") as f:
        lines = (line for line in f if not line.startswith("#"))
        return [
            (r["code"], r["name"], float(r["lat"]), float(r["lon"]))
            for r in csv.DictReader(lines, delimiter="\t")
        ]


@cache
def gazetteer() -> Gazetteer:
    """The shipped district centres, loaded once per process (about 30 ms)."""
    return Gazetteer(_read(DATA))


def geocode(address: str) -> Place | None:
    """The finest place ``address`` names (see the module docstring), or None."""
    return gazetteer().geocode(address)
