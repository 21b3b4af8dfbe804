"""The encode options of the REST bodies, built from their one definition (services/common/encode_options.py).

Every body that takes encode options gets one field per EncodeOptions field, typed from its rule
(an enum of its choices, or a bounded integer): an option added to the proto is accepted, validated
and forwarded by every route without a line here.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from protos.jobs.v1 import jobs_pb2
from services.common.encode_options import RULES, Rule

# What the Encode API documents for an option left out (where it differs from jobs' own: 30 fps, forced).
API_DEFAULTS: Mapping[str, str | int] = {
    rule.name: rule.api_default for rule in RULES.values() if rule.api_default is not None
}


def _type(rule: Rule) -> Any:
    if rule.choices:
        return Literal[rule.choices]  # Literal of the tuple: one of its values
    if rule.numeric:
        return int
    return float  # a number of seconds (poster_at_sec)


def _field(rule: Rule, *, with_default: bool, required: bool) -> tuple[Any, Any]:
    bounds: dict[str, Any] = {"ge": rule.low, "le": rule.high} if rule.numeric else {}
    if rule.default is None:  # an optional number: seconds, 0 or more
        return _type(rule) | None, Field(None, ge=0)
    if required:
        return _type(rule), Field(..., **bounds)
    if with_default:
        return _type(rule), Field(rule.api_default, **bounds)
    return _type(rule) | None, Field(None, **bounds)


def option_model(name: str, base: type[BaseModel], *, with_defaults: bool, required: Collection[str] = ()) -> Any:
    """A model class with one field per encode option: each with the Encode API's default (`with_defaults`),
    required (`required`), or else optional (None: not given)."""
    fields: dict[str, Any] = {
        rule.name: _field(rule, with_default=with_defaults, required=rule.name in required) for rule in RULES.values()
    }
    return create_model(name, __base__=base, **fields)


def given(body: BaseModel) -> dict[str, Any]:
    """The encode options a body carries (None: not given)."""
    return {name: value for name in RULES if (value := getattr(body, name, None)) is not None}


def options_of(body: BaseModel, defaults: Mapping[str, Any] | None = None) -> jobs_pb2.EncodeOptions:
    """The encode options a body set over `defaults` (options neither sets stay unset: the job's own apply)."""
    return jobs_pb2.EncodeOptions(**{**(defaults or {}), **given(body)})
