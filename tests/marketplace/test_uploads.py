"""Uploads: recognised by content, schema inferred, publishable as an upload dataset, 10 an hour."""

import io

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core import storage
from marketplace import conf
from marketplace.file_formats import parquet_pages
from marketplace.models import Upload
from tests.marketplace.conftest import API, forbid_parquet_decoding, repeated_values_parquet
from tests.marketplace.factories import UploadFactory

pytestmark = pytest.mark.django_db

CSV = b"name,age,score\nada,36,1.5\ngrace,45,2.25\n"


def upload(client, content: bytes, name: str, upload_type: str = "dataset", content_type="application/octet-stream"):
    return client.post(
        f"{API}/storage/upload",
        {"file": SimpleUploadedFile(name, content, content_type=content_type), "type": upload_type},
        format="multipart",
    )


def parquet_bytes() -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table({"city": ["Oslo", "Lima"], "temp": [3.5, 19.0], "rainy": [True, False]}), buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "name", "fmt", "types"),
    [
        (CSV, "people.txt", "csv", {"name": "string", "age": "integer", "score": "float"}),
        (b'[{"id": 1, "ok": true}, {"id": 2, "ok": false}]', "data.bin", "json", {"id": "integer", "ok": "boolean"}),
        (b'{"id": 1, "tag": "a"}\n{"id": 2, "tag": null}\n', "lines.csv", "json", {"id": "integer", "tag": "string"}),
        (parquet_bytes(), "weather.csv", "parquet", {"city": "string", "temp": "float", "rainy": "boolean"}),
    ],
)
def test_datasets_are_recognised_by_content_and_get_a_schema(creator_client, content, name, fmt, types):
    r = upload(creator_client, content, name)
    assert r.status_code == 201, r.json()
    body = r.json()
    assert {"fileId", "filename", "size", "contentType", "uploadedAt"} <= set(body)
    assert body["format"] == fmt and body["size"] == len(content) and body["filename"] == name
    assert {field["name"]: field["type"] for field in body["schema"]} == types
    assert body["cid"] == storage.cid_for_bytes(content)
    assert storage.read_bytes(body["cid"]) == content


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00binary",
        b"just some words",
        b"a,b\n1\n",
        b"[1, 2, 3]",
        b"PAR1garbage",
        # not JSON, though Python's reader takes them (stored in the preview, they were a 500)
        b'[{"a": NaN}]',
        b'[{"a": Infinity}]',
        b'[{"a": 1e999}]',
    ],
)
def test_other_content_is_refused_whatever_its_name(creator_client, content):
    r = upload(creator_client, content, "looks-fine.csv", content_type="text/csv")
    assert r.status_code == 415, r.json()
    assert r.json()["error"]["code"] == "UNSUPPORTED_FILE"
    assert not Upload.objects.exists()


def table_parquet(**columns) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "content",
    [
        b"a,b\ninf,1\n-inf,2\n",
        b"a,b\n1e999,1\n",
        table_parquet(a=[1.0, float("nan")]),
        table_parquet(a=[1.0, float("inf")]),
        table_parquet(a=pa.array([{"b": 1.0}, {"b": float("-inf")}])),
    ],
    ids=["csv inf", "csv 1e999", "parquet nan", "parquet inf", "parquet nested -inf"],
)
def test_a_number_json_cannot_hold_is_refused_naming_its_column(creator_client, content):
    r = upload(creator_client, content, "odd.bin")
    assert r.status_code == 400, r.json()
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    assert "'a'" in r.json()["error"]["details"]["file"][0]
    assert not Upload.objects.exists()


@pytest.mark.parametrize(("unit", "per_second"), [("s", 1), ("ms", 10**3), ("us", 10**6), ("ns", 10**9)])
def test_a_duration_column_is_previewed_as_seconds(creator_client, unit, per_second):
    content = table_parquet(wait=pa.array([5 * per_second, None], pa.duration(unit)))
    r = upload(creator_client, content, "durations.parquet")
    assert r.status_code == 201, r.json()
    assert Upload.objects.get().preview_data == [{"wait": 5.0}, {"wait": None}]
    assert r.json()["schema"][0]["type"] == "json"


