"""CSV output that spreadsheets cannot turn into formulas (CSV injection)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

# Cells starting with these are read as formulas by Excel, LibreOffice and Google Sheets.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
UTF8_BOM = "\ufeff"  # so Excel opens Hangul as UTF-8


def neutralise(cell: object) -> str:
    """Prefix a cell that would start a formula with an apostrophe, so it stays text."""
    text = "" if cell is None else str(cell)
    if text.startswith(_FORMULA_START) or text.lstrip(" \n").startswith(_FORMULA_START):
        return "'" + text
    return text


def csv_line(cells: Iterable[object]) -> str:
    """One CSV line with every cell neutralised."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([neutralise(c) for c in cells])
    return buffer.getvalue()
