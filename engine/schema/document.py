"""The job document: parsed, checked and serialised to canonical JSON.

Canonical JSON (sorted keys, no spaces, UTF-8 kept) makes the document's text, and so the
spec hash, independent of how the manifest spelled it: YAML mapping, JSON string or file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from engine.loader.yamlfile import Path_

MAX_DOCUMENT_BYTES = 32_768
MAX_PLACEHOLDERS = 10
PLACEHOLDER = re.compile(r"\$\{aws:iot:s3-presigned-url(?:-v2)?:[^}]*\}")


@dataclass(frozen=True)
class Finding:
    """A rule broken (or a warning) at a field path of the manifest."""

    path: Path_
    message: str
    warning: bool = False
    at_key: bool = False


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, non-ASCII kept; raises ValueError on NaN or Infinity."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def parse_json_text(text: str, path: Path_) -> tuple[Any, list[Finding]]:
    """The value of a JSON string, or the finding that it is not JSON."""
    try:
        return json.loads(text), []
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno} of the JSON"
        return None, [Finding(path, f"not valid JSON: {exc.msg} at {where}")]
    except RecursionError:
        return None, [Finding(path, "the JSON is nested too deeply")]


def canonical_document(value: Any, path: Path_) -> tuple[str | None, list[Finding]]:
    """The document as canonical JSON, with every problem of its content."""
    try:
        text = canonical_json(value)
    except ValueError:
        return None, [Finding(path, "NaN and Infinity are not valid JSON; "
                                    "write them as strings if devices expect them")]
    except RecursionError:
        return None, [Finding(path, "the document is nested too deeply")]
    findings: list[Finding] = []
    size = len(text.encode("utf-8"))
    if size > MAX_DOCUMENT_BYTES:
        findings.append(Finding(path, f"the document is {size:,} bytes as JSON; the API takes "
                                      f"at most {MAX_DOCUMENT_BYTES:,} (put it in S3 and use "
                                      "documentSource)"))
    null_at = _first_null(value, ())
    if null_at is not None:
        inner = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in null_at)
        findings.append(Finding(path + null_at,
                                f"null value at document{inner}: devices never see a null, "
                                "remove the key or give it a value", warning=True))
    return text, findings


def _first_null(value: Any, at: Path_) -> Path_ | None:
    if value is None:
        return at
    if isinstance(value, dict):
        for key, item in value.items():
            found = _first_null(item, (*at, key))
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _first_null(item, (*at, index))
            if found is not None:
                return found
    return None


def placeholders(text: str) -> list[str]:
    """The presigned-URL placeholders in a document or document source."""
    return PLACEHOLDER.findall(text)
