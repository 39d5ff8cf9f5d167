"""Input validators and output shapes of the Async Coder API (the spec's camelCase names)."""
