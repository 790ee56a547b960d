"""Why a tool call produced no result. The loop turns each into a tool message.

ToolCallFailure         base: `outcome` names it for metrics and logs
├── ServerUnavailable   not connected (down, or still reconnecting)
├── CircuitOpen         too many recent failures; not tried until the cooldown ends
├── ToolTimeout         no answer within the tool timeout
├── UnknownTool         no such tool on that server
├── ProtocolFailure     the server answered with an MCP error of its own
└── SessionLimit        a stateful server already holds the most user sessions allowed
"""

from __future__ import annotations

from typing import ClassVar


class ToolCallFailure(Exception):
    outcome: ClassVar[str] = "error"


class ServerUnavailable(ToolCallFailure):
    outcome = "unavailable"


class CircuitOpen(ToolCallFailure):
    outcome = "circuit_open"


class ToolTimeout(ToolCallFailure):
    outcome = "timeout"


class UnknownTool(ToolCallFailure):
    outcome = "unknown_tool"


class ProtocolFailure(ToolCallFailure):
    outcome = "protocol_error"


class SessionLimit(ToolCallFailure):
    outcome = "session_limit"
