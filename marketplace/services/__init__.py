"""Every write of the marketplace, one module per area (auth, datasets, purchases, ...)."""
