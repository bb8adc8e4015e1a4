"""How well the offline geocoder places the addresses we have: the demo's and the tests'.

.venv/bin/python -m bench.geocode_hits
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from bot.demo.seed import build_demo_plan
from bot.geo.geocode import Level, geocode

ROOT = Path(__file__).resolve().parent.parent
ORDER = [str(Level.DONG), str(Level.SIGUNGU), str(Level.SIDO), "none"]


def levels(addresses: Iterable[str]) -> Counter[str]:
    found: Counter[str] = Counter()
    for address in addresses:
        place = geocode(address)
        found[str(place.level) if place else "none"] += 1
    return found


def show(label: str, counts: Counter[str]) -> None:
    total = sum(counts.values())
    parts = ", ".join(
        f"{level} {counts[level]:,} ({100 * counts[level] / total:.1f} %)" for level in ORDER
    )
    print(f"{label} ({total:,}): {parts}")


def main() -> None:
    plan = build_demo_plan(today=date(2026, 11, 25))
    show("demo policyholders", levels(h["address"] for h in plan.holders))
    show("demo employees' homes", levels(e["home_address"] for e in plan.employees))
    files = []
    for name in ("policyholders.csv", "policyholders_bad.csv"):
        with (ROOT / "tests" / "data" / name).open(encoding="utf-8-sig") as f:
            files += [row["address"] for row in csv.DictReader(f)]
    show("tests/data policyholder addresses", levels(files))
    from tests.unit.test_geocode import ADDRESSES

    show("the geocoder's test table", levels(a for a, *_ in ADDRESSES))


if __name__ == "__main__":
    main()
