"""Reads about uploaded files."""

from __future__ import annotations

from accounts import products
from accounts.tokens import download_link_issue
from cerebro import conf
from cerebro.models import Upload


def download_path(upload: Upload) -> str:
    """A signed, expiring path that serves the upload's bytes (``CEREBRO_FILE_URL_SECONDS``)."""
    token, _ = download_link_issue(
        product=products.CEREBRO,
        cid=upload.cid,
        filename=upload.filename,
        content_type=upload.content_type,
        ttl_seconds=conf.FILE_URL_SECONDS,
    )
    return f"/cerebro/api/files/download/{token}"
