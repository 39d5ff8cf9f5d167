"""CSV dataset files: UTF-8 text with a header of non-empty names and rows of its width."""

from __future__ import annotations

import csv
import io

from marketplace.file_formats.limits import TableLimits
from marketplace.file_formats.recognition import OtherFormatError


def csv_rows_check(data: bytes, limits: TableLimits) -> None:
    """UTF-8 text with a header of non-empty names and rows of its width (``OtherFormatError``
    otherwise), within the caps: the header's width is checked first, rows as they are read."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise OtherFormatError from None
    if "\x00" in text:
        raise OtherFormatError
    try:
        rows = (row for row in csv.reader(io.StringIO(text)) if row)
        header = next(rows, None)
        if header is None or not all(cell.strip() for cell in header):
            raise OtherFormatError
        limits.check_columns(len(header))
        count = 0
        for row in rows:
            if len(row) != len(header):
                raise OtherFormatError
            count += 1
            limits.check_rows(count)
    except csv.Error:
        raise OtherFormatError from None
    if count == 0:
        raise OtherFormatError
