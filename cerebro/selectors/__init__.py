"""Every read of cerebro worth a name, one module per area."""
