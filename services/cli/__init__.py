"""The `vidkiln` command: run the platform (`up`) and administer it (accounts, keys)."""
