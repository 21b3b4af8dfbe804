"""Encode options: checked against their rules (services/common/encode_options.py), defaults filled in, and
combinations a container cannot carry refused."""

from __future__ import annotations

from collections.abc import Mapping

from services.common.encode_options import RULES
from services.common.errors import FieldViolation, InvalidArgument, R
from services.common.formats import CONTAINER_CODECS

Options = dict[str, str | int | float]

PRIORITIES = ("normal", "high")


def public_name(option: str) -> str:
    return RULES[option].api_name


def normalize(given: Mapping[str, object]) -> Options:
    """Every option with defaults filled in; InvalidArgument naming each bad field."""
    options: Options = {}
    violations: list[FieldViolation] = []
    for rule in RULES.values():
        value = given.get(rule.name)
        if rule.default is None:  # an optional number (poster_at_sec): kept only when given
            if value is None:
                continue
            if not isinstance(value, int | float) or value < 0:
                violations.append(FieldViolation(rule.api_name, "must be a number of seconds, 0 or more"))
            else:
                options[rule.name] = float(value)
            continue
        value = value or rule.default  # proto3 zero values ("", 0) mean "not given"
        if rule.numeric:
            assert rule.low is not None and rule.high is not None
            if not isinstance(value, int) or not rule.low <= value <= rule.high:
                violations.append(FieldViolation(rule.api_name, f"must be an integer from {rule.low} to {rule.high}"))
                value = rule.default
        elif value not in rule.choices:
            violations.append(FieldViolation(rule.api_name, f"must be one of {', '.join(rule.choices)}"))
        options[rule.name] = value if isinstance(value, str | int) else str(value)
    if violations:
        raise InvalidArgument("The encode options are not valid.", reason=R.BODY_INVALID, violations=violations)
    container, codec = str(options["container"]), str(options["codec"])
    if codec not in CONTAINER_CODECS[container]:
        allowed = ", ".join(sorted(CONTAINER_CODECS[container]))
        raise InvalidArgument(
            f"A {container} file cannot carry {codec}; use one of {allowed}.",
            reason=R.OPTIONS_INCOMPATIBLE,
            violations=[FieldViolation("codec", f"not playable in {container}")],
        )
    return options
