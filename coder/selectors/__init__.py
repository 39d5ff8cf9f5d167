"""Every read of the Async Coder API worth a name: querysets with their joins, one module per area."""
