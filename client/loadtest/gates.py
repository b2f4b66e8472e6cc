"""SLO gates of a load test (deploy/loadtest/slo.yaml) and their verdict on
locust's stats CSV."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

AGGREGATED = "Aggregated"


class Gates(BaseModel):
    """The limits a run must meet; a limit left out is not checked."""

    model_config = ConfigDict(extra="forbid")

    max_error_ratio: float = Field(0.0, ge=0.0, le=1.0)
    """Failed / all requests, over every RPC."""
    min_requests: int = Field(1, ge=0)
    """A run that sent fewer requests than this fails (it measured nothing)."""
    p99_ms: dict[str, float] = Field(default_factory=dict)
    """p99 latency limit per request name; `default` covers names not listed."""


def load_gates(path: Path) -> Gates:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return Gates.model_validate(data)
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the SLO file ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}"
                             for e in exc.errors())
        raise ValueError(f"{path}: {problems}") from exc


@dataclass(frozen=True)
class RpcStats:
    name: str
    requests: int
    failures: int
    rps: float
    p50_ms: float
    p99_ms: float


def read_stats(path: Path) -> list[RpcStats]:
    """Rows of locust's PREFIX_stats.csv, the Aggregated row last."""
    rows = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows.append(RpcStats(
                name=row["Name"], requests=int(row["Request Count"]),
                failures=int(row["Failure Count"]), rps=float(row["Requests/s"]),
                p50_ms=_number(row["50%"]), p99_ms=_number(row["99%"]),
            ))
    return rows


def _number(text: str) -> float:
    return float("nan") if text in ("", "N/A") else float(text)


@dataclass(frozen=True)
class Verdict:
    gate: str
    limit: float
    measured: float
    passed: bool

    def line(self) -> str:
        return (f"{'PASS' if self.passed else 'FAIL'}  {self.gate}: {self.measured:g} "
                f"(limit {self.limit:g})")


def evaluate(stats: list[RpcStats], gates: Gates) -> list[Verdict]:
    """One verdict per gate that applies to this run."""
    total = next((s for s in stats if s.name == AGGREGATED), None)
    requests = total.requests if total else 0
    failures = total.failures if total else 0
    verdicts = [Verdict("requests (min)", gates.min_requests, requests,
                        requests >= gates.min_requests)]
    ratio = failures / requests if requests else 0.0
    verdicts.append(Verdict("error ratio", gates.max_error_ratio, round(ratio, 6),
                            ratio <= gates.max_error_ratio))
    for rpc in stats:
        if rpc.name == AGGREGATED or rpc.requests == 0:
            continue
        limit = gates.p99_ms.get(rpc.name, gates.p99_ms.get("default"))
        if limit is not None:
            # A NaN p99 (no successful call) fails the gate: nothing met it.
            verdicts.append(Verdict(f"p99 {rpc.name} ms", limit, rpc.p99_ms,
                                    rpc.p99_ms <= limit))
    return verdicts
