"""Model names from requests never reach outside the repository (found by the fuzz suite:
a 5,000-character name made os.stat raise ENAMETOOLONG, answered INTERNAL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqserve.server.errors import NotFoundError
from seqserve.server.repository.repository import ModelRepository


@pytest.mark.parametrize("name", ["x" * 5000, "../numbers-repo/numbers", "..", ".", "a/b",
                                  "a\\b", "nul\x00byte", "é" * 200])
def test_names_that_are_not_one_directory_entry_are_not_found(tmp_path: Path, name: str) -> None:
    (tmp_path / "repo").mkdir()
    (tmp_path / "numbers-repo" / "numbers" / "1").mkdir(parents=True)
    (tmp_path / "numbers-repo" / "numbers" / "1" / "config.yaml").write_text("name: numbers\n")
    repository = ModelRepository(tmp_path / "repo")
    assert repository.versions(name) == []
    with pytest.raises(NotFoundError):
        repository.resolve(name)


@pytest.mark.parametrize("version", ["²", "\u0661", "9" * 5000, "0", "-1", " 1"])
def test_kserve_versions_that_int_cannot_read_are_invalid_argument(version: str) -> None:
    # Found by `make fuzz`: ModelStatistics with version "²" answered INTERNAL
    # ("²".isdigit() is True, int("²") raises).
    from seqserve.server.api.kserve.servicer import parse_version
    from seqserve.server.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="positive integer"):
        parse_version(version)


@pytest.mark.parametrize("value", ["²", "--5", "9" * 5000, "1.5", ""])
def test_kserve_integer_parameters_that_int_cannot_read_are_invalid_argument(value: str) -> None:
    from seqserve.server.api.kserve.params import Parameters
    from seqserve.server.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="must be an integer"):
        Parameters({"beam_size": value}).int("beam_size")
    assert Parameters({"beam_size": " -3 "}).int("beam_size") == -3
