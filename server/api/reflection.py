"""Server reflection, so grpcurl-like tools can list and call the services."""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import FileDescriptor
from grpc_reflection.v1alpha import reflection


class _PoolsDatabase:
    """A descriptor database over several pools, first match wins.

    The KServe v2 modules live in a pool of their own (protos/inference/pool.py);
    reflection must still describe them next to the default pool's services.
    """

    def __init__(self, pools: Sequence[descriptor_pool.DescriptorPool]) -> None:
        self._pools = list(pools)

    @staticmethod
    def _proto(file: FileDescriptor) -> descriptor_pb2.FileDescriptorProto:
        proto = descriptor_pb2.FileDescriptorProto()
        file.CopyToProto(proto)
        return proto

    def FindFileByName(self, name: str) -> descriptor_pb2.FileDescriptorProto:
        for pool in self._pools:
            try:
                return self._proto(pool.FindFileByName(name))
            except KeyError:
                continue
        raise KeyError(name)

    def FindFileContainingSymbol(self, symbol: str) -> descriptor_pb2.FileDescriptorProto:
        for pool in self._pools:
            try:
                return self._proto(pool.FindFileContainingSymbol(symbol))
            except KeyError:
                continue
        raise KeyError(symbol)

    def FindFileContainingExtension(
        self, extendee: str, number: int
    ) -> descriptor_pb2.FileDescriptorProto:
        raise KeyError(f"{extendee}({number})")  # our protos declare no extensions

    def FindAllExtensionNumbers(self, extendee: str) -> list[int]:
        return []


def reflection_pool(
    extra: Sequence[descriptor_pool.DescriptorPool] = (),
) -> descriptor_pool.DescriptorPool:
    """The default pool plus `extra` pools (searched first), as one pool."""
    if not extra:
        return descriptor_pool.Default()
    return descriptor_pool.DescriptorPool(_PoolsDatabase([*extra, descriptor_pool.Default()]))


def enable_reflection(
    server: grpc.aio.Server,
    services: Sequence[str],
    pools: Sequence[descriptor_pool.DescriptorPool] = (),
) -> None:
    """Expose `services` plus the reflection service itself, described from `pools`."""
    reflection.enable_server_reflection(
        [*services, reflection.SERVICE_NAME], server, pool=reflection_pool(pools)
    )
