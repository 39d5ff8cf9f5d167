"""Settings of the generation and training engines, read from the environment with safe defaults."""

from __future__ import annotations

import environ

env = environ.Env()

# Progress is written and published at most once per this many seconds (and once per percent).
PROGRESS_MIN_INTERVAL_SECONDS = env.float("MARKETPLACE_ENGINE_PROGRESS_INTERVAL_SECONDS", default=0.5)
# Celery time limits of one run (the hard limit, one minute later, kills the worker process).
GENERATION_SOFT_TIME_LIMIT = env.int("MARKETPLACE_GENERATION_SOFT_TIME_LIMIT", default=1800)
TRAINING_SOFT_TIME_LIMIT = env.int("MARKETPLACE_TRAINING_SOFT_TIME_LIMIT", default=1800)
# A job whose task was delivered this many times without finishing (worker killed each time) fails.
MAX_DELIVERIES = env.int("MARKETPLACE_ENGINE_MAX_DELIVERIES", default=3)
# Retries of a run that failed on a transient error (database or storage unreachable).
TRANSIENT_RETRIES = env.int("MARKETPLACE_ENGINE_TRANSIENT_RETRIES", default=3)
# Training reads at most this many rows of the dataset (the first ones; the file order is random).
TRAINING_MAX_ROWS = env.int("MARKETPLACE_TRAINING_MAX_ROWS", default=200_000)

# Training size caps (a bigger request is a 400 at POST /models, before a model or job exists).
TRAINING_MAX_EPOCHS = env.int("MARKETPLACE_TRAINING_MAX_EPOCHS", default=1000)
TRAINING_MAX_BATCH_SIZE = env.int("MARKETPLACE_TRAINING_MAX_BATCH_SIZE", default=4096)
TRAINING_MAX_HIDDEN_LAYERS = env.int("MARKETPLACE_TRAINING_MAX_HIDDEN_LAYERS", default=4)
TRAINING_MAX_LAYER_SIZE = env.int("MARKETPLACE_TRAINING_MAX_LAYER_SIZE", default=512)
TRAINING_MAX_TREES = env.int("MARKETPLACE_TRAINING_MAX_TREES", default=500)
TRAINING_MAX_DEPTH = env.int("MARKETPLACE_TRAINING_MAX_DEPTH", default=64)
# Mini-batch steps of the estimators trained in passes (sgd, mlp): epochs x batches per epoch.
TRAINING_MAX_STEPS = env.int("MARKETPLACE_TRAINING_MAX_STEPS", default=200_000)
