"""A grpc.health.v1 probe for container HEALTHCHECKs and scripts:

    python -m seqserve.server.api.health_probe [--target 127.0.0.1:50051] [--service NAME]

Exit 0 when the server answers SERVING, 1 otherwise (NOT_SERVING, unreachable,
deadline), with one line on stderr saying which. Only grpc and the health
protos are imported: the probe runs every few seconds and must stay cheap.
"""

from __future__ import annotations

import argparse
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def check(target: str, service: str = "", timeout: float = 3.0) -> tuple[bool, str]:
    """(serving, what happened) for one Health.Check call."""
    try:
        with grpc.insecure_channel(target) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
    except grpc.RpcError as exc:
        return False, f"{target}: {exc.code().name}: {exc.details()}"
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    return reply.status == health_pb2.HealthCheckResponse.SERVING, f"{target}: {status}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m seqserve.server.api.health_probe",
        description="Exit 0 when a seqserve server reports SERVING (grpc.health.v1).",
    )
    parser.add_argument("--target", default="127.0.0.1:50051", help="HOST:PORT of the server")
    parser.add_argument("--service", default="", help='service name; "" = the whole server')
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds")
    args = parser.parse_args(argv)
    serving, message = check(args.target, args.service, args.timeout)
    print(message, file=sys.stderr)
    return 0 if serving else 1


if __name__ == "__main__":
    sys.exit(main())
