"""The few exceptions that cross module boundaries, each mapped to a CLI exit code."""

from __future__ import annotations

__all__ = ["AuditError", "UsageError", "ConfigError", "PolicyError", "TargetError", "EvidenceError"]


class AuditError(Exception):
    """Base class; `exit_code` is what the CLI returns when this escapes."""

    exit_code = 2


class UsageError(AuditError):
    """A bad flag or argument."""


class ConfigError(AuditError):
    """An invalid `.devops-audit.yml` (message names the file, line and key)."""


class PolicyError(AuditError):
    """An invalid policy file or CEL expression (message names the file and line)."""


class TargetError(AuditError):
    """The target cannot be scanned: missing, unreadable or not a directory."""

    exit_code = 3


class EvidenceError(Exception):
    """One evidence file could not be read; recorded in the inventory, never fatal."""

    def __init__(self, path: str, reason: str, line: int | None = None) -> None:
        super().__init__(f"{path}{f':{line}' if line else ''}: {reason}")
        self.path = path
        self.reason = reason
        self.line = line
