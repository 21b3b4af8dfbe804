"""Schema migrations: they match the models, upgrade the previous release, run one process at a time."""
