"""The `seqserve` console script: parsing, delegation, and `client translate`."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from seqserve.server import cli


def test_import_does_not_parse_or_pull_heavy_modules():
    # Importing the CLI must not parse argv or import ONNX Runtime / torch.
    code = (
        "import sys; sys.argv = ['seqserve', '--bogus'];"
        "import seqserve.server.cli;"
        "heavy = [m for m in ('torch', 'onnxruntime') if m in sys.modules];"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)


def test_serve_arguments(tmp_path):
    args = cli.build_parser().parse_args(
        ["serve", "--model-repository", str(tmp_path), "--port", "0", "--policy", "static"]
    )
    assert args.model_repository == tmp_path and args.port == 0 and args.policy == "static"
    assert (args.host, args.metrics_port, args.log_level) == ("127.0.0.1", 9090, "info")


def test_serve_rejects_missing_repository_and_bad_policy(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["serve", "--model-repository", str(tmp_path / "nope")])
    assert exited.value.code == 2
    with pytest.raises(SystemExit):
        cli.main(["serve", "--model-repository", str(tmp_path), "--policy", "fastest"])


def test_train_and_export_delegate_remaining_argv(monkeypatch):
    seen: dict[str, list[str]] = {}
    delegated = {"train": "seqserve.models.cli", "export": "seqserve.export.cli"}
    for command, module_name in delegated.items():

        def fake_main(argv: list[str], command: str = command) -> int:
            seen[command] = argv
            return 0

        fake = types.ModuleType(module_name)
        fake.main = fake_main
        monkeypatch.setitem(sys.modules, module_name, fake)
    assert cli.main(["train", "--epochs", "3", "--help"]) == 0
    assert cli.main(["export", "ckpt.pt", "--out", "repo"]) == 0
    assert seen == {"train": ["--epochs", "3", "--help"], "export": ["ckpt.pt", "--out", "repo"]}


def test_missing_torch_exits_2_with_install_hint(monkeypatch, capsys):
    def no_torch(name: str) -> None:
        raise ModuleNotFoundError("No module named 'torch'", name="torch")

    monkeypatch.setattr(cli.importlib, "import_module", no_torch)
    assert cli.main(["train"]) == 2
    assert "pip install 'seqserve[train]'" in capsys.readouterr().err


def test_client_translate_prints_hypotheses(server, capsys):
    argv = ["client", "translate", "--target", server.target, "--model", "en-fr"]
    code = cli.main([*argv, "--beam-size", "3", "--n-best", "2", "hello world", "bye"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "# en-fr v2" in out
    assert "[0] hello world" in out and "[1] bye" in out
    assert "1.   -0.2500  HELLO WORLD" in out and "2.   -0.5000  HELLO WORLD #1" in out
    options = server.models.translators["en-fr"].calls[-1].options
    assert (options.beam_size, options.n_best) == (3, 2)


def test_client_translate_stream_and_no_scores(server, capsys):
    argv = ["client", "translate", "--target", server.target, "--model", "en-fr"]
    assert cli.main([*argv, "--stream", "--no-scores", "a b"]) == 0
    captured = capsys.readouterr()
    assert "[0] step 2: A B" in captured.err
    assert "  1. A B" in captured.out


def test_client_translate_reports_status_code(server, capsys):
    argv = ["client", "translate", "--target", server.target, "--model", "nope", "hi"]
    assert cli.main(argv) == 1
    assert "error: NOT_FOUND" in capsys.readouterr().err
