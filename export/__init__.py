"""PyTorch -> ONNX export of seq2seq models into a served model directory.

Nothing is imported here, so `seqserve export --help` stays cheap; the entry
points are `seqserve.export.api` (export_seq2seq, export_run) and
`seqserve.export.cli` (main). Module map: wrappers/signature (what the graphs
are), onnx_export/graph_checks/graphs (making them, FACTS.md traps handled),
parity (ORT vs torch), reference_beam/torch_step/verify (beam-search
equivalence with the served engine), quality (BLEU), writer/manifest (the
version directory, published atomically).
"""
