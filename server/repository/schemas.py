"""config.yaml schema per model kind, from the kind registry (server/kinds/):
`kind` picks the class that validates the file."""

from __future__ import annotations

from pydantic import BaseModel

from seqserve.server.kinds import KINDS, resolve

SCHEMAS: dict[str, type[BaseModel]] = {
    name: resolve(spec.config_schema) for name, spec in KINDS.items()
}
