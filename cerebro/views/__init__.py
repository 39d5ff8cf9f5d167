"""cerebro's endpoints, one module per area."""
