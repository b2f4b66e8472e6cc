"""`seqserve client tag|caption|stream` against the real server (it holds every kind)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.kserve.conftest import CAPTIONER, FORECASTER, TAGGER
from tests.kserve.test_kserve_infer import _png


def _client(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seqserve.server.cli", "client", *args],
        capture_output=True, text=True, timeout=60,
    )


def test_client_tag(kserve_server) -> None:
    done = _client("tag", "--target", kserve_server.address, "--model", TAGGER, "Bu bir deneme .")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"# {TAGGER} v1") and "Bu/" in done.stdout


def test_client_caption(kserve_server, tmp_path: Path) -> None:
    image = tmp_path / "scene.png"
    image.write_bytes(_png(7))
    done = _client("caption", "--target", kserve_server.address, "--model", CAPTIONER,
                   str(image))
    assert done.returncode == 0, done.stderr
    assert "scene.png\t1\t" in done.stdout


def test_client_stream_file(kserve_server, tmp_path: Path) -> None:
    chunks = tmp_path / "chunks.txt"
    chunks.write_text("340.1 340.5 341.0\n\n341.2\n")
    done = _client("stream", "--target", kserve_server.address, "--model", FORECASTER,
                   str(chunks))
    assert done.returncode == 0, done.stderr
    assert "session " in done.stdout and "step 3:" in done.stdout


def test_client_reports_a_refused_call(kserve_server) -> None:
    done = _client("tag", "--target", kserve_server.address, "--model", "nope", "x")
    assert done.returncode == 1 and "NOT_FOUND" in done.stderr
