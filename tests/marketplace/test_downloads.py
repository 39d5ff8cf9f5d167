"""Download links: who gets one, what the signed link serves, conversion between formats."""

import io
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from accounts.tokens import download_link_issue
from core import storage
from marketplace import conf
from marketplace.authentication import PRODUCT
from marketplace.models import DatasetDailyStats
from tests.marketplace.conftest import API, attach_file, forbid_parquet_decoding, repeated_values_parquet
from tests.marketplace.factories import DatasetFactory, PurchaseFactory, TrainedModelFactory

pytestmark = pytest.mark.django_db


def link(client, dataset, **params):
    return client.get(f"{API}/datasets/{dataset.id}/download", params)


def fetch(client, url):
    response = client.get(url)
    return response, b"".join(response.streaming_content) if response.status_code == 200 else None


def test_a_free_public_dataset_downloads_for_anyone(api_client, dataset_free):
    r = link(api_client, dataset_free)
    assert r.status_code == 200, r.json()
    body = r.json()
    assert set(body) == {"downloadUrl", "expiresAt", "format", "size"}
    assert body["format"] == "json" and body["size"].endswith("B")
    response, content = fetch(api_client, body["downloadUrl"])
    assert response.status_code == 200, response.json()
    assert content == b'[{"amount": 1.5}, {"amount": 2.5}]'
    assert response["Content-Type"] == "application/json"
    assert DatasetDailyStats.objects.get(dataset=dataset_free).downloads == 1


def test_a_paid_dataset_needs_a_purchase(stranger_client, buyer, buyer_client, creator_client, dataset_paid):
    r = link(stranger_client, dataset_paid)
    assert r.status_code == 402, r.json()
    assert r.json()["error"]["code"] == "PAYMENT_REQUIRED"
    answer = link(creator_client, dataset_paid)
    assert answer.status_code == 200, answer.json()
    PurchaseFactory(dataset=dataset_paid, buyer=buyer)
    answer = link(buyer_client, dataset_paid)
    assert answer.status_code == 200, answer.json()
    dataset_paid.refresh_from_db()
    assert dataset_paid.downloads == 1  # the creator's own download is not counted


def test_a_pending_purchase_gives_no_access(buyer, buyer_client, dataset_paid):
    PurchaseFactory(dataset=dataset_paid, buyer=buyer, status="pending")
    answer = link(buyer_client, dataset_paid)
    assert answer.status_code == 402, answer.json()


def test_a_dataset_without_a_file_is_a_conflict(creator, creator_client):
    dataset = DatasetFactory(creator=creator, status="generating")
    r = link(creator_client, dataset)
    assert r.status_code == 409, r.json()
    assert r.json()["error"]["code"] == "DATASET_NOT_READY"


def test_private_datasets_are_not_found_for_others(stranger_client, dataset_private):
    answer = link(stranger_client, dataset_private)
    assert answer.status_code == 404, answer.json()


def test_another_format_is_converted_once(api_client, dataset_free):
    r = link(api_client, dataset_free, format="parquet")
    assert r.status_code == 200, r.json()
    _, content = fetch(api_client, r.json()["downloadUrl"])
    assert pq.read_table(io.BytesIO(content)).to_pylist() == [{"amount": 1.5}, {"amount": 2.5}]
    again = link(api_client, dataset_free, format="parquet").json()
    assert again["size"] == r.json()["size"]
    csv = fetch(api_client, link(api_client, dataset_free, format="csv").json()["downloadUrl"])[1]
    assert csv.decode().splitlines() == ['"amount"', "1.5", "2.5"]


