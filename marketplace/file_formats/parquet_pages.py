"""How many values a Parquet column chunk's pages hold, read from their headers without decoding one.

The footer says so too (each column chunk's ``num_values``), but the reader decodes what the pages
declare: a footer edited to say 1 still decodes the 2,000,000 values its page holds. So the values a
chunk is held to are counted from its page headers (Thrift's compact protocol, ``parquet.thrift``'s
``PageHeader``), every page in the chunk's byte range, the one range the reader reads.
"""

from __future__ import annotations

import contextlib
import mmap
import re
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq

_DATA_PAGE, _DATA_PAGE_V2 = 0, 3
_PAGE_TYPE, _COMPRESSED_SIZE, _DATA_PAGE_HEADER, _DATA_PAGE_HEADER_V2 = 1, 3, 5, 8  # PageHeader's fields
_VALUES = 1  # DataPageHeader's and DataPageHeaderV2's num_values
# Thrift compact types.
_STOP, _TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = range(13)
_MAX_DEPTH = 32
# parquet-mr before 1.2.9 left a dictionary page's header out of the chunk's size, so Arrow reads up to
# 100 bytes past the chunk's range for such a writer: room for pages this count would not see.
_WRITER = re.compile(r"\s*(?P<application>.*?)\s*(?:version\s*(?P<version>\d+\.\d+\.\d+)?.*)?", re.I | re.S)
_FIXED_CHUNK_SIZES = (1, 2, 9)


class _CompactReader:
    """Thrift's compact protocol over ``buffer[position:end]``; ArrowInvalid when it runs past ``end``."""

    def __init__(self, buffer, position: int, end: int) -> None:
        self.buffer, self.position, self.end = buffer, position, end

    def byte(self) -> int:
        if self.position >= self.end:
            raise pa.ArrowInvalid("A parquet page header runs past its column chunk")
        value = self.buffer[self.position]
        self.position += 1
        return value

    def varint(self) -> int:
        value = 0
        for shift in range(0, 70, 7):
            byte = self.byte()
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
        raise pa.ArrowInvalid("A parquet page header holds a number too long to read")

    def integer(self) -> int:
        value = self.varint()
        return (value >> 1) ^ -(value & 1)

    def fields(self) -> Iterator[tuple[int, int]]:
        """The struct's (field id, type) in order; the caller reads or skips each value before the next."""
        field = 0
        while header := self.byte():
            kind = header & 0x0F
            field = field + (header >> 4) if header >> 4 else self.integer()
            yield field, kind

    def skip(self, kind: int, depth: int = 0, *, element: bool = False) -> None:
        if depth > _MAX_DEPTH:
            raise pa.ArrowInvalid("A parquet page header nests too deep")
        if kind in (_TRUE, _FALSE):
            self.position += 1 if element else 0  # a field's boolean is in its type; an element's is a byte
        elif kind in (_BYTE, _DOUBLE):
            self.position += 1 if kind == _BYTE else 8
        elif kind in (_I16, _I32, _I64):
            self.varint()
        elif kind == _BINARY:
            length = self.varint()  # read before the position it moves is added to
            self.position += length
        elif kind in (_LIST, _SET, _MAP):
            self._skip_container(kind, depth)
        elif kind == _STRUCT:
            for _, field_kind in self.fields():
                self.skip(field_kind, depth + 1)
        else:
            raise pa.ArrowInvalid("A parquet page header holds a value of unknown type")

    def _skip_container(self, kind: int, depth: int) -> None:
        if kind == _MAP:
            size = self.varint()
            kinds = divmod(self.byte(), 16) if size else ()
        else:
            header = self.byte()
            size = header >> 4 if header >> 4 != 15 else self.varint()
            kinds = (header & 0x0F,)
        for _ in range(size):
            for element_kind in kinds:
                self.skip(element_kind, depth + 1, element=True)


def _page_header(reader: _CompactReader) -> tuple[int, int, int]:
    """(page type, compressed size, values) of the page header at the reader's position."""
    page_type, compressed, values = None, None, 0
    for field, kind in reader.fields():
        if field in (_PAGE_TYPE, _COMPRESSED_SIZE) and kind == _I32:
            if field == _PAGE_TYPE:
                page_type = reader.integer()
            else:
                compressed = reader.integer()
        elif field in (_DATA_PAGE_HEADER, _DATA_PAGE_HEADER_V2) and kind == _STRUCT:
            for inner, inner_kind in reader.fields():
                if inner == _VALUES and inner_kind == _I32:
                    values = reader.integer()
                else:
                    reader.skip(inner_kind, 1)
        else:
            reader.skip(kind)
    if page_type is None or compressed is None or compressed < 0 or values < 0:
        raise pa.ArrowInvalid("A parquet page header is incomplete")
    return page_type, compressed, values


class ChunkPages(NamedTuple):
    """What the pages of a column chunk declare: its values (leaf entries, nulls and empty lists
    included), and the pages read to count them."""

    values: int
    pages: int


def chunk_pages(buffer, chunk: pq.ColumnChunkMetaData, *, max_pages: int) -> ChunkPages:
    """The values the pages of ``chunk`` declare, read from ``buffer`` (the whole file,
    ``file_buffer``); ArrowInvalid when a header cannot be read. Past ``max_pages`` pages the count
    stops (``pages`` is then ``max_pages + 1``): every header costs a Python loop."""
    start = chunk.data_page_offset
    if chunk.has_dictionary_page and 0 < (chunk.dictionary_page_offset or 0) < start:
        start = chunk.dictionary_page_offset
    end = start + chunk.total_compressed_size
    if start < 0 or chunk.total_compressed_size < 0 or end > len(buffer):
        raise pa.ArrowInvalid("A parquet column chunk lies outside the file")
    values, pages, position = 0, 0, start
    while position < end and pages <= max_pages:
        reader = _CompactReader(buffer, position, end)
        page_type, compressed, page_values = _page_header(reader)
        if page_type in (_DATA_PAGE, _DATA_PAGE_V2):
            values += page_values
        pages += 1
        position = reader.position + compressed
    return ChunkPages(values, pages)


def chunk_sizes_trusted(metadata: pq.FileMetaData) -> bool:
    """False for a file written by parquet-mr before 1.2.9, whose chunks Arrow reads past their size."""
    writer = _WRITER.fullmatch(metadata.created_by or "")
    if writer is None or writer["application"].lower() != "parquet-mr":
        return True
    version = tuple(int(part) for part in (writer["version"] or "0.0.0").split("."))
    return version >= _FIXED_CHUNK_SIZES


@contextlib.contextmanager
def file_buffer(source: bytes | Path) -> Iterator:
    """The file's bytes, indexable without reading a stored file into memory (mapped)."""
    if not isinstance(source, Path):
        yield memoryview(source)
        return
    with source.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        yield mapped
