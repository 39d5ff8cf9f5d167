"""Every write of cerebro, one module per area (memory, knowledge, files, chat)."""
