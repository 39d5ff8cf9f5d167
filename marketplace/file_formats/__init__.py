"""Dataset files: recognise CSV, JSON and Parquet by their bytes, read them, convert between them.

The format of an uploaded file is decided by its content, never its name or declared type:
Parquet by its ``PAR1`` magic at both ends, JSON by parsing (an array of objects, or one object
per line), CSV by parsing UTF-8 text with a header and rows of the same width. Anything else is
refused. Tables go through pyarrow, which also infers the column types. An upload is held to the
row and column caps while it is read (``dataset_file_summary``), never after.

The parts, each importing only those listed before it:

- ``recognition``: the formats' names, content types and extensions, and Parquet's magic;
- ``limits``: the caps every reader is held to (rows and columns, and the bytes a Parquet file
  decodes to, bounded before decoding and counted while, the one way every reader does);
- ``parquet_pages``: the values and pages of a Parquet column chunk, read from its pages' headers;
- ``values``: values as JSON holds them (finite numbers, durations as seconds);
- ``json_format``, ``csv_format``, ``parquet_format``: reading each format within the caps
  (``parquet_batches`` is the one reader of a Parquet dataset file, training's included);
- ``conversion``: a stored file read whole, a table written in any format;
- ``summary``: what an uploaded file holds (format, rows, inferred schema, preview);
- ``sizes``: ``1.5 MB`` style sizes.

Callers import from here.
"""

from marketplace.file_formats.conversion import read_table, write_table
from marketplace.file_formats.json_format import MAX_JSON_FILE_DEPTH, RECORDS_PER_CHUNK
from marketplace.file_formats.limits import TableLimits
from marketplace.file_formats.parquet_format import PARQUET_BATCH_ROWS, parquet_batches
from marketplace.file_formats.recognition import CONTENT_TYPES, EXTENSIONS, PARQUET_MAGIC
from marketplace.file_formats.sizes import human_size
from marketplace.file_formats.summary import TableSummary, dataset_file_summary
from marketplace.file_formats.values import table_records

__all__ = [
    "CONTENT_TYPES",
    "EXTENSIONS",
    "MAX_JSON_FILE_DEPTH",
    "PARQUET_BATCH_ROWS",
    "PARQUET_MAGIC",
    "RECORDS_PER_CHUNK",
    "TableLimits",
    "TableSummary",
    "dataset_file_summary",
    "human_size",
    "parquet_batches",
    "read_table",
    "table_records",
    "write_table",
]
