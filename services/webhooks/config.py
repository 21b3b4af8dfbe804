"""Webhooks settings."""

from __future__ import annotations

from services.common.config import BaseServiceSettings


class Settings(BaseServiceSettings):
    pass
