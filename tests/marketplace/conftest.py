"""Marketplace fixtures: wallets that really sign, signed-in clients, datasets in named states."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from rest_framework.test import APIClient

from tests.conftest import bearer_for
from tests.marketplace.factories import DatasetFactory, DatasetFileFactory, WalletProfileFactory

API = "/marketplace/v1"


def siwe_message(
    address: str,
    *,
    nonce: str = "abcdef0123456789",
    domain: str = "localhost",
    issued_at: datetime | None = None,
    expiration: datetime | None = None,
) -> str:
    issued_at = issued_at or datetime.now(UTC)
    lines = [
        f"{domain} wants you to sign in with your Ethereum account:",
        address,
        "",
        "Sign in to Synthik.",
        "",
        f"URI: http://{domain}/login",
        "Version: 1",
        "Chain ID: 1",
        f"Nonce: {nonce}",
        f"Issued At: {issued_at.isoformat().replace('+00:00', 'Z')}",
    ]
    if expiration is not None:
        lines.append(f"Expiration Time: {expiration.isoformat().replace('+00:00', 'Z')}")
    return "\n".join(lines)


def sign(account, message: str) -> str:
    return "0x" + account.sign_message(encode_defunct(text=message)).signature.hex().removeprefix("0x")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def wallet():
    return Account.create()


@pytest.fixture
def creator(db):
    return WalletProfileFactory().user


@pytest.fixture
def buyer(db):
    return WalletProfileFactory().user


@pytest.fixture
def stranger(db):
    return WalletProfileFactory().user


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(**bearer_for(user, "marketplace"))
    return client


@pytest.fixture
def creator_client(creator):
    return client_for(creator)


@pytest.fixture
def buyer_client(buyer):
    return client_for(buyer)


@pytest.fixture
def stranger_client(stranger):
    return client_for(stranger)


def attach_file(dataset, content: bytes = b'[{"amount": 1.5}, {"amount": 2.5}]', file_format: str = "json"):
    file = DatasetFileFactory(dataset=dataset, content=content, format=file_format)
    dataset.full_cid, dataset.size_bytes, dataset.format = file.cid, file.size_bytes, file_format
    dataset.save()
    return dataset


@pytest.fixture
def dataset_free(creator):
    return attach_file(DatasetFactory(creator=creator, tags=["fraud", "cards"]))


@pytest.fixture
def dataset_paid(creator):
    return attach_file(DatasetFactory(creator=creator, price=Decimal("0.05"), tags=["fraud"]))


@pytest.fixture
def dataset_private(creator):
    return DatasetFactory(creator=creator, visibility="private")


def _varint(number: int, width: int = 0) -> bytes:
    """``number`` as a Thrift varint, padded to ``width`` bytes (readers accept the padding)."""
    width = max(width, (number.bit_length() + 6) // 7 or 1)
    return bytes(((number >> (7 * index)) & 0x7F) | (0x80 if index < width - 1 else 0) for index in range(width))


def repeated_values_parquet(values: int = 2_000_000, *, footer_values: int | None = None) -> bytes:
    """Two rows of one ``list<int64>`` column holding ``values`` zeros between them: one dictionary
    entry, its levels and indices run-length encoded, so a few hundred bytes of file whose row group
    declares about a hundred bytes uncompressed, and ``values * 8`` bytes decoded in one batch.

    ``footer_values``: the count the footer is edited to declare (Thrift's integers, zigzag varints,
    swapped for the same number of bytes); the page still holds, and the reader still decodes, ``values``.
    """
    offsets = pa.array([0, values // 2, values], pa.int32())
    readings = pa.ListArray.from_arrays(offsets, pa.array(np.zeros(values, dtype=np.int64)))
    buffer = io.BytesIO()
    pq.write_table(pa.table({"readings": readings}), buffer, compression="zstd")
    content = buffer.getvalue()
    if footer_values is None:
        return content
    footer_start = len(content) - 8 - int.from_bytes(content[-8:-4], "little")
    written = _varint(values << 1)
    footer = content[footer_start:-8].replace(written, _varint(footer_values << 1, len(written)))
    return content[:footer_start] + footer + content[-8:]


def forbid_parquet_decoding(monkeypatch) -> None:
    """From here on, a Parquet value decoded (by any reader of ``pq.ParquetFile``) fails the test."""

    def decoding(*args, **kwargs):
        raise AssertionError("a Parquet value was decoded")

    for method in ("iter_batches", "read", "read_row_group", "read_row_groups"):
        monkeypatch.setattr(pq.ParquetFile, method, decoding)
