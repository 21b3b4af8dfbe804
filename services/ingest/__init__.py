"""Ingest service: sources, destinations and the platform's storage."""
