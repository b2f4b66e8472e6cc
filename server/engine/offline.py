"""The served decode path without a server: for export verification, BLEU and benches.

It runs the same scheduler, beam search and graphs as `seqserve serve`, on a
background thread, and blocks the caller until results are ready.
"""

from __future__ import annotations

from pathlib import Path

from seqserve.server.engine.options import DecodingOptions
from seqserve.server.engine.results import SentenceResult
from seqserve.server.engine.translator import Seq2SeqModel
from seqserve.server.repository.config import load_config
from seqserve.server.repository.repository import ModelVersion

_UNBOUNDED_QUEUE = 1 << 30


class OfflineTranslator:
    def __init__(self, version_dir: Path, *, policy: str = "continuous") -> None:
        version_dir = Path(version_dir)
        config = load_config(version_dir)
        # Offline callers submit everything at once: no queue bound, no token limit.
        config = config.model_copy(update={
            "batching": config.batching.model_copy(update={"max_queue": _UNBOUNDED_QUEUE}),
        })
        version = int(version_dir.name) if version_dir.name.isdigit() else 1
        self.model = Seq2SeqModel(
            ModelVersion(config.name, version, version_dir, config), policy=policy
        )
        self.model.start()

    def decode_ids(
        self, src_ids: list[list[int]], options: DecodingOptions
    ) -> list[SentenceResult]:
        """Decode source token ids (EOS included, as the tokenizer produces them)."""
        return self.model.decode_ids_blocking(src_ids, options)

    def translate(self, sentences: list[str], options: DecodingOptions) -> list[SentenceResult]:
        sources = [self.model.tokenizer.encode_source(s) for s in sentences]
        return self.decode_ids(sources, options)

    def close(self) -> None:
        self.model.stop()

    def __enter__(self) -> OfflineTranslator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
