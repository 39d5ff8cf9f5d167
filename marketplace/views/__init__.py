"""The marketplace's HTTP views, one module per area of the spec."""
