"""The JSON envelope every ``--output json`` follows (see the CreateJob reference's responses)::

    {"success": true,  "data": {...}}
    {"success": false, "error": {"code": "...", "message": "...", "details": [...]}}
"""

from __future__ import annotations

import json
from typing import Any


def success(data: Any) -> str:
    return json.dumps({"success": True, "data": data}, indent=2, ensure_ascii=False)


def failure(code: str, message: str, details: list[Any] | None = None) -> str:
    error: dict[str, Any] = {"code": code, "message": message, "details": details or []}
    return json.dumps({"success": False, "error": error}, indent=2, ensure_ascii=False)
