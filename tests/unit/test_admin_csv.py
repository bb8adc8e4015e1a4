"""CSV injection: cells that a spreadsheet would run as formulas are neutralised."""

import csv
import io

import pytest

from bot.services.csv_safe import csv_line, neutralise


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+82 10", "'+82 10"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("  =1+1", "'  =1+1"),
        ("약관대출받고싶어요", "약관대출받고싶어요"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (42, "42"),
    ],
)
def test_neutralise(cell: object, expected: str) -> None:
    assert neutralise(cell) == expected


def test_csv_line_quotes_and_neutralises_every_cell() -> None:
    line = csv_line(["=cmd|' /C calc'!A0", '따옴표 "안" 쉼표,', 3])
    assert line.endswith("\r\n")
    assert next(csv.reader(io.StringIO(line))) == ["'=cmd|' /C calc'!A0", '따옴표 "안" 쉼표,', "3"]
