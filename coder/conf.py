"""Settings of the Async Coder API, read from the environment with safe defaults.

Values are read when first used (``coder.conf.TASK_QUEUE``), so tests can monkeypatch them.
The platform-wide knobs (``CLERK_*``, ``GITHUB_*``, ``LLM_*``) stay in config/settings.py; Clerk
sign-in is verified in accounts/identity/clerk.py.
"""

from __future__ import annotations

import environ

env = environ.Env()

# Credits ----------------------------------------------------------------------------------------
# Credits a new user starts with (one "credit" ledger entry, "Welcome credits").
SIGNUP_CREDITS = env.int("CODER_SIGNUP_CREDITS", default=100)
# What one credit is worth in US dollars; a model's costPerToken is in dollars per token.
USD_PER_CREDIT = env.float("CODER_USD_PER_CREDIT", default=0.01)
DEFAULT_SUBSCRIPTION_TIER = env.str("CODER_DEFAULT_SUBSCRIPTION_TIER", default="free")

# Task runs --------------------------------------------------------------------------------------
# The Celery queue task runs go to (a deployment may give coder its own workers); unset, the
# default queue (CELERY_TASK_DEFAULT_QUEUE).
TASK_QUEUE = env.str("CODER_TASK_QUEUE", default="") or None
# Tokens of repository files sent to the model at most (also capped by the model's maxTokens).
CONTEXT_TOKEN_BUDGET = env.int("CODER_CONTEXT_TOKEN_BUDGET", default=6000)
# Tokens the model may write at most (also capped by a quarter of the model's maxTokens).
COMPLETION_TOKEN_BUDGET = env.int("CODER_COMPLETION_TOKEN_BUDGET", default=2000)
# Files larger than this are never sent to the model.
MAX_FILE_BYTES = env.int("CODER_MAX_FILE_BYTES", default=100_000)
# How many files of the repository are read for relevance scoring at most.
MAX_SCANNED_FILES = env.int("CODER_MAX_SCANNED_FILES", default=2000)
# Seconds a run may take (the worker stops it, settles it as failed, refunds the unused credits).
RUN_SOFT_TIME_LIMIT_SECONDS = env.int("CODER_RUN_SOFT_TIME_LIMIT", default=900)
# Runs of one task before it is failed (a run is re-delivered when its worker dies).
MAX_RUN_ATTEMPTS = env.int("CODER_MAX_RUN_ATTEMPTS", default=2)
# task:status_updated is sent at most this often per task (status changes always go out).
PROGRESS_EVENT_MIN_SECONDS = env.float("CODER_PROGRESS_EVENT_MIN_SECONDS", default=1.0)
# A task still pending or running after this long is failed and refunded by the beat sweep.
STALE_TASK_SECONDS = env.int("CODER_STALE_TASK_SECONDS", default=3 * 3600)
# Seconds any single git command may take (clone, apply, push); then it and all it started are killed.
GIT_TIMEOUT_SECONDS = env.int("CODER_GIT_TIMEOUT_SECONDS", default=120)
# Seconds the check that a new task's branches exist may take (it runs inside POST /api/tasks).
BRANCH_CHECK_TIMEOUT_SECONDS = env.int("CODER_BRANCH_CHECK_TIMEOUT_SECONDS", default=15)
# Seconds a run may spend reading the checkout's files to choose the model's context.
REPOSITORY_READ_TIMEOUT_SECONDS = env.int("CODER_REPOSITORY_READ_TIMEOUT_SECONDS", default=60)
# Room one clone may take on disk, its objects and its checked-out files together (a run that needs
# more fails, free, and nothing of the clone is left), and the largest file it may hold (GitHub
# itself refuses files over 100 MiB).
CLONE_MAX_BYTES = env.int("CODER_CLONE_MAX_BYTES", default=512 * 2**20)
CLONE_MAX_FILE_BYTES = env.int("CODER_CLONE_MAX_FILE_BYTES", default=100 * 2**20)
GIT_AUTHOR_NAME = env.str("CODER_GIT_AUTHOR_NAME", default="Async Coder")
GIT_AUTHOR_EMAIL = env.str("CODER_GIT_AUTHOR_EMAIL", default="async-coder@users.noreply.github.com")
BRANCH_PREFIX = "async-coder/"
# Where clones are made while a task runs (a fresh temporary folder per run, removed afterwards).
WORK_DIR = env.str("CODER_WORK_DIR", default="")
RUN_DIRECTORY_PREFIX = "async-coder-"
CHECKOUT_DIRECTORY = "repository"
# file:// repository URLs (tests, self-hosted mirrors). Never enable where users can set URLs.
ALLOW_FILE_REPOSITORIES = env.bool("CODER_ALLOW_FILE_REPOSITORIES", default=False)

# GitHub -----------------------------------------------------------------------------------------
GITHUB_TIMEOUT_SECONDS = env.float("CODER_GITHUB_TIMEOUT_SECONDS", default=15.0)
# Scopes asked for when connecting (documented for the front end's authorize URL).
GITHUB_SCOPES = env.str("CODER_GITHUB_SCOPES", default="repo read:user user:email")
# At most this many pages of 100 repositories are read per sync.
GITHUB_MAX_PAGES = env.int("CODER_GITHUB_MAX_PAGES", default=50)

# Session cookie ---------------------------------------------------------------------------------
SESSION_COOKIE_NAME = "async_coder_session"
API_KEY_PREFIX = "ac_"
