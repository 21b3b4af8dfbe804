"""vidkiln's Python SDK: `from vidkiln import Client` (the platform's own code lives in services/ and gateway/)."""

from vidkiln.client import AsyncClient, Client

__all__ = ["AsyncClient", "Client"]
