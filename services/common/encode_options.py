"""The encode options as their one definition says: the rule on each field of jobs.v1.EncodeOptions.

The gateway builds its REST schemas from these rules, jobs validates and fills in defaults with
them, and the encoder's profile tables are keyed by their choices; nothing else lists an option's
values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from google.protobuf.descriptor import FieldDescriptor
from pydantic.alias_generators import to_camel

from protos.jobs.v1 import jobs_pb2, options_pb2


@dataclass(frozen=True)
class Rule:
    """One option: its proto field name, REST name, and either its choices or its whole-number range."""

    name: str
    api_name: str
    choices: tuple[str, ...] = ()
    default: str | int | None = None  # jobs' default when left out (None: no default, e.g. poster_at_sec)
    api_default: str | int | None = None  # the Encode API's documented default
    low: int | None = None
    high: int | None = None

    @property
    def numeric(self) -> bool:
        return self.low is not None


def _rule(field: FieldDescriptor) -> Rule:
    name, options = field.name, field.GetOptions()
    if not options.HasExtension(options_pb2.rule):
        return Rule(name, to_camel(name))
    rule: options_pb2.OptionRule = options.Extensions[options_pb2.rule]
    if rule.choices:
        return Rule(name, to_camel(name), tuple(rule.choices), rule.default, rule.api_default or rule.default)
    default = rule.default_number
    return Rule(name, to_camel(name), (), default, rule.api_default_number or default, rule.min, rule.max)


RULES: Mapping[str, Rule] = MappingProxyType(
    {field.name: _rule(field) for field in jobs_pb2.EncodeOptions.DESCRIPTOR.fields}
)


def choices(name: str) -> tuple[str, ...]:
    """The values a text option takes, in their documented order."""
    return RULES[name].choices


def by_api_name(api_name: str) -> Rule | None:
    return next((rule for rule in RULES.values() if rule.api_name == api_name), None)
