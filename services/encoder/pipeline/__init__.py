"""The transcode pipeline: plan from the first frame, decode -> filter graph -> encode, passes."""

from services.encoder.pipeline.spec import EncodeSpec, Interrupted, Reporter, TranscodeResult
from services.encoder.pipeline.transcode import transcode

__all__ = ["EncodeSpec", "Interrupted", "Reporter", "TranscodeResult", "transcode"]
