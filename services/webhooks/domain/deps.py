"""What the webhooks use cases need from the outside world."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from services.common.db import Sessions
from services.common.netguard import AddressPolicy
from services.common.secretbox import SecretBox

# Seconds after each failed attempt before the next: ≈1 min, 5 min, 30 min (the Encode API's documented
# first three), then hourly-ish steps, so the last attempt comes more than 24 hours after the first.
DEFAULT_SCHEDULE = (60.0, 300.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 43200.0)


@dataclass(frozen=True)
class Policy:
    max_subscriptions: int = 25  # per account; more is webhook_limit_exceeded
    retry_schedule: tuple[float, ...] = DEFAULT_SCHEDULE
    jitter: float = 0.1  # each wait is stretched or shrunk by up to this fraction
    disable_after: int = 10  # consecutive failed attempts that switch a subscription off
    public_url: str = "http://127.0.0.1:8080"  # base of the download links in Media API payloads


@dataclass(frozen=True)
class Deps:
    sessions: Sessions
    box: SecretBox
    addresses: AddressPolicy
    policy: Policy = field(default_factory=Policy)
    wake: Callable[[], None] = lambda: None  # tells the dispatcher new deliveries are due
