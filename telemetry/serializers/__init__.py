"""Input validation (``inputs``) and output shapes (``outputs``) of the NextGen Cloud API."""
