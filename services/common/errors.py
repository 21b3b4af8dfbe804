"""Domain errors: category bases (mapped to gRPC codes) and a stable reason from errors.proto."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from protos.common.v1 import errors_pb2

Reason: TypeAlias = errors_pb2.ErrorReason.ValueType
R = errors_pb2.ErrorReason


@dataclass(frozen=True)
class FieldViolation:
    """One invalid field of a request: a dotted path and what is wrong with it."""

    field: str
    description: str


class DomainError(Exception):
    """Base of every expected failure; subclasses pick the category, callers the reason."""

    default_reason: Reason = R.INTERNAL

    def __init__(
        self,
        message: str,
        *,
        reason: Reason | None = None,
        metadata: Mapping[str, str] | None = None,
        violations: Sequence[FieldViolation] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason: Reason = self.default_reason if reason is None else reason
        self.metadata: dict[str, str] = dict(metadata or {})
        self.violations: tuple[FieldViolation, ...] = tuple(violations)

    @property
    def reason_name(self) -> str:
        """The reason as it travels in ErrorInfo (UPPER_SNAKE)."""
        return errors_pb2.ErrorReason.Name(self.reason)


class InvalidArgument(DomainError):
    default_reason = R.REQUEST_INVALID


class NotFound(DomainError):
    default_reason = R.ROUTE_NOT_FOUND


class AlreadyExists(DomainError):
    default_reason = R.ALREADY_EXISTS


class FailedPrecondition(DomainError):
    default_reason = R.REQUEST_INVALID


class Conflict(DomainError):
    """A concurrent or repeated operation collides with another (gRPC ABORTED)."""

    default_reason = R.ALREADY_EXISTS


class PermissionDenied(DomainError):
    default_reason = R.FORBIDDEN


class Unauthenticated(DomainError):
    default_reason = R.CREDENTIALS_MISSING


class ResourceExhausted(DomainError):
    default_reason = R.RATE_LIMITED


class PaymentRequired(DomainError):
    """Not enough credits (HTTP 402 at the edge; gRPC FAILED_PRECONDITION)."""

    default_reason = R.TOKENS_INSUFFICIENT


class Unavailable(DomainError):
    default_reason = R.UNAVAILABLE


class PermanentError(DomainError):
    """A task that can never succeed, whatever the number of retries (the consumer terms it)."""

    default_reason = R.ENCODE_FAILED
