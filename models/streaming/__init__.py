"""Streaming models: a character LSTM language model and an LSTM forecaster.

Both expose `step(inputs, lengths, *state) -> (*outputs, *new_state)`, the
contract of the served `step.onnx`: a chunk of T steps per row, each row's own
length, and the LSTM state carried between calls by the server.
"""
