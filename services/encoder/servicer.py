"""EncoderService over gRPC: what this worker's FFmpeg build can produce."""

from __future__ import annotations

from typing import Any

import av
import grpc

from protos.encoder.v1 import encoder_pb2, encoder_pb2_grpc
from services.common.formats import CONTAINER_CODECS
from services.encoder import profiles


class EncoderServicer(encoder_pb2_grpc.EncoderServiceServicer):
    async def ListEncoders(
        self, request: encoder_pb2.ListEncodersRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> encoder_pb2.ListEncodersResponse:
        available = av.codecs_available
        encoders = [
            encoder_pb2.EncoderInfo(
                codec=codec,
                encoder=profile.encoder,
                containers=sorted(c for c, spec in CONTAINER_CODECS.items() if codec in spec),
            )
            for codec, profile in profiles.VIDEO.items()
            if profile.encoder in available
        ]
        return encoder_pb2.ListEncodersResponse(encoders=encoders)
