"""The job document: parsed, checked and serialised to canonical JSON.

Canonical JSON (sorted keys, no spaces, UTF-8 kept) makes the document's text, and so the
spec hash, independent of how the manifest spelled it: YAML mapping, JSON string or file.
A number goes out as it was written (``1e2`` stays ``1e2``, a long decimal keeps every
digit): a float parsed and printed again would not be what the author wrote.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any

from engine.loader.yamlfile import Path_

MAX_DOCUMENT_BYTES = 32_768
MAX_PLACEHOLDERS = 10
PLACEHOLDER = re.compile(r"\$\{aws:iot:s3-presigned-url(?:-v2)?:[^}]*\}")
JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_SURROGATE = re.compile("[\ud800-\udfff]")


class NumberText(str):
    """A number of a document as written in it: serialised verbatim, never as a float."""


@dataclass(frozen=True)
class Finding:
    """A rule broken (or a warning) at a field path of the manifest."""

    path: Path_
    message: str
    warning: bool = False
    at_key: bool = False


class _Duplicates(list[str]):
    """The keys an object of a JSON text gives twice (``json`` keeps the last silently)."""

    def hook(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) < len(pairs):
            seen: set[str] = set()
            self.extend(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        return result


def loads(text: str, duplicates: list[str] | None = None) -> Any:
    """A JSON text's value, numbers with a fraction or exponent kept as ``NumberText``."""
    hook = _Duplicates()
    value = json.loads(text, parse_float=NumberText, object_pairs_hook=hook.hook)
    if duplicates is not None:
        duplicates.extend(hook)
    return value


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, non-ASCII kept, ``NumberText`` verbatim; raises
    ValueError on NaN or Infinity."""
    if not _has_text_numbers(value):  # the C encoder, where nothing is to be kept verbatim
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False)
    parts: list[str] = []
    _write(value, parts.append)
    return "".join(parts)


def _has_text_numbers(value: Any) -> bool:
    kind = type(value)
    if kind is NumberText:
        return True
    if kind is dict:
        return any(_has_text_numbers(v) for v in value.values())
    if kind is list:
        return any(_has_text_numbers(v) for v in value)
    return False


def _write(value: Any, out: Callable[[str], Any]) -> None:
    kind = type(value)
    if kind is NumberText:
        out(str.__str__(value))
    elif kind is str:
        out(encode_basestring(value))
    elif kind is dict:
        out("{")
        for index, key in enumerate(sorted(value)):
            if index:
                out(",")
            out(encode_basestring(key) + ":")
            _write(value[key], out)
        out("}")
    elif kind is list:
        out("[")
        for index, item in enumerate(value):
            if index:
                out(",")
            _write(item, out)
        out("]")
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError("NaN or Infinity")
    else:  # None, booleans, ints, floats: as the C encoder writes them
        out(json.dumps(value))


def parse_json_text(text: str, path: Path_) -> tuple[Any, list[Finding]]:
    """The value of a JSON string, or the findings that it is not JSON (or gives a key twice)."""
    duplicates: list[str] = []
    try:
        value = loads(text, duplicates)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno} of the JSON"
        return None, [Finding(path, f"not valid JSON: {exc.msg} at {where}")]
    except RecursionError:
        return None, [Finding(path, "the JSON is nested too deeply")]
    except ValueError as exc:  # an integer of more digits than Python converts
        return None, [Finding(path, f"not valid JSON: {exc}")]
    findings = [Finding(path, f"duplicate key {key!r} in the JSON document: only the later "
                              "value would be sent; remove one of them")
                for key in dict.fromkeys(duplicates)]
    return value, findings


def canonical_document(value: Any, path: Path_) -> tuple[str | None, list[Finding]]:
    """The document as canonical JSON, with every problem of its content.

    A null is kept and sent as it is: AWS's own documents (OTA) carry nulls."""
    try:
        text = canonical_json(value)
    except ValueError:
        return None, [Finding(path, "NaN and Infinity are not valid JSON; "
                                    "write them as strings if devices expect them")]
    except RecursionError:
        return None, [Finding(path, "the document is nested too deeply")]
    lone = _SURROGATE.search(text)
    if lone is not None:
        return None, [Finding(path, f"a lone UTF-16 surrogate ({ascii(lone.group())[1:-1]}) is "
                                    "no character and cannot be sent; write the character "
                                    "itself, or both halves of its surrogate pair")]
    size = len(text.encode("utf-8"))
    if size > MAX_DOCUMENT_BYTES:
        return text, [Finding(path, f"the document is {size:,} bytes as JSON; the API takes "
                                    f"at most {MAX_DOCUMENT_BYTES:,} (put it in S3 and use "
                                    "documentSource)")]
    return text, []


def written_numbers(value: Any, text_at: Callable[[Path_], str | None],
                    at: Path_ = ()) -> Any:
    """``value`` (a document read from YAML) with each float as its scalar's text, where
    ``text_at`` finds one that is a JSON number; other floats stay floats."""
    kind = type(value)
    if kind is dict:
        return {k: written_numbers(v, text_at, (*at, k)) for k, v in value.items()}
    if kind is list:
        return [written_numbers(v, text_at, (*at, i)) for i, v in enumerate(value)]
    if kind is float:
        text = text_at(at)
        if text is not None and JSON_NUMBER.fullmatch(text):
            return NumberText(text)
    return value


def placeholders(text: str) -> list[str]:
    """The presigned-URL placeholders in a document or document source."""
    return PLACEHOLDER.findall(text)
