"""The encode options have one definition: REST schemas, validation, pricing and the encoder's tables follow it."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from gateway import schemas
from services.common.encode_options import RULES, choices
from services.common.formats import CONTAINER_CODECS
from services.encoder import profiles
from services.jobs import options, pricing

BODIES = [
    schemas.EncodeSettings,
    schemas.OnDemandEncodeRequest,
    schemas.FolderIngestRequest,
    schemas.JobCreateRequest,
    schemas.ApproveRequest,
    schemas.ConfirmRequest,
    schemas.BulkSettings,
]


@pytest.mark.parametrize("model", BODIES, ids=lambda m: m.__name__)
def test_every_rest_body_takes_every_option_as_its_rule_says(model: type[BaseModel]) -> None:
    properties: dict[str, Any] = model.model_json_schema(by_alias=True)["properties"]
    for rule in RULES.values():
        assert rule.api_name in properties, (model.__name__, rule.api_name)
        schema = properties[rule.api_name]
        variants = schema.get("anyOf", [schema])
        if rule.choices:
            assert any(v.get("enum") == list(rule.choices) for v in variants), (rule.name, schema)
        elif rule.numeric:
            assert any(v.get("minimum") == rule.low and v.get("maximum") == rule.high for v in variants), schema


def test_the_encode_apis_defaults_are_the_rules() -> None:
    body = schemas.EncodeSettings()
    assert body.fps == 30 and body.frame_rate_policy == "force"
    assert options.normalize({})["frame_rate_policy"] == "preserve"  # jobs' own default
    assert all(getattr(body, r.name) == r.api_default for r in RULES.values() if r.api_default is not None)


def test_tables_are_keyed_by_the_choices() -> None:
    codecs, containers, resolutions = set(choices("codec")), set(choices("container")), set(choices("resolution"))
    assert set(profiles.VIDEO) == set(pricing.CODEC_FACTOR) == codecs
    assert set(profiles.CONTAINERS) == set(CONTAINER_CODECS) == containers
    assert all(carried <= codecs for carried in CONTAINER_CODECS.values())
    assert set(profiles.RESOLUTIONS) == set(pricing.PER_MINUTE) == resolutions
    assert all(
        len(p.crf) == len(choices("quality")) and len(p.presets) == len(choices("preset"))
        for p in profiles.VIDEO.values()
    )


def test_an_unknown_value_is_refused_by_name() -> None:
    with pytest.raises(Exception) as refused:
        options.normalize({"codec": "mpeg2"})
    assert "codec" in str(getattr(refused.value, "violations", ""))


def test_the_encoders_spec_reads_the_rules() -> None:
    from protos.jobs.v1 import events_pb2, jobs_pb2
    from services.encoder.domain import spec_of

    spec = spec_of(events_pb2.EncodeRequested())
    for rule in RULES.values():
        if hasattr(spec, rule.name) and rule.default is not None:
            assert getattr(spec, rule.name) == rule.default, rule.name
    chosen = spec_of(events_pb2.EncodeRequested(options=jobs_pb2.EncodeOptions(codec="vp9", fps=24)))
    assert (chosen.codec, chosen.fps) == ("vp9", 24)
