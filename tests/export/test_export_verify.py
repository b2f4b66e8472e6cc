"""Beam verification logic with fake engines (no graphs): identical, mismatched, wrong count."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqserve.export.reference_beam import BeamOptions, RefHypothesis
from seqserve.export.torch_step import reference_decode
from seqserve.export.verify import (
    CheckResult,
    VerificationError,
    beam_options,
    compare_sentence,
    verify_beam_search,
)
from seqserve.export.writer import build_config, write_config
from seqserve.server.engine.options import DecodingOptions
from seqserve.server.engine.results import Hypothesis, SentenceResult
from tests.export.conftest import TinyCorpus
from tests.export.tiny_module import TinySeq2Seq


def _served(hyps: list[RefHypothesis], shift: float = 0.0) -> SentenceResult:
    return SentenceResult(
        [Hypothesis("", list(h.tokens), h.score + shift, h.log_prob + shift) for h in hyps]
    )


class ReferenceEngine:
    """A fake served engine that answers with the reference itself, optionally damaged."""

    def __init__(self, module: TinySeq2Seq, config_dir: Path, damage: bool = False) -> None:
        self.module, self.config_dir, self.damage = module, config_dir, damage
        self.closed = False

    def decode_ids(self, src_ids: list[list[int]], options: DecodingOptions):
        from seqserve.server.repository.config import load_config

        opts = beam_options(load_config(self.config_dir), options)
        out = [_served(reference_decode(self.module, s, opts), shift=1e-7) for s in src_ids]
        if self.damage:
            first = out[0].hypotheses[0]
            out[0] = SentenceResult(
                [Hypothesis("", [*first.tokens, 5], first.score, first.log_prob)]
            )
        return out

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def version_dir(tmp_path: Path) -> Path:
    write_config(tmp_path, build_config("tiny", {"decoding": {"max_length": 10}}))
    return tmp_path


def test_beam_options_take_model_defaults(version_dir: Path) -> None:
    from seqserve.server.repository.config import load_config

    opts = beam_options(load_config(version_dir), DecodingOptions(beam_size=3))
    assert opts == BeamOptions(beam_size=3, n_best=1, length_penalty=1.0, max_length=10)


def test_identical_and_mismatched_sentences_are_counted(
    version_dir: Path, tiny_module: TinySeq2Seq, tiny_corpus: TinyCorpus
) -> None:
    sentences = [tiny_corpus.encode_source(s) for s, _ in tiny_corpus.pairs[:4]]
    engines: list[ReferenceEngine] = []

    def factory(damage: bool):
        def make(path: Path) -> ReferenceEngine:
            engines.append(ReferenceEngine(tiny_module, path, damage))
            return engines[-1]

        return make

    good = verify_beam_search(version_dir, tiny_module, sentences, decoder_factory=factory(False))
    counts = [(r.label, r.identical, r.sentences) for r in good]
    assert counts == [("beam4", 4, 4), ("greedy", 4, 4)]
    assert all(r.ok and 0 < r.max_score_diff < 1e-6 for r in good)

    bad = verify_beam_search(version_dir, tiny_module, sentences, decoder_factory=factory(True))
    assert [r.identical for r in bad] == [3, 3]
    assert not any(r.ok for r in bad)
    assert bad[0].mismatches[0]["sentence"] == 0
    assert all(e.closed for e in engines)  # the engine is closed even when checks fail


def test_wrong_result_count_is_an_error(version_dir: Path, tiny_module: TinySeq2Seq) -> None:
    class Short(ReferenceEngine):
        def decode_ids(self, src_ids, options):
            return super().decode_ids(src_ids, options)[:-1]

    with pytest.raises(VerificationError, match="returned 1 results for 2 inputs"):
        verify_beam_search(
            version_dir, tiny_module, [[5, 2], [6, 2]],
            decoder_factory=lambda p: Short(tiny_module, p),
        )  # fmt: skip


def test_compare_sentence_requires_every_n_best_entry() -> None:
    ref = [RefHypothesis([4, 5], -1.0, -3.0), RefHypothesis([4], -1.5, -3.0)]
    check = CheckResult("beam", {})
    compare_sentence(check, 0, [7, 2], _served(ref), ref)
    compare_sentence(check, 1, [7, 2], _served(ref[:1]), ref)  # a missing n-best entry
    compare_sentence(check, 2, [7, 2], _served(ref[::-1]), ref)  # same set, wrong order
    assert (check.identical, check.sentences) == (1, 3)
    assert [m["sentence"] for m in check.mismatches] == [1, 2]


def test_default_checks_respect_the_beam_limit() -> None:
    from seqserve.export.verify import default_checks

    assert set(default_checks(build_config("m"))) == {"beam4", "greedy"}
    strict = build_config("m", {"limits": {"max_beam_size": 3}, "decoding": {"beam_size": 2}})
    assert default_checks(strict)["beam3"] == DecodingOptions(beam_size=3, n_best=3)
