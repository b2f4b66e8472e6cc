"""A small Dockerfile reader: instructions with their arguments, line continuations joined."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import NamedTuple


class Instruction(NamedTuple):
    keyword: str
    args: str

    def words(self) -> list[str]:
        """Exec form (JSON array) or shell form, split into words; flags (--x=y) dropped."""
        text = self.args
        if self.keyword == "HEALTHCHECK":
            text = text.split("CMD", 1)[1].strip()
        words = json.loads(text) if text.startswith("[") else shlex.split(text)
        return words

    def flags(self) -> dict[str, str]:
        return dict(
            word[2:].split("=", 1) for word in shlex.split(self.args)
            if word.startswith("--") and "=" in word
        )


def parse(path: Path) -> list[Instruction]:
    instructions, pending = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, args = line.partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip()))
    return instructions


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    """Instructions grouped by FROM (each group starts with its FROM)."""
    groups: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            groups.append([])
        if groups:
            groups[-1].append(instruction)
    return groups
