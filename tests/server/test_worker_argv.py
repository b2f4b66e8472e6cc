"""`--workers N` starts each worker with every serve option the parent resolved
(flags, SEQSERVE_* variables, the --config file), not a hand-kept subset: TLS,
tokens, limits, the session store and the pre-stop delay all reach the workers."""

from __future__ import annotations

from seqserve.server.cli import build_parser
from seqserve.server.serve_settings import parse_serve
from seqserve.server.worker_argv import worker_argv


def _resolved(argv: list[str]):  # type: ignore[no-untyped-def]
    return parse_serve(build_parser(), argv)


def test_every_non_default_option_reaches_the_workers(tmp_path) -> None:
    tokens = tmp_path / "tokens.txt"
    args = _resolved([
        "--model-repository", str(tmp_path), "--workers", "3", "--port", "6000",
        "--metrics-port", "7000", "--tokens-file", str(tokens), "--session-tokens", "off",
        "--pre-stop-delay", "2.5", "--session-store", "redis://127.0.0.1:1/0",
        "--max-client-sessions", "5", "--protect-probes",
    ])
    child = worker_argv(build_parser(), args)
    pairs = dict(zip(child, [*child[1:], ""], strict=True))
    assert pairs["--model-repository"] == str(tmp_path)
    assert pairs["--tokens-file"] == str(tokens)
    assert pairs["--session-tokens"] == "off"  # the opt-out (required is the default)
    assert float(pairs["--pre-stop-delay"]) == 2.5
    assert pairs["--session-store"] == "redis://127.0.0.1:1/0"
    assert pairs["--max-client-sessions"] == "5"
    assert "--protect-probes" in child
    # Per worker (the supervisor adds its own port pair), and never recursive.
    assert not {"--workers", "--port", "--metrics-port", "--config"} & set(child)


def test_a_worker_parses_its_command_line_to_the_same_settings(tmp_path) -> None:
    parent = _resolved([
        "--model-repository", str(tmp_path), "--workers", "2", "--grace", "3",
        "--log-level", "warning", "--max-models", "7",
    ])
    child = _resolved([*worker_argv(build_parser(), parent), "--port", "1", "--metrics-port", "2"])
    for name in ("model_repository", "grace", "log_level", "max_models", "session_tokens"):
        assert getattr(child, name) == getattr(parent, name), name
    assert child.workers == 1


def test_settings_from_the_environment_reach_the_workers(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SEQSERVE_PRE_STOP_DELAY", "4")
    args = _resolved(["--model-repository", str(tmp_path), "--workers", "2"])
    child = worker_argv(build_parser(), args)
    assert float(child[child.index("--pre-stop-delay") + 1]) == 4.0
