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
