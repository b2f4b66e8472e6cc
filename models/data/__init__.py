"""Corpora for the seq2seq models: LibreOffice help en-fr, number words, user TSV files."""

from seqserve.models.data.libreoffice import load_libreoffice
from seqserve.models.data.numbers import number_pairs
from seqserve.models.data.pairs import Pair, clean_pairs
from seqserve.models.data.split import Splits, split_pairs
from seqserve.models.data.tsv import read_tsv, write_tsv

__all__ = [
    "Pair",
    "Splits",
    "clean_pairs",
    "load_libreoffice",
    "number_pairs",
    "read_tsv",
    "split_pairs",
    "write_tsv",
]
