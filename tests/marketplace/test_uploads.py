"""Uploads: recognised by content, schema inferred, publishable as an upload dataset, 10 an hour."""

import io

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core import storage
from marketplace.models import Upload
from tests.marketplace.conftest import API

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
    "content", [b"\x89PNG\r\n\x1a\n\x00\x00binary", b"just some words", b"a,b\n1\n", b"[1, 2, 3]", b"PAR1garbage"]
)
def test_other_content_is_refused_whatever_its_name(creator_client, content):
    r = upload(creator_client, content, "looks-fine.csv", content_type="text/csv")
    assert r.status_code == 415, r.json()
    assert r.json()["error"]["code"] == "UNSUPPORTED_FILE"
    assert not Upload.objects.exists()


def test_schema_and_template_files_are_validated(creator_client):
    schema = [{"name": "email", "type": "email"}]
    assert upload(creator_client, orjson.dumps(schema), "s.json", "schema").status_code == 201
    bad = upload(creator_client, orjson.dumps([{"name": "x", "type": "colour"}]), "s.json", "schema")
    assert bad.status_code == 400, bad.json()
    template = {"name": "Mine", "schema": schema}
    assert upload(creator_client, orjson.dumps(template), "t.json", "template").status_code == 201
    assert upload(creator_client, orjson.dumps({"schema": schema}), "t.json", "template").status_code == 400


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
    assert upload(api_client, CSV, "p.csv").status_code == 401