@pytest.mark.parametrize(
    "content",
    [
        b"[" * 100_001 + b"]" * 100_001,
        b'[{"a": ' + b"[" * 70 + b"]" * 70 + b"}]",
        b'{"a": ' + b"{" * 5000 + b"}" * 5001,
    ],
    ids=["100,000 deep (killed the server)", "a record 70 deep", "JSON Lines 5,000 deep"],
)
def test_a_json_file_nested_deeper_than_a_dataset_is_refused_before_it_is_parsed(creator_client, content):
    r = upload(creator_client, content, "deep.json", content_type="application/json")
    assert r.status_code == 415, r.json()
    assert "deeper than 64" in r.json()["error"]["message"]
    assert not Upload.objects.exists()


def test_a_json_file_within_the_depth_is_read(creator_client):
    record = {"a": 1, "nested": [[[{"b": "[[[["}]]]}  # brackets inside text count, and still fit
    r = upload(creator_client, orjson.dumps([record, record]), "ok.json", content_type="application/json")
    assert r.status_code in (200, 201), r.json()


def test_schema_and_template_files_are_validated(creator_client):
    schema = [{"name": "email", "type": "email"}]
    answer = upload(creator_client, orjson.dumps(schema), "s.json", "schema")
    assert answer.status_code == 201, answer.json()
    bad = upload(creator_client, orjson.dumps([{"name": "x", "type": "colour"}]), "s.json", "schema")
    assert bad.status_code == 400, bad.json()
    template = {"name": "Mine", "schema": schema}
    answer = upload(creator_client, orjson.dumps(template), "t.json", "template")
    assert answer.status_code == 201, answer.json()
    answer = upload(creator_client, orjson.dumps({"schema": schema}), "t.json", "template")
    assert answer.status_code == 400, answer.json()


def test_an_uploaded_dataset_is_published_as_an_upload(creator_client):
    file_id = upload(creator_client, CSV, "people.csv").json()["fileId"]
    r = creator_client.post(
        f"{API}/datasets",
        {"name": "People", "category": "hr", "datasetType": "upload", "fileId": file_id, "price": 0},
        format="json",
    )
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["generationJob"] is None
    assert body["dataset"]["status"] == "ready" and body["dataset"]["rows"] == 2
    assert body["dataset"]["format"] == "csv"
    detail = creator_client.get(f"{API}/datasets/{body['dataset']['id']}").json()
    assert detail["preview"][0] == {"name": "ada", "age": 36, "score": 1.5}
    download = creator_client.get(f"{API}/datasets/{body['dataset']['id']}/download").json()
    assert b"".join(creator_client.get(download["downloadUrl"]).streaming_content) == CSV


def test_someone_elses_upload_cannot_be_published(creator_client, stranger_client):
    file_id = upload(creator_client, CSV, "people.csv").json()["fileId"]
    r = stranger_client.post(
        f"{API}/datasets", {"name": "Mine", "category": "hr", "datasetType": "upload", "fileId": file_id}, format="json"
    )
    assert r.status_code == 400, r.json()


def test_uploads_are_limited_to_ten_an_hour(creator_client):
    statuses = [upload(creator_client, CSV, "p.csv").status_code for _ in range(11)]
    assert statuses == [201] * 10 + [429]


def test_upload_needs_sign_in(api_client):
    answer = upload(api_client, CSV, "p.csv")
    assert answer.status_code == 401, answer.json()


# --- the caps of a generated dataset hold for uploads, checked while reading, before storing ------

MAX_ROWS = 1_000_000  # MARKETPLACE_MAX_DATASET_ROWS
MAX_COLUMNS = 200  # the schema's field cap


def constant_parquet(rows: int) -> bytes:
    """``rows`` zeros: run-length encoded, a few kilobytes whatever the row count."""
    buffer = io.BytesIO()
    pq.write_table(pa.table({"flag": pa.array(np.zeros(rows, dtype=np.int8))}), buffer)
    return buffer.getvalue()


def assert_refused_and_nothing_stored(r, cap: str, content: bytes) -> None:
    assert r.status_code == 400, r.json()
    error = r.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and cap in error["message"], error
    assert cap in error["details"]["file"][0], error
    assert not Upload.objects.exists()
    assert not storage.exists(storage.cid_for_bytes(content))


def test_a_small_parquet_file_of_more_rows_than_the_cap_is_refused_from_its_metadata(creator_client):
    # Given a Parquet file of a few KB holding one row more than a generated dataset may have
    content = constant_parquet(MAX_ROWS + 1)
    assert len(content) < 64 * 1024

    # When it is uploaded
    r = upload(creator_client, content, "tiny.parquet")

    # Then it is refused by its row count, and nothing is stored
    assert_refused_and_nothing_stored(r, "rows", content)


