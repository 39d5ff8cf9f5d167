"""Content-addressed files on Django's default storage, and signed expiring download links.

A file is named by its CID (CIDv1, ``raw`` codec, sha2-256 multihash, base32: ``bafkrei...``), the
same identifier IPFS/Filecoin give the same bytes, so storing the same content twice stores it once
and a CID can be checked against the bytes it names. Files live under ``cas/<2 chars>/<cid>`` on
whatever storage ``STORAGES["default"]`` configures (local disk by default, S3-compatible when set).

Download links carry a token made with ``django.core.signing`` (keyed by SECRET_KEY): the CID, the
name and type to serve it under, the product that issued it, and an expiry. Whoever holds a valid,
unexpired token may fetch that one file from that product; nothing else is granted. Products issue
and read links through ``accounts.tokens``, which refuses another product's link.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO

from django.core import signing
from django.core.files import File
from django.core.files.storage import default_storage
from multiformats import CID, multihash

CHUNK_SIZE = 1024 * 1024
DOWNLOAD_TOKEN_SALT = "core.storage.download"
# Spooled to disk past this size while hashing, so large uploads never sit whole in memory.
SPOOL_MAX_MEMORY = 8 * 1024 * 1024


class InvalidDownloadTokenError(Exception):
    """The token was tampered with, malformed, or has expired."""


@dataclass(frozen=True)
class StoredFile:
    cid: str
    size: int


@dataclass(frozen=True)
class DownloadGrant:
    cid: str
    filename: str
    content_type: str
    expires_at: datetime
    product: str = ""
    subject: str = ""  # what the file is the file of ("dataset:<id>"), for a product to check it still is


def cid_for_digest(sha256_digest: bytes) -> str:
    return str(CID("base32", 1, "raw", multihash.wrap(sha256_digest, "sha2-256")))


def cid_for_bytes(data: bytes) -> str:
    """The CIDv1 (raw, sha2-256, base32) of ``data``."""
    return cid_for_digest(hashlib.sha256(data).digest())


def is_valid_cid(value: str) -> bool:
    try:
        cid = CID.decode(value)
    except (ValueError, KeyError, TypeError):
        return False
    return cid.version == 1 and cid.hashfun.name == "sha2-256"


def path_for_cid(cid: str) -> str:
    if not is_valid_cid(cid):
        raise ValueError(f"not a CIDv1 sha2-256 identifier: {cid!r}")
    return f"cas/{cid[-2:]}/{cid}"


def _store(cid: str, content: IO[bytes]) -> None:
    name = path_for_cid(cid)
    if default_storage.exists(name):
        return
    saved_as = default_storage.save(name, File(content, name=cid))
    if saved_as != name:
        # A concurrent writer stored the same bytes first; the copy under another name is redundant.
        default_storage.delete(saved_as)


def save_bytes(data: bytes) -> StoredFile:
    """Store ``data`` (once per distinct content) and return its CID and size."""
    cid = cid_for_bytes(data)
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_MEMORY) as buffer:
        buffer.write(data)
        buffer.seek(0)
        _store(cid, buffer)
    return StoredFile(cid=cid, size=len(data))


def save_stream(chunks: Iterable[bytes] | IO[bytes]) -> StoredFile:
    """Store a stream (a file object or an iterable of byte chunks) hashing it on the way through."""
    if hasattr(chunks, "read"):
        stream = chunks
        chunks = iter(lambda: stream.read(CHUNK_SIZE), b"")
    digest = hashlib.sha256()
    size = 0
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_MEMORY) as buffer:
        for chunk in chunks:
            digest.update(chunk)
            buffer.write(chunk)
            size += len(chunk)
        buffer.seek(0)
        cid = cid_for_digest(digest.digest())
        _store(cid, buffer)
    return StoredFile(cid=cid, size=size)


class _CountingReader:
    """A file object that tells ``on_read(bytes_read_so_far)`` after each read."""

    def __init__(self, handle: IO[bytes], on_read: Callable[[int], None]) -> None:
        self.handle, self.on_read, self.done = handle, on_read, 0
        self.name = getattr(handle, "name", None)

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.done += len(data)
        self.on_read(self.done)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.handle.seek(offset, whence)

    def tell(self) -> int:
        return self.handle.tell()


def save_local_file(path: str | os.PathLike, *, on_progress: Callable[[int, int], None] | None = None) -> StoredFile:
    """Store a file already on local disk (a job's output): hashed in one read, copied in a second.

    Unlike ``save_stream`` it makes no spooled copy. ``on_progress(done, total)`` follows both
    passes (``total`` is twice the size), so a caller can report progress while a large file is
    hashed and written to storage (local disk or S3-compatible).
    """
    size = os.path.getsize(path)
    total = 2 * size

    def hashed(done: int) -> None:
        if on_progress is not None:
            on_progress(done, total)

    def copied(done: int) -> None:
        if on_progress is not None:
            on_progress(size + done, total)

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        reader = _CountingReader(handle, hashed)
        for chunk in iter(lambda: reader.read(CHUNK_SIZE), b""):
            digest.update(chunk)
    cid = cid_for_digest(digest.digest())
    with open(path, "rb") as handle:
        _store(cid, _CountingReader(handle, copied))
    return StoredFile(cid=cid, size=size)


def exists(cid: str) -> bool:
    return is_valid_cid(cid) and default_storage.exists(path_for_cid(cid))


def size_of(cid: str) -> int:
    return default_storage.size(path_for_cid(cid))


def open_cid(cid: str) -> File:
    """Open the stored file named by ``cid`` for reading (FileNotFoundError when absent)."""
    name = path_for_cid(cid)
    if not default_storage.exists(name):
        raise FileNotFoundError(cid)
    return default_storage.open(name, "rb")


def read_bytes(cid: str) -> bytes:
    with open_cid(cid) as handle:
        return handle.read()


def sign_download(
    cid: str, *, product: str, filename: str, content_type: str, ttl_seconds: int, subject: str = ""
) -> tuple[str, DownloadGrant]:
    """A URL-safe signed token granting the download of ``cid`` from ``product`` until now + ``ttl_seconds``."""
    expires = int(time.time()) + ttl_seconds
    payload = {"c": cid, "n": filename, "t": content_type, "e": expires, "p": product}
    if subject:
        payload["s"] = subject
    token = signing.dumps(
        payload,
        salt=DOWNLOAD_TOKEN_SALT,
        compress=True,
    )
    grant = DownloadGrant(
        cid=cid,
        filename=filename,
        content_type=content_type,
        expires_at=datetime.fromtimestamp(expires, UTC),
        product=product,
        subject=subject,
    )
    return token, grant


def verify_download(token: str) -> DownloadGrant:
    """The grant a token carries (with the product that issued it, "" for a link made before links
    named one); ``InvalidDownloadTokenError`` when tampered with or expired."""
    try:
        payload = signing.loads(token, salt=DOWNLOAD_TOKEN_SALT)
        cid, filename, content_type, expires = payload["c"], payload["n"], payload["t"], int(payload["e"])
        product = str(payload.get("p") or "")
        subject = str(payload.get("s") or "")
    except (signing.BadSignature, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidDownloadTokenError("bad signature") from exc
    if expires <= time.time():
        raise InvalidDownloadTokenError("expired")
    return DownloadGrant(
        cid=cid,
        filename=filename,
        content_type=content_type,
        expires_at=datetime.fromtimestamp(expires, UTC),
        product=product,
        subject=subject,
    )
