"""config.yaml schema per model kind: `kind` picks the class that validates the file.

A new kind adds its config class (in its own module, built from the sections
in config.py) and one line here.
"""

from __future__ import annotations

from pydantic import BaseModel

from seqserve.server.repository.captioner_config import CaptionerConfig
from seqserve.server.repository.config import ModelConfig
from seqserve.server.repository.streaming_config import StreamingConfig
from seqserve.server.repository.tagger_config import TaggerConfig

SCHEMAS: dict[str, type[BaseModel]] = {
    "seq2seq": ModelConfig,
    "tagger": TaggerConfig,
    "captioner": CaptionerConfig,
    "streaming": StreamingConfig,
}