def test_a_parquet_file_at_the_row_cap_is_accepted(creator_client):
    r = upload(creator_client, constant_parquet(MAX_ROWS), "full.parquet")

    assert r.status_code == 201, r.json()
    assert r.json()["rows"] == MAX_ROWS and r.json()["schema"][0]["constraints"] == {"required": True}


def dictionary_bomb(rows: int = 2_000, width: int = 1_000) -> bytes:
    """``rows`` copies of one ``width``-character string: one dictionary entry, a few hundred bytes
    with zstd, ``rows * width`` bytes once decoded."""
    buffer = io.BytesIO()
    pq.write_table(pa.table({"text": pa.array(["x" * width] * rows)}), buffer, compression="zstd")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "column",
    [lambda text: text, lambda text: pa.ListArray.from_arrays([0, 2_000], text)],
    ids=["text", "a list of text"],
)
def test_a_parquet_file_that_decodes_past_the_byte_cap_is_refused(creator_client, monkeypatch, column):
    # Given a cap of 1 MB and a file of a few kilobytes whose dictionary stands for 2 MB of text
    monkeypatch.setattr(conf, "MAX_DATASET_DECODED_BYTES", 1_000_000)
    buffer = io.BytesIO()
    table = pa.table({"text": column(pa.array(["x" * 1_000] * 2_000))})
    pq.write_table(table, buffer, compression="zstd")
    content = buffer.getvalue()
    assert len(content) < 8 * 1_024
    # When it is uploaded
    r = upload(creator_client, content, "bomb.parquet")
    # Then it is refused by its decoded size, and nothing is stored
    assert_refused_and_nothing_stored(r, "bytes", content)


def test_a_parquet_file_whose_row_groups_declare_more_than_the_byte_cap_is_refused(creator_client, monkeypatch):
    monkeypatch.setattr(conf, "MAX_DATASET_DECODED_BYTES", 1_000_000)
    buffer = io.BytesIO()
    pq.write_table(pa.table({"n": np.arange(200_000)}), buffer, compression="zstd")  # 1.6 MB uncompressed
    content = buffer.getvalue()
    assert_refused_and_nothing_stored(upload(creator_client, content, "zeros.parquet"), "bytes", content)


def test_a_parquet_file_within_the_byte_cap_is_accepted(creator_client, monkeypatch):
    monkeypatch.setattr(conf, "MAX_DATASET_DECODED_BYTES", 3_000_000)
    r = upload(creator_client, dictionary_bomb(), "text.parquet")
    assert r.status_code == 201, r.json()
    assert r.json()["rows"] == 2_000


@pytest.mark.parametrize("footer_values", [None, 1], ids=["as written", "its footer edited to declare one value"])
def test_a_parquet_list_that_decodes_past_the_byte_cap_in_one_batch_is_refused_before_decoding(
    creator_client, monkeypatch, footer_values
):
    # Given a cap of 1 MB and a file of a few hundred bytes, its row group declaring about a hundred
    # bytes uncompressed, whose two rows hold a list of 2,000,000 zeros (16 MB decoded, in one batch)
    monkeypatch.setattr(conf, "MAX_DATASET_DECODED_BYTES", 1_000_000)
    content = repeated_values_parquet(2_000_000, footer_values=footer_values)
    chunk = pq.ParquetFile(io.BytesIO(content)).metadata.row_group(0).column(0)
    assert len(content) < 1_024 and chunk.total_uncompressed_size < 1_024
    assert chunk.num_values == (footer_values or 2_000_000)
    # and any value decoded fails the test
    forbid_parquet_decoding(monkeypatch)
    # When it is uploaded
    r = upload(creator_client, content, "readings.parquet")
    # Then it is refused by its decoded size from its values' count, and nothing is stored
    assert_refused_and_nothing_stored(r, "bytes", content)


def test_a_parquet_list_within_the_byte_cap_is_accepted(creator_client, monkeypatch):
    # Given a cap of 3 MB and two rows holding 200,000 zeros (1.6 MB decoded)
    monkeypatch.setattr(conf, "MAX_DATASET_DECODED_BYTES", 3_000_000)
    # When they are uploaded
    r = upload(creator_client, repeated_values_parquet(200_000), "readings.parquet")
    # Then they are accepted
    assert r.status_code == 201, r.json()
    assert r.json()["rows"] == 2 and r.json()["schema"][0]["type"] == "json"


