"""Route tables, one module per dialect."""
