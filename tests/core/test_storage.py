"""Content-addressed storage (CIDv1 raw sha2-256) and signed expiring download tokens."""

import hashlib
import io
import time

import pytest
from multiformats import CID

from core import storage


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def test_the_cid_is_cidv1_raw_sha256_of_the_bytes():
    cid = storage.cid_for_bytes(b"hello")
    decoded = CID.decode(cid)
    assert cid.startswith("bafkrei")
    assert decoded.version == 1 and decoded.codec.name == "raw" and decoded.hashfun.name == "sha2-256"
    assert bytes(decoded.raw_digest) == hashlib.sha256(b"hello").digest()
    # the well-known CID of "hello" (as `ipfs add --cid-version 1 --raw-leaves` gives it)
    assert cid == "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"


def test_save_and_open_by_cid_stores_each_content_once(tmp_path):
    first = storage.save_bytes(b"same bytes")
    second = storage.save_stream(io.BytesIO(b"same bytes"))
    assert first == second and first.size == 10
    assert storage.read_bytes(first.cid) == b"same bytes"
    assert storage.exists(first.cid) and storage.size_of(first.cid) == 10
    stored = [p for p in (tmp_path / "media").rglob("*") if p.is_file()]
    assert len(stored) == 1


def test_streams_of_chunks_are_hashed_on_the_way_through():
    stored = storage.save_stream(iter([b"ab", b"cd", b""]))
    assert stored.cid == storage.cid_for_bytes(b"abcd") and stored.size == 4


def test_unknown_and_malformed_cids():
    with pytest.raises(FileNotFoundError):
        storage.open_cid(storage.cid_for_bytes(b"never stored"))
    assert not storage.exists("not-a-cid")
    with pytest.raises(ValueError):
        storage.path_for_cid("../../etc/passwd")


def test_download_tokens_carry_the_grant_until_they_expire(monkeypatch):
    token, grant = storage.sign_download(
        "bafkreiabc", product="marketplace", filename="a.csv", content_type="text/csv", ttl_seconds=60
    )
    verified = storage.verify_download(token)
    assert verified.cid == "bafkreiabc" and verified.filename == "a.csv" and verified.expires_at == grant.expires_at
    with pytest.raises(storage.InvalidDownloadTokenError):
        storage.verify_download(token[:-2] + "xx")
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 61)
    with pytest.raises(storage.InvalidDownloadTokenError):
        storage.verify_download(token)
