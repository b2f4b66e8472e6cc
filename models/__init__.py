"""PyTorch side of seqserve: architectures, corpora and training recipes.

- seq2seq.Seq2Seq: BiLSTM encoder + attentional LSTM decoder, implementing the
  decoder-step contract of export/contract.py.
- data: LibreOffice help en-fr, number words, TSV files, deterministic splits.
- tokenizer: SentencePiece models with the fixed ids pad=0 bos=1 eos=2 unk=3.
- train / cli: `seqserve train`; checkpoint.load_trained reads its output.

Importing this package does not import torch; its modules do.
"""
