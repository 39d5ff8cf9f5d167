"""Settings of the marketplace (Synthik) API, read from the environment with safe defaults."""

from __future__ import annotations

import environ
from django.conf import settings

env = environ.Env()

# Payments --------------------------------------------------------------------------------------
# Ethereum JSON-RPC node used to verify purchase transactions (falls back to the platform's ETH_RPC_URL).
ETH_RPC_URL = env.str("MARKETPLACE_ETH_RPC_URL", default="") or settings.ETH_RPC_URL
ETH_RPC_TIMEOUT_SECONDS = env.float("MARKETPLACE_ETH_RPC_TIMEOUT_SECONDS", default=10.0)
# Blocks on top of the transaction's block (the block itself counts as one confirmation).
MIN_CONFIRMATIONS = env.int("MARKETPLACE_MIN_CONFIRMATIONS", default=12)
# Paid to when the dataset's creator has no wallet address on file (e.g. a platform treasury).
PAYEE_ADDRESS = env.str("MARKETPLACE_PAYEE_ADDRESS", default="")
# How long (and how often) a pending crypto purchase is re-checked before it is marked failed.
PURCHASE_RECHECK_MAX_ATTEMPTS = env.int("MARKETPLACE_PURCHASE_RECHECK_MAX_ATTEMPTS", default=12)
PURCHASE_RECHECK_BASE_SECONDS = env.int("MARKETPLACE_PURCHASE_RECHECK_BASE_SECONDS", default=15)
PURCHASE_RECHECK_MAX_SECONDS = env.int("MARKETPLACE_PURCHASE_RECHECK_MAX_SECONDS", default=600)

STRIPE_API_URL = env.str("STRIPE_API_URL", default="https://api.stripe.com")
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=10.0)

# Wallet sign-in ----------------------------------------------------------------------------------
SIWE_MAX_AGE_SECONDS = env.int("MARKETPLACE_SIWE_MAX_AGE_SECONDS", default=600)
# Used nonces are kept at least this long (longer than any message can stay acceptable).
SIWE_NONCE_RETENTION_SECONDS = env.int("MARKETPLACE_SIWE_NONCE_RETENTION_SECONDS", default=86400)

# Datasets, downloads, generation -------------------------------------------------------------------
DOWNLOAD_URL_TTL_SECONDS = env.int("MARKETPLACE_DOWNLOAD_URL_TTL_SECONDS", default=900)
MAX_ACTIVE_GENERATION_JOBS = env.int("MARKETPLACE_MAX_ACTIVE_GENERATION_JOBS", default=5)
MAX_DATASET_ROWS = env.int("MARKETPLACE_MAX_DATASET_ROWS", default=1_000_000)
PREVIEW_ROWS = env.int("MARKETPLACE_PREVIEW_ROWS", default=10)
# The most bytes a Parquet dataset file may decode to (its values as Arrow holds them, dictionaries
# counted as the values they stand for): a few hundred compressed bytes can stand for gigabytes.
# Checked on upload and whenever a stored file is decoded (a download in another format; training,
# of the rows it reads).
MAX_DATASET_DECODED_BYTES = env.int("MARKETPLACE_MAX_DATASET_DECODED_BYTES", default=512 * 1024 * 1024)
# The most pages the list columns of a Parquet file may have in all. Their page headers are read in
# Python before a value is decoded (6 to 10 microseconds a page): 50 MB of tiny pages would be 1.4
# million headers, some 9 s of a worker. Writers put 50 to 500 pages in a million-row list column.
MAX_DATASET_PARQUET_LIST_PAGES = env.int("MARKETPLACE_MAX_DATASET_PARQUET_LIST_PAGES", default=50_000)
TRENDING_WINDOW_DAYS = env.int("MARKETPLACE_TRENDING_WINDOW_DAYS", default=30)
TRENDING_HALF_LIFE_DAYS = env.float("MARKETPLACE_TRENDING_HALF_LIFE_DAYS", default=7.0)
ANALYTICS_DAYS = env.int("MARKETPLACE_ANALYTICS_DAYS", default=30)

# Webhooks ----------------------------------------------------------------------------------------
WEBHOOK_TIMEOUT_SECONDS = env.float("MARKETPLACE_WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_MAX_ATTEMPTS = env.int("MARKETPLACE_WEBHOOK_MAX_ATTEMPTS", default=6)
WEBHOOK_BACKOFF_BASE_SECONDS = env.int("MARKETPLACE_WEBHOOK_BACKOFF_BASE_SECONDS", default=30)
WEBHOOK_BACKOFF_MAX_SECONDS = env.int("MARKETPLACE_WEBHOOK_BACKOFF_MAX_SECONDS", default=3600)
WEBHOOK_MAX_ENDPOINTS_PER_USER = env.int("MARKETPLACE_WEBHOOK_MAX_ENDPOINTS_PER_USER", default=10)
# Deliveries go only to public addresses: an endpoint whose host is (or resolves to) a loopback,
# private, link-local or otherwise non-public address is refused, at registration and at each
# try. Tests and local development may allow them.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("MARKETPLACE_WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False)

# IPFS pinning (optional) -------------------------------------------------------------------------
# A Kubo node's RPC API (e.g. http://127.0.0.1:5001). Unset: nothing is pinned. When set, each
# generated dataset's full file and preview (and an uploaded dataset's file) are pinned there by a
# Celery task after the dataset is stored; the node being down never blocks or fails a job.
IPFS_API_URL = env.str("IPFS_API_URL", default="").rstrip("/")
# Sent as the Authorization header when set (Kubo's API.Authorizations: "Basic ..." or "Bearer ...").
IPFS_API_AUTHORIZATION = env.str("IPFS_API_AUTHORIZATION", default="")
IPFS_CONNECT_TIMEOUT_SECONDS = env.float("IPFS_CONNECT_TIMEOUT_SECONDS", default=5.0)
# Per read/write of the upload (not for the whole file).
IPFS_TIMEOUT_SECONDS = env.float("IPFS_TIMEOUT_SECONDS", default=60.0)
IPFS_PIN_MAX_ATTEMPTS = env.int("IPFS_PIN_MAX_ATTEMPTS", default=8)
# Seconds before the second try, doubling after each failed one, capped.
IPFS_PIN_BACKOFF_BASE_SECONDS = env.int("IPFS_PIN_BACKOFF_BASE_SECONDS", default=30)
IPFS_PIN_BACKOFF_MAX_SECONDS = env.int("IPFS_PIN_BACKOFF_MAX_SECONDS", default=3600)
# A try may last this long before the task is stopped (and the upkeep tries again later).
IPFS_PIN_TIME_LIMIT_SECONDS = env.int("IPFS_PIN_TIME_LIMIT_SECONDS", default=1800)
