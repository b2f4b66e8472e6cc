"""config.yaml schema of `kind: captioner` (CNN image encoder + the decoder-step contract).

encoder: image float[B,C,H,W] (normalised) -> memory [B,S,M], init_h, init_c
decoder: exactly the seq2seq decoder-step graph (Seq2SeqTensors), so the
server decodes captions with the translator's scheduler and beam search.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from seqserve.server.repository.config import (
    BatchingConfig,
    DecodingDefaults,
    RuntimeConfig,
    Seq2SeqTensors,
    StrictModel,
)


class CaptionerGraphs(StrictModel):
    encoder: str = "encoder.onnx"
    decoder: str = "decoder.onnx"
    image: str = "image"
    """Input tensor name of the image encoder."""
    tensors: Seq2SeqTensors = Seq2SeqTensors()


class ImagePreprocessing(StrictModel):
    channels: Literal[3] = 3
    height: int = Field(48, ge=1, le=4096)
    width: int = Field(48, ge=1, le=4096)
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)
    """The graph sees (pixel / 255 - mean) / std, channels first (RGB)."""


class CaptionVocab(StrictModel):
    file: str = "vocab.json"
    """JSON list of output words; index = id."""
    bos_id: int = Field(1, ge=0)
    eos_id: int = Field(2, ge=0)
    pad_id: int = Field(0, ge=0)


class CaptionerLimits(StrictModel):
    max_images: int = Field(32, ge=1)
    """Most images in one request."""
    max_image_bytes: int = Field(4 * 1024 * 1024, ge=1)
    """Largest encoded image accepted, before decoding."""
    max_pixels: int = Field(4096 * 4096, ge=1)
    """Largest width*height accepted, read from the header before decoding
    (decompression-bomb guard)."""
    max_request_pixels: int = Field(2 * 4096 * 4096, ge=1)
    """Largest width*height summed over the images of one request, read from the
    headers before any is decoded (bounds the CPU one request can cost)."""
    max_beam_size: int = Field(8, ge=1)
    max_output_length: int = Field(64, ge=1)
    max_prefix_tokens: int = Field(16, ge=0)
    """Most target_prefix words per caption."""
    max_ngram_size: int = Field(8, ge=0)
    max_suppressed_sequences: int = Field(32, ge=0)


class CaptionerConfig(StrictModel):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    kind: Literal["captioner"] = "captioner"
    description: str = ""
    graphs: CaptionerGraphs = CaptionerGraphs()
    preprocessing: ImagePreprocessing = ImagePreprocessing()
    vocab: CaptionVocab = CaptionVocab()
    decoding: DecodingDefaults = DecodingDefaults(beam_size=5, max_length=24)
    limits: CaptionerLimits = CaptionerLimits()
    batching: BatchingConfig = BatchingConfig()
    runtime: RuntimeConfig = RuntimeConfig()

    @model_validator(mode="after")
    def _defaults_within_limits(self) -> CaptionerConfig:
        if self.decoding.beam_size > self.limits.max_beam_size:
            raise ValueError("decoding.beam_size exceeds limits.max_beam_size")
        if self.decoding.max_length > self.limits.max_output_length:
            raise ValueError("decoding.max_length exceeds limits.max_output_length")
        return self