def test_a_stored_parquet_file_past_the_byte_cap_is_not_converted(api_client, creator, monkeypatch):
    # Given a free dataset stored (before the cap) as Parquet whose dictionary stands for 2 MB of text
    buffer = io.BytesIO()
    pq.write_table(pa.table({"text": ["x" * 1_000] * 2_000}), buffer, compression="zstd")
    dataset = attach_file(DatasetFactory(creator=creator, price=0), buffer.getvalue(), "parquet")
    monkeypatch.setattr(conf, "MAX_DATASET_DECODED_BYTES", 1_000_000)
    # When it is asked for as CSV
    r = link(api_client, dataset, format="csv")
    # Then the conversion is refused by the cap, not made
    assert r.status_code == 400, r.json()
    assert r.json()["error"]["details"] == {"file": ["at most 1000000 bytes decoded"]}


@pytest.mark.parametrize("footer_values", [None, 1], ids=["as written", "its footer edited to declare one value"])
def test_a_stored_parquet_list_past_the_byte_cap_is_not_converted_nor_decoded(
    api_client, creator, monkeypatch, footer_values
):
    # Given a free dataset stored (before the cap) as a few hundred bytes of Parquet whose two rows
    # hold a list of 2,000,000 zeros (16 MB decoded), a cap of 1 MB, and any value decoded failing the test
    content = repeated_values_parquet(2_000_000, footer_values=footer_values)
    dataset = attach_file(DatasetFactory(creator=creator, price=0), content, "parquet")
    monkeypatch.setattr(conf, "MAX_DATASET_DECODED_BYTES", 1_000_000)
    forbid_parquet_decoding(monkeypatch)
    # When it is asked for as CSV
    r = link(api_client, dataset, format="csv")
    # Then the conversion is refused by the cap before a value is decoded, and none is kept
    assert r.status_code == 400, r.json()
    assert r.json()["error"]["details"] == {"file": ["at most 1000000 bytes decoded"]}
    assert dataset.files.count() == 1


@pytest.mark.parametrize(
    ("records", "lines"),
    [
        (b'[{"a": {"b": 1}, "n": 1}, {"a": {"b": 2}, "n": 2}]', ['"a","n"', '"{""b"":1}",1', '"{""b"":2}",2']),
        (b'[{"a": [1, 2]}, {"a": null}]', ['"a"', '"[1,2]"', ""]),
    ],
    ids=["struct", "list"],
)
def test_nested_values_are_written_to_csv_as_json_text(api_client, creator, records, lines):
    dataset = attach_file(DatasetFactory(creator=creator, price=0), records)
    r = link(api_client, dataset, format="csv")
    assert r.status_code == 200, r.json()
    assert fetch(api_client, r.json()["downloadUrl"])[1].decode().splitlines() == lines


def test_a_dataset_parquet_cannot_hold_is_refused_naming_the_format(api_client, creator):
    # Given a dataset whose column holds empty objects (a struct with no fields: Parquet has none)
    dataset = attach_file(DatasetFactory(creator=creator, price=0), b'[{"a": {}}, {"a": {}}]')
    # When it is asked for as Parquet
    r = link(api_client, dataset, format="parquet")
    # Then the answer says so in the envelope, and no conversion is kept
    assert r.status_code == 415, r.json()
    assert r.json()["error"]["code"] == "UNSUPPORTED_FILE"
    assert r.json()["error"]["details"] == {"format": ["parquet"]}
    assert dataset.files.count() == 1


def test_a_tampered_or_expired_link_is_refused(api_client, dataset_free, monkeypatch):
    url = link(api_client, dataset_free).json()["downloadUrl"]
    tampered = api_client.get(url[:-3] + "abc")
    assert tampered.status_code == 403, tampered.json()
    assert tampered.json()["error"]["code"] == "DOWNLOAD_LINK_INVALID"
    monkeypatch.setattr(conf, "DOWNLOAD_URL_TTL_SECONDS", 1)
    short = link(api_client, dataset_free).json()["downloadUrl"]
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 5)
    expired = api_client.get(short)
    assert expired.status_code == 403, expired.json()


