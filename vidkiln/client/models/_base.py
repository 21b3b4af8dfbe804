"""The base of the Encode API's models: snake_case fields read from camelCase, unknown fields kept."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class EncodeModel(BaseModel):
    """An Encode API object: fields by their snake_case names, read from camelCase."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, validate_by_alias=True, extra="allow")


class MediaModel(BaseModel):
    """A Media API object: snake_case on the wire as here, unknown fields kept."""

    model_config = ConfigDict(extra="allow")
