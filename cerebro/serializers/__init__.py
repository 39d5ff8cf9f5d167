"""Input validation and output shapes of cerebro's endpoints, one module per area."""
