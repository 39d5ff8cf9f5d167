"""Retrieval machinery: text analysis, embedders, the circuit breaker and the two-level cache."""
