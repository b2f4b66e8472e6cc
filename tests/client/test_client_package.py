"""seqserve.client is a package of its own: no server engine, no ONNX Runtime,
the old server/api import paths still work (with a DeprecationWarning), and
one function builds every channel."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from seqserve.client import channel

# A finder that refuses onnxruntime, as on a client-only install; then every
# public name of the package is loaded and no server module may have come along.
_BLOCKED_IMPORT = """
import importlib.abc, sys

class NoOnnxRuntime(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "onnxruntime" or name.startswith("onnxruntime."):
            raise ImportError(f"{name} is blocked: the client must not need it")
        return None

sys.meta_path.insert(0, NoOnnxRuntime())
import seqserve.client as client
for name in client.__all__:
    getattr(client, name)
import seqserve.client.commands, seqserve.client.session_client, seqserve.client.tag_caption_client
server = sorted(m for m in sys.modules if m.startswith("seqserve.server"))
assert not server, f"the client imported server modules: {server}"
assert "onnxruntime" not in sys.modules
print("client ok", len(client.__all__))
"""


def test_client_imports_without_server_engine_or_onnxruntime():
    done = subprocess.run([sys.executable, "-c", _BLOCKED_IMPORT], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("client ok")


_MOVED = {
    "client": ("translation_client", ["TranslationClient", "TranslateReply"]),
    "kinds_client": ("kinds_client", ["SeqServeClient", "TagReply", "CaptionReply"]),
    "session_client": ("session_client", ["chunk_message", "open_message", "stream", "main"]),
    "session_mux": ("session_mux", ["SessionMux", "StepRefused"]),
    "tag_caption_client": ("tag_caption_client", ["main"]),
    "client_commands": ("commands", ["COMMANDS", "run"]),
}


@pytest.mark.parametrize("old", sorted(_MOVED))
def test_old_import_paths_warn_and_give_the_same_objects(old):
    new, names = _MOVED[old]
    sys.modules.pop(f"seqserve.server.api.{old}", None)
    with pytest.warns(DeprecationWarning, match=f"seqserve.client.{new}"):
        legacy = importlib.import_module(f"seqserve.server.api.{old}")
    moved = importlib.import_module(f"seqserve.client.{new}")
    for name in names:
        assert getattr(legacy, name) is getattr(moved, name)


def test_engine_results_are_the_client_types():
    # One definition: what the engine returns is what the client hands out.
    from seqserve.client import types
    from seqserve.server.engine import options, results

    assert results.SentenceResult is types.SentenceResult
    assert issubclass(options.DecodingOptions, types.DecodingOptions)


def test_channel_options_override_defaults_by_name():
    merged = dict(channel.channel_options([("grpc.max_receive_message_length", 1024),
                                           ("grpc.primary_user_agent", "loadtest")]))
    assert merged["grpc.max_receive_message_length"] == 1024
    assert merged["grpc.primary_user_agent"] == "loadtest"
    assert len(channel.channel_options()) == len(channel.DEFAULT_OPTIONS)
    with channel.connect("127.0.0.1:1") as conn:  # lazy: builds without a server
        assert conn is not None
