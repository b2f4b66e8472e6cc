"""Tagger model: padding never leaks (either direction), CoNLL-U reading and splits."""

from __future__ import annotations

from pathlib import Path

import torch

from seqserve.models.data.conllu_data import load_splits, read_conllu
from seqserve.models.tagger import BiLSTMTagger, TaggerDims, reverse_within_length
from seqserve.server.repository.tag_vocab import TagVocab, clip_chars

CONLLU = """# sent_id = 1
1-2\tdella\t_\t_\t_\t_\t_\t_\t_\t_
1\tdi\tdi\tADP\t_\t_\t0\troot\t_\t_
2\tla\til\tDET\t_\t_\t1\tdet\t_\t_
3\tcasa\tcasa\tNOUN\t_\t_\t1\tnmod\t_\t_
3.1\tx\tx\tX\t_\t_\t_\t_\t_\t_

# sent_id = 2
1\tciao\tciao\tINTJ\t_\t_\t0\troot\t_\t_

"""


def test_reverse_within_length_keeps_padding_in_place() -> None:
    x = torch.arange(8, dtype=torch.float32).reshape(2, 4, 1)
    out = reverse_within_length(x, torch.tensor([4, 2]))
    assert out[:, :, 0].tolist() == [[3, 2, 1, 0], [5, 4, 6, 7]]


def test_padded_rows_equal_the_same_rows_alone() -> None:
    torch.manual_seed(0)
    vocab = TagVocab(["<pad>", "<unk>", "a", "b"], ["<pad>", "<unk>", "a", "b"], ["X", "Y"])
    model = BiLSTMTagger(TaggerDims(4, 4, 2, 8, 4, 6, 5, 0.0)).eval()
    sentences = [["a"], ["a", "b", "bbbbbb", "a"], ["b", "ab"]]
    with torch.no_grad():
        padded = model(*(torch.from_numpy(t) for t in vocab.batch(sentences)))
        for row, sentence in enumerate(sentences):
            alone = model(*(torch.from_numpy(t) for t in vocab.batch([sentence])))[0]
            assert torch.allclose(padded[row, : len(sentence)], alone, atol=1e-6)


def test_clip_chars_keeps_both_ends() -> None:
    assert clip_chars("abcdefghij", 6) == "abchij"
    assert clip_chars("abc", 6) == "abc"


def test_conllu_skips_multiword_ranges_and_empty_nodes(tmp_path: Path) -> None:
    path = tmp_path / "x.conllu"
    path.write_text(CONLLU)
    sentences = read_conllu(path)
    assert [s.tokens for s in sentences] == [["di", "la", "casa"], ["ciao"]]
    assert sentences[0].tags == ["ADP", "DET", "NOUN"]


def test_ud_named_files_keep_their_split(tmp_path: Path) -> None:
    for role in ("train", "dev", "test"):
        (tmp_path / f"it_x-ud-{role}.conllu").write_text(CONLLU)
    splits = load_splits(str(tmp_path))
    assert len(splits.train) == len(splits.valid) == len(splits.test) == 2
