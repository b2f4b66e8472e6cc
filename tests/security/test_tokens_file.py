"""The hashed tokens file and `seqserve tokens add`."""

from __future__ import annotations

import stat
import subprocess
import sys

import pytest

from seqserve.server.api.auth import TokenStore, bearer_token, required_role
from seqserve.server.api.tokens_file import add_token, parse_tokens


def test_cli_prints_a_new_token_once_and_stores_only_its_hash(tmp_path) -> None:
    path = tmp_path / "tokens.txt"
    done = subprocess.run(
        [sys.executable, "-m", "seqserve.server.cli", "tokens", "add", "--file", str(path),
         "--role", "admin", "--name", "operator"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert token.startswith("ssv_") and len(token) > 40
    stored = path.read_text()
    assert token not in stored and "operator admin sha256:" in stored
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    entry = TokenStore(path).lookup(token)
    assert entry is not None and entry.role == "admin"
    assert TokenStore(path).lookup(token + "x") is None


def test_names_are_unique_and_roles_known(tmp_path) -> None:
    path = tmp_path / "tokens.txt"
    add_token(path, role="infer", name="app")
    with pytest.raises(ValueError, match="taken"):
        add_token(path, role="infer", name="app")
    with pytest.raises(ValueError, match="role"):
        add_token(path, role="root")


@pytest.mark.parametrize("line, message", [
    ("app infer", "expected"),
    ("app root sha256:" + "0" * 64, "role"),
    ("app infer plaintext-token", "sha256"),
    ("app infer sha256:abc", "sha256"),
])
def test_malformed_lines_are_named(line: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_tokens(f"# header\n{line}\n", "t.txt")


def test_roles_and_header_parsing() -> None:
    assert required_role("/seqserve.v1.SeqServe/Translate") == "infer"
    assert required_role("/inference.GRPCInferenceService/ModelInfer") == "infer"
    assert required_role("/inference.GRPCInferenceService/RepositoryModelLoad") == "admin"
    assert required_role("/some.New/Method") == "admin"  # unclassified RPCs are closed
    assert bearer_token((("authorization", "Bearer abc"),)) == "abc"
    assert bearer_token((("authorization", "bearer  abc "),)) == "abc"
    assert bearer_token((("authorization", "Basic abc"),)) is None
    assert bearer_token(None) is None


def test_token_file_changes_are_picked_up(tmp_path) -> None:
    path = tmp_path / "tokens.txt"
    first, _ = add_token(path, role="infer")
    store = TokenStore(path)
    store.CHECK_SECONDS = 0.0
    second, _ = add_token(path, role="admin")
    assert store.lookup(first) is not None
    entry = store.lookup(second)
    assert entry is not None and entry.role == "admin"
    path.write_text("garbage line\n")  # a broken edit keeps the old tokens
    assert store.lookup(first) is not None
