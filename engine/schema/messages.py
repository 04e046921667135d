"""pydantic's errors, said in a manifest author's words, with the nearest key for a typo."""

from __future__ import annotations

import difflib
import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from engine.schema.constraints import PATTERN_HELP

_KINDS = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def show(value: Any, limit: int = 60) -> str:
    """A value for a message: repr (so control characters are escaped), cut short."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "null" if value is None else type(value).__name__


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType, list) or origin is not None:
        for arg in get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def _model_at(root: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = root
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part)
        model = _model_in(field.annotation) if field is not None else None
    return model


def nearest(key: str, known: list[str]) -> str | None:
    """The known key a typo most likely meant: a close spelling, or one it begins."""
    lowered = {k.lower(): k for k in known}
    close = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.5)
    if close:
        return lowered[close[0]]
    starts = [k for k in known if k.lower().startswith(key.lower()[:4])]
    return starts[0] if len(starts) == 1 else None


def explain(root: type[BaseModel], error: ErrorDetails) -> tuple[str, bool]:
    """The message for one pydantic error, and whether it is best shown at the key."""
    kind = error["type"]
    loc = error["loc"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    key = loc[-1] if loc else ""
    if kind == "extra_forbidden":
        model = _model_at(root, loc[:-1])
        known = list(model.model_fields) if model is not None else []
        if model is not root and isinstance(key, str) and key in root.model_fields:
            return (f"{key} belongs to the whole rollout: claim exceptions at the top level "
                    "of the manifest, where they cover every wave"
                    if key == "policyExceptions" else
                    f"{key} is not set here: it is set once, at the top level of the file"), True
        close = nearest(str(key), known)
        hint = f"; did you mean {close}?" if close else (
            f"; known keys here: {', '.join(known)}" if known else "")
        return f"unknown key {show(key)[1:-1] if isinstance(key, str) else key}{hint}", True
    if kind == "missing":
        return f"missing required key {key}", True
    if kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern", "")
        rule = PATTERN_HELP.get(pattern, f"it must match {pattern}")
        return f"{show(value)} is not valid: {rule}", False
    if kind == "literal_error":
        return f"{show(value)} is not allowed; use one of {ctx.get('expected')}", False
    if kind in ("string_too_long", "string_too_short"):
        size = len(value) if isinstance(value, str) else "?"
        bound = ctx.get("max_length", ctx.get("min_length"))
        most = "at most" if kind == "string_too_long" else "at least"
        return f"{size} characters; {most} {bound} allowed", False
    if kind in ("too_long", "too_short"):
        bound = ctx.get("max_length", ctx.get("min_length"))
        most = "at most" if kind == "too_long" else "at least"
        size = ctx.get("actual_length", len(value) if isinstance(value, list) else "?")
        return f"{size} items; {most} {bound} allowed", True
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = next(iter(ctx.values()), "?")
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)  # "at most 100", as the manifest author would write it
        word = {"greater_than_equal": "at least", "greater_than": "more than",
                "less_than_equal": "at most", "less_than": "less than"}[kind]
        return f"{show(value)} is out of range: it must be {word} {bound}", False
    if kind == "finite_number":
        return f"{show(value)} is not allowed: give a finite number", False
    if kind in _KINDS:
        expected = _KINDS[kind]
        if value is None:  # ``key:`` with nothing after it
            return f"empty: give {expected}, or delete the key", False
        hint = ""
        if expected == "text" and isinstance(value, int | float | bool):
            hint = " (quote it to make it text)"
        return f"expected {expected}, got {_type_name(value)} {show(value)}{hint}", False
    return error["msg"], False