def test_a_link_stops_working_once_its_dataset_is_deleted(creator_client, buyer_client, dataset_purchased):
    url = link(buyer_client, dataset_purchased).json()["downloadUrl"]
    before, _ = fetch(buyer_client, url)
    assert before.status_code == 200, before

    deleted = creator_client.delete(f"{API}/datasets/{dataset_purchased.id}")
    assert deleted.status_code in (200, 204), deleted.content

    # the link has not expired, but what it downloads is gone (the stored bytes may be shared)
    response = buyer_client.get(url)
    assert response.status_code == 404, response.json()
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_a_model_link_stops_working_once_the_model_is_removed(stranger_client, creator):
    stored = storage.save_bytes(b"weights")
    model = TrainedModelFactory(trained_by=creator, filecoin_cid=stored.cid, status="ready")
    url = stranger_client.get(f"{API}/models/{model.id}/download").json()["downloadUrl"]
    assert fetch(stranger_client, url)[1] == b"weights"

    model.delete()

    response = stranger_client.get(url)
    assert response.status_code == 404, response.json()


@pytest.mark.parametrize("subject", ["", "dataset:not-a-uuid", "upload:1"])
def test_a_link_that_names_nothing_of_ours_is_refused(api_client, dataset_free, subject):
    full_file = dataset_free.files.get(kind="full")
    token, _ = download_link_issue(
        product=PRODUCT, cid=full_file.cid, filename="x.json", content_type="application/json", ttl_seconds=60,
        subject=subject,
    )  # fmt: skip
    response = api_client.get(f"{API}/files/{token}")
    assert response.status_code == 404, response.json()


@pytest.fixture
def dataset_purchased(buyer, dataset_paid):
    PurchaseFactory(dataset=dataset_paid, buyer=buyer)
    return dataset_paid


def test_a_buyer_keeps_downloading_a_dataset_its_creator_made_private(
    creator_client, buyer_client, stranger_client, api_client, dataset_purchased
):
    # Given a bought dataset its creator then makes private
    r = creator_client.put(f"{API}/datasets/{dataset_purchased.id}", {"visibility": "private"}, format="json")
    assert r.status_code == 200, r.json()

    # When the buyer asks for it, then the purchase still gives the file
    offer = link(buyer_client, dataset_purchased)
    assert offer.status_code == 200, offer.json()
    response, content = fetch(buyer_client, offer.json()["downloadUrl"])
    assert response.status_code == 200, response.json()
    assert content == b'[{"amount": 1.5}, {"amount": 2.5}]'
    detail = buyer_client.get(f"{API}/datasets/{dataset_purchased.id}")
    assert detail.status_code == 200, detail.json()
    assert detail.json()["userAccess"] == {"canView": True, "canDownload": True, "hasPurchased": True}

    # And others still cannot see it, anywhere
    for client in (stranger_client, api_client):
        answer = link(client, dataset_purchased)
        assert answer.status_code == 404, answer.json()
        answer = client.get(f"{API}/datasets/{dataset_purchased.id}")
        assert answer.status_code == 404, answer.json()
    listed = buyer_client.get(f"{API}/datasets", {"visibility": "all"}).json()["datasets"]
    assert str(dataset_purchased.id) not in [item["id"] for item in listed]


def test_a_private_dataset_bought_before_it_became_free_stays_the_buyers(
    creator_client, buyer_client, dataset_purchased
):
    r = creator_client.put(
        f"{API}/datasets/{dataset_purchased.id}", {"visibility": "private", "price": 0}, format="json"
    )
    assert r.status_code == 200, r.json()

    answer = link(buyer_client, dataset_purchased)
    assert answer.status_code == 200, answer.json()


def test_a_pending_purchase_gives_no_sight_of_a_private_dataset(buyer, buyer_client, creator, dataset_private):
    PurchaseFactory(dataset=dataset_private, buyer=buyer, status="pending")

    answer = link(buyer_client, dataset_private)
    assert answer.status_code == 404, answer.json()
    answer = buyer_client.get(f"{API}/datasets/{dataset_private.id}")
    assert answer.status_code == 404, answer.json()
