"""Every named read of the marketplace, one module per area."""
