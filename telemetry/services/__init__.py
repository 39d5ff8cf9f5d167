"""Every telemetry write, by use case: keys, learnings (ingest), the pattern set, fix review."""
