"""Convert the 행정동 centres from UTM-K (EPSG:5179) to WGS84 lat/lon for ``bot/geo/admdong.tsv``.

Run once when the source data is refreshed:

    .venv/bin/python scripts/convert_admdong.py ../shared/data/admdong_centroids_utmk.tsv

The source keeps its grid coordinates in the output, so ``tests/unit/test_geocode.py`` can check
every converted point against pyproj again.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from pyproj import Transformer

OUTPUT = Path(__file__).resolve().parent.parent / "bot" / "geo" / "admdong.tsv"
HEADER = (
    "# Centres of Korean administrative districts (시도, 시군구, 행정동), lat/lon (WGS84).\n"
    "# 출처: 통계청 SGIS 행정구역 경계(MDIS 인구 중심점), compiled by vuski/admdongkor "
    "(2024-10 snapshot);\n"
    "# converted from UTM-K (EPSG:5179) with pyproj by scripts/convert_admdong.py.\n"
)
UTMK_TO_WGS84 = Transformer.from_crs("EPSG:5179", "EPSG:4326", always_xy=True)


def convert(source: Path, output: Path = OUTPUT) -> int:
    """Write the converted table; returns the number of districts."""
    with source.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    xs = [float(r["X"]) for r in rows]
    ys = [float(r["Y"]) for r in rows]
    lons, lats = UTMK_TO_WGS84.transform(xs, ys)
    with output.open("w", encoding="utf-8", newline="") as f:
        f.write(HEADER)
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        writer.writerow(["code", "name", "x", "y", "lat", "lon"])
        for row, lat, lon in zip(rows, lats, lons, strict=True):
            writer.writerow(
                [row["ADMCD"], row["ADMNM"], row["X"], row["Y"], f"{lat:.6f}", f"{lon:.6f}"]
            )
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="admdong_centroids_utmk.tsv")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    count = convert(args.source, args.output)
    print(f"{count} districts written to {args.output}")


if __name__ == "__main__":
    main()
