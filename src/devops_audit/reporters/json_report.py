"""The JSON report: `ScanResult.to_dict()`, deterministic (sorted keys, stable order), schema-validated in tests."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["render"]


def render(result: Any, options: Any) -> str:
    return json.dumps(result.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