@pytest.mark.parametrize(
    ("columns", "numbers"),
    [(12, pa.int64()), (100, pa.int8())],
    ids=["12 int64 columns", "100 int8 columns"],
)
def test_a_parquet_file_is_held_to_what_arrow_holds_of_its_numbers(creator_client, monkeypatch, columns, numbers):
    # Given a cap of 10 MB and 100,000 rows of number columns that Arrow holds in 9.6 MB and 10 MB
    # (each value its width and a validity bit), in a file of a few kilobytes
    monkeypatch.setattr(conf, "MAX_DATASET_DECODED_BYTES", 10_100_000)
    table = pa.table({f"n{index}": pa.array(np.zeros(100_000), numbers) for index in range(columns)})
    assert 9_600_000 <= sum(column.nbytes for column in table.columns) <= 10_100_000
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    # When it is uploaded
    r = upload(creator_client, buffer.getvalue(), "numbers.parquet")
    # Then it is accepted: the cap counts the bytes the values take, not 8 more for each of them
    assert r.status_code == 201, r.json()
    assert r.json()["rows"] == 100_000


def test_a_parquet_file_of_numbers_past_the_byte_cap_is_refused(creator_client, monkeypatch):
    # Given a cap of 10 MB and 100,000 rows of 13 int64 columns (10.4 MB as Arrow holds them)
    monkeypatch.setattr(conf, "MAX_DATASET_DECODED_BYTES", 10_100_000)
    table = pa.table({f"n{index}": np.zeros(100_000, dtype=np.int64) for index in range(13)})
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    # When it is uploaded, then it is refused
    assert_refused_and_nothing_stored(
        upload(creator_client, buffer.getvalue(), "numbers.parquet"), "bytes", buffer.getvalue()
    )


def page_per_row_parquet(rows: int) -> bytes:
    """``rows`` rows of a ``list<int8>`` column, each row a data page of its own: the shape of a hostile
    file whose pages' headers are many and tiny (a 50 MB upload could hold 1.4 million)."""
    buffer = io.BytesIO()
    readings = pa.array([[0]] * rows, pa.list_(pa.int8()))
    pq.write_table(pa.table({"readings": readings}), buffer, data_page_size=1, write_batch_size=1, use_dictionary=False)
    return buffer.getvalue()


def count_page_headers(monkeypatch) -> list[int]:
    """From here on, the page headers read (one list entry each)."""
    read: list[int] = []
    read_header = parquet_pages._page_header

    def counting(reader):
        read.append(1)
        return read_header(reader)

    monkeypatch.setattr(parquet_pages, "_page_header", counting)
    return read


def test_a_parquet_file_of_more_list_pages_than_the_cap_is_refused_before_decoding(creator_client, monkeypatch):
    # Given a cap of 100 list pages and a file whose list column has 2,000 pages
    monkeypatch.setattr(conf, "MAX_DATASET_PARQUET_LIST_PAGES", 100)
    content = page_per_row_parquet(2_000)
    # and any value decoded fails the test
    forbid_parquet_decoding(monkeypatch)
    headers = count_page_headers(monkeypatch)
    # When it is uploaded
    r = upload(creator_client, content, "readings.parquet")
    # Then it is refused by its pages, having read one header past the cap, and nothing is stored
    assert_refused_and_nothing_stored(r, "pages", content)
    assert len(headers) == 101


def test_the_list_page_cap_counts_the_pages_of_every_list_column_and_row_group(creator_client, monkeypatch):
    # Given a cap of 100 list pages and a file of two list columns in two row groups, 30 pages each chunk
    monkeypatch.setattr(conf, "MAX_DATASET_PARQUET_LIST_PAGES", 100)
    readings = pa.array([[0]] * 60, pa.list_(pa.int8()))
    buffer = io.BytesIO()
    pq.write_table(
        pa.table({"a": readings, "b": readings}),
        buffer,
        data_page_size=1,
        write_batch_size=1,
        use_dictionary=False,
        row_group_size=30,
    )
    # When it is uploaded
    r = upload(creator_client, buffer.getvalue(), "readings.parquet")
    # Then its 120 pages are past the cap
    assert_refused_and_nothing_stored(r, "pages", buffer.getvalue())


def test_a_parquet_file_of_as_many_list_pages_as_the_cap_is_accepted(creator_client, monkeypatch):
    monkeypatch.setattr(conf, "MAX_DATASET_PARQUET_LIST_PAGES", 100)
    r = upload(creator_client, page_per_row_parquet(100), "readings.parquet")
    assert r.status_code == 201, r.json()
    assert r.json()["rows"] == 100


