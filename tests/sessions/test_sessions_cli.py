"""The demo's commands: `seqserve train --corpus co2`, `seqserve export`, and the
session client against the real server."""

from __future__ import annotations

import subprocess
import sys

from seqserve.client.session_client import main as client_main
from seqserve.server.repository.config import load_config


def test_train_and_export_commands(tmp_path):
    run, repo = tmp_path / "run", tmp_path / "repo"
    cli = [sys.executable, "-m", "seqserve.server.cli"]
    trained = subprocess.run(
        [*cli, "train", "--corpus", "co2", "--out", str(run), "--max-minutes", "0.05",
         "--hidden", "8", "--threads", "1"], capture_output=True, text=True, timeout=300)
    assert trained.returncode == 0, trained.stderr
    assert "mae_ratio_vs_seasonal_naive_tail" in trained.stdout
    exported = subprocess.run(
        [*cli, "export", "--run", str(run), "--model-repository", str(repo), "--name", "co2"],
        capture_output=True, text=True, timeout=300)
    assert exported.returncode == 0, exported.stdout + exported.stderr
    assert "parity  step (legacy)" in exported.stdout
    config = load_config(repo / "co2" / "1")
    assert config.kind == "streaming" and config.input.features == 1


def test_session_client_streams(streaming_server, capsys):
    code = client_main(["--address", streaming_server.address, "--model", "charlm",
                        "--text", "Cho|ose", "--top-k", "2"])
    out = capsys.readouterr().out
    assert code == 0 and "step 5:" in out and "surprise" in out
    code = client_main(["--address", streaming_server.address, "--model", "co2",
                        "--values", "315.7 317.5 | 317.6"])
    assert code == 0 and "forecast" in capsys.readouterr().out
