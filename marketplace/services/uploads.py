"""Uploaded files: checked by their content, stored by CID, datasets given an inferred schema."""

from __future__ import annotations

from typing import IO

import orjson

from core import errors, storage
from marketplace import conf
from marketplace.errors import UNSUPPORTED_FILE
from marketplace.models import Upload
from marketplace.services.dataset_schema import MAX_FIELDS, schema_validate
from marketplace.services.file_formats import CONTENT_TYPES, TableLimits, dataset_file_summary

# An uploaded dataset is held to the caps of a generated one: rows as a generation config, columns
# as a schema.
UPLOAD_LIMITS = TableLimits(max_rows=conf.MAX_DATASET_ROWS, max_columns=MAX_FIELDS)


def _json_document(data: bytes):
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        raise UNSUPPORTED_FILE("The file is not JSON")


def _check_schema_file(data: bytes) -> list[dict]:
    document = _json_document(data)
    if isinstance(document, dict) and "schema" in document:
        document = document["schema"]
    return schema_validate(document, field="file")


def _check_template_file(data: bytes) -> list[dict]:
    document = _json_document(data)
    if not isinstance(document, dict) or not isinstance(document.get("name"), str) or not document["name"].strip():
        raise errors.VALIDATION(
            "A template file is a JSON object with a name and a schema", details={"file": ["name required"]}
        )
    return schema_validate(document.get("schema"), field="file.schema")


def upload_create(*, user, upload_type: str, filename: str, content: IO[bytes]) -> Upload:
    """Store an uploaded file after checking what it really is.

    ``dataset``: CSV, JSON records or Parquet, recognised by content; its rows are counted, its
    schema inferred and its first rows kept as a preview, so it can be published with
    ``datasetType: upload``. Past ``MAX_DATASET_ROWS`` rows or ``MAX_FIELDS`` columns it is refused
    while it is read, and nothing is stored. ``schema``: a JSON schema (a list of fields, or ``{"schema": [...]}``),
    validated like a dataset's. ``template``: a JSON object with ``name`` and ``schema``.
    """
    data = content.read()
    if not data:
        raise errors.VALIDATION("The file is empty", details={"file": ["empty"]})
    rows = None
    schema: list[dict] = []
    preview: list[dict] = []
    if upload_type == Upload.Type.DATASET:
        summary = dataset_file_summary(data, limits=UPLOAD_LIMITS, preview_rows=conf.PREVIEW_ROWS)
        if summary.rows == 0 or not summary.schema:
            raise errors.VALIDATION("The dataset has no rows", details={"file": ["no rows"]})
        file_format, rows, schema, preview = summary.format, summary.rows, summary.schema, summary.preview
    elif upload_type == Upload.Type.SCHEMA:
        file_format, schema = "json", _check_schema_file(data)
    else:
        file_format, schema = "json", _check_template_file(data)
    stored = storage.save_bytes(data)
    return Upload.objects.create(
        user=user,
        type=upload_type,
        filename=filename[:255] or "upload",
        size_bytes=stored.size,
        content_type=CONTENT_TYPES[file_format],
        format=file_format,
        cid=stored.cid,
        rows=rows,
        inferred_schema=schema,
        preview_data=preview,
    )