def test_a_parquet_list_from_a_parquet_mr_that_misreports_its_chunks_is_refused(creator_client):
    # Given a file with a list column whose footer names parquet-mr 1.2.8, whose column chunks Arrow
    # reads past their declared size (pages its headers' count would not see)
    content = repeated_values_parquet(10)
    written_by = pq.ParquetFile(io.BytesIO(content)).metadata.created_by.encode()
    content = content.replace(written_by, b"parquet-mr version 1.2.8".ljust(len(written_by)))
    # When it is uploaded
    r = upload(creator_client, content, "old.parquet")
    # Then it is refused, naming the writer
    assert r.status_code == 415, r.json()
    assert "parquet-mr before 1.2.9" in r.json()["error"]["message"]


def test_a_parquet_file_with_delta_byte_array_strings_is_refused(creator_client):
    buffer = io.BytesIO()
    table = pa.table({"text": ["a" * 10, "a" * 20]})
    pq.write_table(table, buffer, use_dictionary=False, column_encoding={"text": "DELTA_BYTE_ARRAY"})
    r = upload(creator_client, buffer.getvalue(), "delta.parquet")
    assert r.status_code == 415, r.json()
    assert "DELTA_BYTE_ARRAY" in r.json()["error"]["message"]


def test_a_csv_of_twenty_thousand_columns_is_refused_from_its_header(creator_client):
    header = ",".join(f"c{index}" for index in range(20_000))
    content = f"{header}\n{','.join('1' for _ in range(20_000))}\n".encode()

    r = upload(creator_client, content, "wide.csv")

    assert_refused_and_nothing_stored(r, "columns", content)


def test_a_csv_one_column_past_the_cap_is_refused_and_one_at_it_accepted(creator_client):
    def csv_of(width: int) -> bytes:
        return (",".join(f"c{i}" for i in range(width)) + "\n" + ",".join("1" for _ in range(width)) + "\n").encode()

    assert_refused_and_nothing_stored(upload(creator_client, csv_of(MAX_COLUMNS + 1), "w.csv"), "columns", csv_of(201))
    accepted = upload(creator_client, csv_of(MAX_COLUMNS), "w.csv")
    assert accepted.status_code == 201, accepted.json()
    assert len(accepted.json()["schema"]) == MAX_COLUMNS


def test_a_csv_of_more_rows_than_the_cap_is_refused(creator_client):
    content = b"n\n" + b"1\n" * (MAX_ROWS + 1)

    r = upload(creator_client, content, "long.csv")

    assert_refused_and_nothing_stored(r, "rows", content)


def test_json_lines_of_more_rows_than_the_cap_are_refused(creator_client):
    content = b'{"n":1}\n' * (MAX_ROWS + 1)

    r = upload(creator_client, content, "long.jsonl")

    assert_refused_and_nothing_stored(r, "rows", content)


def test_a_json_array_whose_records_name_too_many_keys_is_refused(creator_client):
    # Given records that each bring new keys (201 distinct keys in all)
    records = [{f"k{index}": index} for index in range(MAX_COLUMNS + 1)]
    content = orjson.dumps(records)

    r = upload(creator_client, content, "keys.json")

    assert_refused_and_nothing_stored(r, "columns", content)


def test_json_records_of_changing_shapes_are_read_in_chunks_and_widened(creator_client):
    # Given more records than one chunk, integers first and a decimal and a new key later
    records = [{"n": index} for index in range(15_000)] + [{"n": 0.5, "note": "late"}]

    r = upload(creator_client, orjson.dumps(records), "mixed.json")

    assert r.status_code == 201, r.json()
    assert r.json()["rows"] == 15_001
    assert r.json()["schema"] == [
        {"id": "col_0", "name": "n", "type": "float", "description": "", "constraints": {"required": True}},
        {"id": "col_1", "name": "note", "type": "string", "description": "", "constraints": {"required": False}},
    ]


def test_an_upload_past_the_caps_stored_before_them_cannot_be_published(creator, creator_client):
    # Given an upload stored before the caps existed (20,000 columns)
    wide = UploadFactory(
        user=creator,
        filename="wide.csv",
        inferred_schema=[
            {"id": f"c{i}", "name": f"c{i}", "type": "string", "description": "", "constraints": {}}
            for i in range(20_000)
        ],
    )

    r = creator_client.post(
        f"{API}/datasets",
        {"name": "Wide", "category": "misc", "datasetType": "upload", "fileId": str(wide.pk)},
        format="json",
    )

    assert r.status_code == 400, r.json()
    assert "columns" in r.json()["error"]["message"], r.json()
