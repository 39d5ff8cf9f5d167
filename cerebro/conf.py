"""cerebro's knobs, read from the environment with safe defaults (see docs/cerebro.md)."""

from __future__ import annotations

import environ

env = environ.Env()

# Layers and their default time to live, in minutes (None: never expires).
TTL_MINUTES = {
    "context": env.int("CEREBRO_TTL_CONTEXT_MINUTES", default=15),
    "temporary": env.int("CEREBRO_TTL_TEMPORARY_MINUTES", default=10080),
    "permanent": None,
}
MAX_CONTENT_BYTES = 1024 * 1024
MAX_TAGS = 32
MAX_KEY_LENGTH = 255

# Promotion from temporary to permanent without `force` needs at least this confidence.
PROMOTE_MIN_CONFIDENCE = env.float("CEREBRO_PROMOTE_MIN_CONFIDENCE", default=0.8)

# Working set (POST /api/memory/context).
TOKEN_BUDGET = env.int("CEREBRO_TOKEN_BUDGET", default=2000)
MAX_TOKEN_BUDGET = env.int("CEREBRO_MAX_TOKEN_BUDGET", default=32000)
CONTEXT_RECENT_MESSAGES = env.int("CEREBRO_CONTEXT_RECENT_MESSAGES", default=6)
# Relevance is ranked against this many of the conversation's most informative terms (as search
# is against at most 8 words): every memory holding one of them is ranked, so more terms cost more.
CONTEXT_CONVERSATION_TERMS = env.int("CEREBRO_CONTEXT_CONVERSATION_TERMS", default=8)
# On PostgreSQL a term's informativeness comes from ANALYZE's lexeme statistics, read again by each
# process at most this often (they change only when ANALYZE runs).
LEXEME_STATISTICS_SECONDS = env.int("CEREBRO_LEXEME_STATISTICS_SECONDS", default=300)
# Candidates scored for a budget: one per this many tokens of maxTokens (2,000 tokens: 100), at
# least CONTEXT_MIN_CANDIDATES and at most CONTEXT_CANDIDATES; when the budget takes every one of
# them, the ranking runs once more with the most.
CONTEXT_TOKENS_PER_CANDIDATE = env.int("CEREBRO_CONTEXT_TOKENS_PER_CANDIDATE", default=20)
CONTEXT_MIN_CANDIDATES = env.int("CEREBRO_CONTEXT_MIN_CANDIDATES", default=50)
CONTEXT_CANDIDATES = env.int("CEREBRO_CONTEXT_CANDIDATES", default=200)
# The candidate pool: every memory matching the conversation, and per layer this many of the most
# recent and as many of the most confident (cerebro/retrieval/working_set.py) when CONTEXT_CANDIDATES
# are scored; fewer candidates, proportionally shorter lists.
CONTEXT_POOL = env.int("CEREBRO_CONTEXT_POOL", default=100)
CONTEXT_WEIGHTS = {"relevance": 0.45, "layer": 0.2, "confidence": 0.2, "recency": 0.15}
LAYER_WEIGHTS = {"context": 1.0, "permanent": 0.8, "temporary": 0.6}
RECENCY_HALF_LIFE_HOURS = env.float("CEREBRO_RECENCY_HALF_LIFE_HOURS", default=24.0)

# RAG.
EMBEDDER = env.str("CEREBRO_EMBEDDER", default="cerebro.retrieval.embedders.HashingEmbedder")
EMBEDDING_DIMENSIONS = env.int("CEREBRO_EMBEDDING_DIMENSIONS", default=1024)
RAG_MIN_SCORE = env.float("CEREBRO_RAG_MIN_SCORE", default=0.05)
RAG_CACHE_SECONDS = env.int("CEREBRO_RAG_CACHE_SECONDS", default=300)
RAG_L1_MAX_ENTRIES = env.int("CEREBRO_RAG_L1_MAX_ENTRIES", default=512)
RAG_L1_SECONDS = env.int("CEREBRO_RAG_L1_SECONDS", default=60)
RAG_LEXICAL_FALLBACK = env.bool("CEREBRO_RAG_LEXICAL_FALLBACK", default=True)
BREAKER_FAILURE_THRESHOLD = env.int("CEREBRO_BREAKER_FAILURES", default=5)
BREAKER_RESET_SECONDS = env.int("CEREBRO_BREAKER_RESET_SECONDS", default=30)
CHUNK_TOKENS = env.int("CEREBRO_CHUNK_TOKENS", default=300)
CHUNK_OVERLAP_TOKENS = env.int("CEREBRO_CHUNK_OVERLAP_TOKENS", default=50)

# Metrics (GET /api/memory/metrics).
LATENCY_WINDOW_SECONDS = env.int("CEREBRO_LATENCY_WINDOW_SECONDS", default=900)
LATENCY_WINDOW_SAMPLES = env.int("CEREBRO_LATENCY_WINDOW_SAMPLES", default=2000)
ALERT_P95_MS = env.float("CEREBRO_ALERT_P95_MS", default=100.0)
ALERT_P99_MS = env.float("CEREBRO_ALERT_P99_MS", default=250.0)
ALERT_MIN_HIT_RATIO = env.float("CEREBRO_ALERT_MIN_HIT_RATIO", default=0.2)
ALERT_MIN_LOOKUPS = env.int("CEREBRO_ALERT_MIN_LOOKUPS", default=50)

# Files.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
FILE_URL_SECONDS = env.int("CEREBRO_FILE_URL_SECONDS", default=7 * 24 * 3600)

# Chat in the minicontratos app's shape (AI SDK 5 UI message stream).
# Earlier messages of the chat sent to the model with the new one (the app sends only the new one).
CHAT_HISTORY_MESSAGES = env.int("CEREBRO_CHAT_HISTORY_MESSAGES", default=50)
# The app's model choices ("chat-model", "chat-model-reasoning") name no model of a model server:
# `alias=model,alias=model`; an alias not listed uses LLM_DEFAULT_MODEL.
CHAT_MODELS = env.dict("CEREBRO_CHAT_MODELS", default={})
# A running answer can be resumed; its frames are kept at most this long, and a reader gives up
# after this long without a new frame (its producer is gone).
CHAT_STREAM_MAX_SECONDS = env.int("CEREBRO_CHAT_STREAM_MAX_SECONDS", default=900)
CHAT_STREAM_IDLE_SECONDS = env.int("CEREBRO_CHAT_STREAM_IDLE_SECONDS", default=90)
# An answer that finished this recently is handed to a resuming client whole (data-appendMessage).
CHAT_RESTORE_SECONDS = env.int("CEREBRO_CHAT_RESTORE_SECONDS", default=15)
# Files attached to a message, up to this size: images go to the model inline (base64), text and
# PDF files as their text, up to this many characters.
CHAT_ATTACHMENT_MAX_BYTES = env.int("CEREBRO_CHAT_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
CHAT_ATTACHMENT_CHARACTERS = env.int("CEREBRO_CHAT_ATTACHMENT_CHARACTERS", default=20_000)
