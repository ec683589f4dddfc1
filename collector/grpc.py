"""Audited gRPC worker runtime: ``from collector.grpc import AuditedGrpcWorkerAgentRuntime``.

A module of its own, not a name on ``collector``, because it needs the optional
``autogen-ext[grpc]`` extra (``pip install "autogen-audit[grpc]"``).
"""

from ._grpc import AuditedGrpcWorkerAgentRuntime

__all__ = ["AuditedGrpcWorkerAgentRuntime"]
