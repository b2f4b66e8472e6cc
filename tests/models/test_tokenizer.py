"""SentencePiece training, special ids and the source/target encoding conventions."""

from __future__ import annotations

from pathlib import Path

from seqserve.models.seq2seq import BOS_ID, EOS_ID, PAD_ID, UNK_ID
from seqserve.models.tokenizer import (
    decode_target,
    decoder_input,
    decoder_target,
    encode_source,
    encode_target,
    load_sentencepiece,
    train_sentencepiece,
)

SENTENCES = [
    "Choose Tools - Options - LibreOffice Writer.",
    "Click the icon to insert a table.",
    "The selected cells are merged into one cell.",
    "Deletes the current row of the table.",
    "Opens a dialog where you can choose a file.",
] * 4


def test_round_trip_and_special_ids(tmp_path: Path) -> None:
    model_file = tmp_path / "sp.model"
    sp = train_sentencepiece(SENTENCES, model_file, vocab_size=300)  # > possible: soft limit
    assert [sp.pad_id(), sp.bos_id(), sp.eos_id(), sp.unk_id()] == [PAD_ID, BOS_ID, EOS_ID, UNK_ID]
    loaded = load_sentencepiece(model_file)
    for text in SENTENCES:
        ids = encode_target(loaded, text)
        assert ids and all(i > UNK_ID for i in ids)
        assert decode_target(loaded, decoder_target(ids)) == text
        assert decode_target(loaded, [BOS_ID, *ids, EOS_ID, *ids]) == text  # stops at EOS
        assert encode_source(loaded, text) == [*ids, EOS_ID]
        assert decoder_input(ids) == [BOS_ID, *ids]


def test_training_is_deterministic(tmp_path: Path) -> None:
    a = train_sentencepiece(SENTENCES, tmp_path / "a.model", vocab_size=60, model_type="bpe")
    b = train_sentencepiece(SENTENCES, tmp_path / "b.model", vocab_size=60, model_type="bpe")
    assert (tmp_path / "a.model").read_bytes() == (tmp_path / "b.model").read_bytes()
    assert a.encode(SENTENCES[0]) == b.encode(SENTENCES[0])
