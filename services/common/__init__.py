"""Shared runtime of every vidkiln service: a library that imports no service."""
