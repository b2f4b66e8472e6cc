"""`seqserve serve` settings: flags > SEQSERVE_* environment > --config file >
defaults, derived from the serve parser, and a clear error per bad setting."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from seqserve.server import app, cli
from seqserve.server.serve_settings import SettingsError, parse_serve


@pytest.fixture(autouse=True)
def _no_settings_in_env(monkeypatch):
    for name in ("PORT", "HOST", "POLICY", "GRACE", "MODEL_REPOSITORY", "METRICS_PORT",
                 "LOG_LEVEL"):
        monkeypatch.delenv(f"SEQSERVE_{name}", raising=False)


def _parse(*argv: str) -> argparse.Namespace:
    return parse_serve(cli.build_parser(), list(argv))


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_and_toml_files_give_every_setting(tmp_path):
    yaml_file = _write(tmp_path / "serve.yaml",
                       f"model-repository: {tmp_path}\nport: 7001\npolicy: static\ngrace: 2.5\n")
    toml_file = _write(tmp_path / "serve.toml",
                       f'model_repository = "{tmp_path}"\nport = 7001\npolicy = "static"\n'
                       "grace = 2.5\n")
    for config in (yaml_file, toml_file):
        args = _parse("--config", str(config))
        assert (args.model_repository, args.port, args.policy, args.grace) == (
            tmp_path, 7001, "static", 2.5)
        assert (args.host, args.metrics_port, args.log_level) == ("127.0.0.1", 9090, "info")
        assert args.handler is cli._cmd_serve


def test_flag_beats_environment_beats_file(tmp_path, monkeypatch):
    config = _write(tmp_path / "serve.yaml",
                    f"model_repository: {tmp_path}\nport: 7001\nhost: 0.0.0.0\ngrace: 1\n")
    monkeypatch.setenv("SEQSERVE_PORT", "7002")
    monkeypatch.setenv("SEQSERVE_HOST", "::1")
    args = _parse("--config", str(config), "--port", "7003")
    assert (args.port, args.host, args.grace) == (7003, "::1", 1.0)


def test_environment_alone_configures_serve(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQSERVE_MODEL_REPOSITORY", str(tmp_path))
    monkeypatch.setenv("SEQSERVE_METRICS_PORT", "-1")
    monkeypatch.setenv("SEQSERVE_LOG_LEVEL", "debug")
    args = _parse()
    assert (args.model_repository, args.metrics_port, args.log_level) == (tmp_path, -1, "debug")


def test_serve_runs_with_the_merged_settings(tmp_path, monkeypatch):
    seen: list[app.ServeSettings] = []
    monkeypatch.setattr(app, "run", lambda settings: seen.append(settings) or 0)
    config = _write(tmp_path / "serve.yaml", f"model_repository: {tmp_path}\npolicy: static\n")
    monkeypatch.setenv("SEQSERVE_GRACE", "4")
    assert cli.main(["serve", "--config", str(config), "--port", "0"]) == 0
    assert (seen[0].policy, seen[0].grace_seconds, seen[0].port) == ("static", 4.0, 0)


def test_a_new_serve_flag_is_a_setting_with_no_other_edit(tmp_path, monkeypatch):
    parser = cli.build_parser()
    serve = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    serve.choices["serve"].add_argument("--max-sessions", type=int, default=100)
    serve.choices["serve"].add_argument("--tls", action="store_true")
    serve.choices["serve"].add_argument("--spin", action=argparse.BooleanOptionalAction,
                                        default=True)
    serve.choices["serve"].add_argument("--cert", type=Path)
    monkeypatch.setenv("SEQSERVE_MAX_SESSIONS", "7")
    monkeypatch.setenv("SEQSERVE_TLS", "true")
    monkeypatch.setenv("SEQSERVE_CERT", "/certs/server.pem")
    args = parse_serve(parser, ["--model-repository", str(tmp_path), "--no-spin"])
    assert (args.max_sessions, args.tls, args.spin) == (7, True, False)
    assert args.cert == Path("/certs/server.pem")


def _error(capsys, *argv: str) -> str:
    assert cli.main(["serve", *argv]) == 2
    return capsys.readouterr().err


def test_unknown_key_in_the_file_is_named(tmp_path, capsys):
    config = _write(tmp_path / "serve.yaml", f"model_repository: {tmp_path}\nportt: 1\n")
    err = _error(capsys, "--config", str(config))
    assert "unknown setting 'portt'" in err and str(config) in err


@pytest.mark.parametrize("port", ["70000", "-1", "fifty"])
def test_bad_port_from_file_env_or_flag_is_named(tmp_path, capsys, monkeypatch, port):
    config = _write(tmp_path / "serve.yaml", f"model_repository: {tmp_path}\nport: '{port}'\n")
    assert "setting 'port'" in _error(capsys, "--config", str(config))
    monkeypatch.setenv("SEQSERVE_PORT", port)
    err = _error(capsys, "--model-repository", str(tmp_path))
    assert "setting 'port' (environment SEQSERVE_PORT)" in err
    monkeypatch.delenv("SEQSERVE_PORT")
    with pytest.raises(SystemExit) as exited:  # a bad flag is argparse's usage error
        cli.main(["serve", "--model-repository", str(tmp_path), "--port", port])
    assert exited.value.code == 2 and "--port" in capsys.readouterr().err


def test_kubernetes_service_link_port_gets_a_hint(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SEQSERVE_PORT", "tcp://10.0.0.7:50051")
    assert "enableServiceLinks" in _error(capsys, "--model-repository", str(tmp_path))


def test_wrong_types_and_choices_are_named(tmp_path, capsys, monkeypatch):
    config = _write(tmp_path / "serve.toml",
                    f'model_repository = "{tmp_path}"\ngrace = "soon"\npolicy = "fastest"\n')
    err = _error(capsys, "--config", str(config))
    assert "setting 'grace'" in err and "'soon'" in err and "setting 'policy'" in err
    monkeypatch.setenv("SEQSERVE_MODEL_REPOSITORY", str(tmp_path / "missing"))
    assert "setting 'model_repository' (environment" in _error(capsys)


def test_missing_repository_and_unreadable_files(tmp_path, capsys):
    assert "'model_repository' is required" in _error(capsys)
    assert "cannot read" in _error(capsys, "--config", str(tmp_path / "nope.yaml"))
    bad = _write(tmp_path / "serve.yaml", "port: [1\n")
    assert "not valid yaml" in _error(capsys, "--config", str(bad))
    listed = _write(tmp_path / "list.yaml", "- port\n")
    assert "mapping" in _error(capsys, "--config", str(listed))
    ini = _write(tmp_path / "serve.ini", "port=1\n")
    with pytest.raises(SettingsError, match=r"\.yaml, \.yml or \.toml"):
        _parse("--config", str(ini))
