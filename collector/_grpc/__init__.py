"""Audit AutoGen's distributed gRPC worker runtime (autogen-ext[grpc])."""

from ._runtime import AuditedGrpcWorkerAgentRuntime

__all__ = ["AuditedGrpcWorkerAgentRuntime"]
