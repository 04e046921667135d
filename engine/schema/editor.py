"""JSON Schemas of the rollouts folder's files as written, for editors (hover, completion,
inline checks through the YAML language server).

Four kinds, one per file: ``manifest`` (each YAML document of a job file), ``defaults``
(``_defaults.yaml``), ``config`` (``_config.yaml``) and ``policies``
(``_policies.yaml``). Each describes a file on its own,
before ``_defaults.yaml`` are merged in, so a key is ``required`` only where no defaults
file could supply it: defaults merge mappings key by key but replace lists whole, so only
the members of a list's entries (an abort criterion's fields, a tag's ``Key``) are
required; nothing at the top of a manifest is, since ``targets`` or the document may come
from defaults. ``key: null`` drops what defaults gave, so null is allowed wherever the
merged job may lack the key (and anywhere outside lists in a defaults file, which a
nearer defaults file or the job may fill again).

The shapes and bounds come from the pydantic models, the words from botocore's service
model (``servicedocs``) or, for the project's own conveniences, from this module. Draft-07,
which every YAML language server reads; patterns are ECMA-262 with the ``u`` flag, as
editors run them.
"""

from __future__ import annotations

import copy
from typing import Any, Literal

from pydantic import BaseModel

from engine.loader.tree import NOT_DEFAULTABLE
from engine.policies.model import PoliciesFile
from engine.schema import editor_words as words
from engine.schema.models import Config, Manifest
from engine.schema.rules import MAX_USER_TAGS
from engine.schema.servicedocs import descriptions as api_descriptions

Kind = Literal["manifest", "defaults", "config", "policies"]
KINDS: tuple[Kind, ...] = ("manifest", "defaults", "config", "policies")
DRAFT = "http://json-schema.org/draft-07/schema#"
SCHEMA_BASE = "https://iot-rollouts.dev/schema/"

# Bounds that pydantic cannot say in the model's own schema; each checked again by the
# rules, but an editor can show them as the file is written.
_EXTRA: dict[str, dict[str, Any]] = {
    # The same target twice is an error in any spelling; an editor sees the same spelling.
    "targets": {"uniqueItems": True},
    "documentFile": {"minLength": 1},
    # The document is a mapping or a string of JSON (section 2 of the design).
    "document": {"type": ["object", "string"]},
}


def editor_schema(kind: str = "manifest") -> dict[str, Any]:
    """The JSON Schema (draft-07) of one kind of file in the rollouts folder, as written;
    ``kind`` one of ``KINDS``."""
    if kind not in KINDS:
        raise ValueError(f"no schema of kind {kind!r}; the kinds are {', '.join(KINDS)}")
    models: dict[str, type[BaseModel]] = {"config": Config, "policies": PoliciesFile}
    model = models.get(kind, Manifest)
    generated = model.model_json_schema()
    body = _Shaper(kind).node(_inline(generated, generated.pop("$defs", {})), "", False)
    properties: dict[str, Any] = body["properties"]
    if kind == "defaults":
        for key in NOT_DEFAULTABLE:
            properties.pop(key, None)
    return {
        "$schema": DRAFT,
        "$id": f"{SCHEMA_BASE}{kind}.json",
        "title": words.TITLES[kind],
        "description": words.ROOTS[kind],
        **{k: v for k, v in body.items() if k not in ("title", "description")},
    }


def described_share(schema: dict[str, Any]) -> tuple[int, int]:
    """How many properties (at any depth) carry a description, and how many there are."""
    described = total = 0
    for _, prop in iter_properties(schema):
        total += 1
        described += bool(prop.get("description"))
    return described, total


def iter_properties(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every property of the schema, at any depth, with its path (``a.b[].c``)."""
    found: list[tuple[str, dict[str, Any]]] = []
    if not isinstance(node, dict):
        return found
    for name, prop in node.get("properties", {}).items():
        here = f"{path}.{name}" if path else name
        found.append((here, prop))
        found.extend(iter_properties(prop, here))
    if isinstance(node.get("items"), dict):
        found.extend(iter_properties(node["items"], path + "[]"))
    if isinstance(node.get("additionalProperties"), dict):
        found.extend(iter_properties(node["additionalProperties"], path + "{}"))
    for branch in node.get("anyOf", []):
        found.extend(iter_properties(branch, path))
    return found


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """The schema with every ``$ref`` replaced by a copy of its definition (none recurse)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            return _inline(copy.deepcopy(defs[ref.rsplit("/", 1)[-1]]), defs)
        return {k: _inline(v, defs) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


# A wave may set any CreateJob field of its own job (DESIGN.md section 8).
WAVE_FIELDS = "waves[]."


class _Shaper:
    """Turns pydantic's schema of the merged job into one of a ``kind`` of file as written."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.api = api_descriptions() if kind in ("manifest", "defaults") else {}

    def node(self, schema: dict[str, Any], path: str, in_list: bool) -> dict[str, Any]:
        """A property (or list entry) at ``path``: its shape, its words, null where allowed."""
        nullable, base = _split_null(schema)
        model_description = base.get("description")
        out = self.shape(base, path, in_list)
        if self.kind in ("manifest", "defaults"):
            out.update(_EXTRA.get(path, {}))
        if path == "tags":
            out = _tags(out)
        if path and (nullable or (self.kind == "defaults" and not in_list)):
            out = _with_null(out)
        description = self.description(path, model_description)
        if description:  # first, so that a printed schema reads as documentation
            out = {"description": description, **out}
        if path in words.EXAMPLES:
            out["examples"] = words.EXAMPLES[path]
        return out

    def shape(self, schema: dict[str, Any], path: str, in_list: bool) -> dict[str, Any]:
        """The schema's own keywords, its members shaped in turn."""
        out = {k: v for k, v in schema.items() if k not in ("title", "default", "description")}
        if "const" in out:  # an enum of one completes in editors; a const may not
            out["enum"] = [out.pop("const")]
        if "properties" in out:
            prefix = f"{path}." if path else ""
            # The key itself as the title: editors head their hover text with it (pydantic's
            # own titles read "Durationinminutes").
            out["properties"] = {name: {"title": name, **self.node(prop, prefix + name, in_list)}
                                 for name, prop in out["properties"].items()}
            # A list replaces the defaults' whole, so its entries' own keys stay required;
            # a mapping merges, so any of its keys may come from a defaults file.
            if not in_list:
                out.pop("required", None)
        if "patternProperties" in out:
            out = self._mapping(out, path, in_list)
        if isinstance(out.get("items"), dict):
            out["items"] = self.node(out["items"], path + "[]", True)
        if "anyOf" in out:
            out["anyOf"] = [self.shape(b, path, in_list) for b in out["anyOf"]]
        return out

    def description(self, path: str, from_model: str | None) -> str | None:
        words_of_kind = {"config": words.CONFIG, "policies": words.POLICIES}.get(self.kind,
                                                                                 words.HAND)
        if path.startswith(WAVE_FIELDS) and path != "waves[].name":
            path = path.removeprefix(WAVE_FIELDS)  # a wave's fields are CreateJob's own
        if path in words_of_kind:
            return words_of_kind[path]
        if path in self.api:
            return self.api[path] + words.NOTES.get(path, "")
        return from_model

    def _mapping(self, out: dict[str, Any], path: str, in_list: bool) -> dict[str, Any]:
        """pydantic writes a dict's key pattern as ``patternProperties``, which lets keys
        that do not match through; the key's bounds belong in ``propertyNames``."""
        ((pattern, value),) = out.pop("patternProperties").items()
        out["propertyNames"] = {**out.get("propertyNames", {}), "pattern": pattern}
        out["additionalProperties"] = self.node(value, path + "{}", in_list)
        return out


def _tags(out: dict[str, Any]) -> dict[str, Any]:
    """Tags as a mapping or a list in one schema (object keywords bind only a mapping, array
    keywords only a list; editors hover and report one schema better than an anyOf), each
    at most the tags a job may carry; in a mapping a null value drops a defaults file's tag."""
    mapping, listed = out.pop("anyOf")
    merged = {**out, **mapping, **listed, "type": [mapping["type"], listed["type"]]}
    merged["maxProperties"] = MAX_USER_TAGS
    merged["additionalProperties"] = _with_null(mapping["additionalProperties"])
    merged["maxItems"] = MAX_USER_TAGS
    return merged


def _split_null(schema: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    """Whether pydantic's ``anyOf: [X, null]`` allows null, and X (or the rest) alone."""
    branches = schema.get("anyOf")
    if not isinstance(branches, list) or {"type": "null"} not in branches:
        return False, dict(schema)
    rest = [b for b in branches if b != {"type": "null"}]
    outer = {k: v for k, v in schema.items() if k != "anyOf"}
    if len(rest) == 1:
        return True, {**outer, **rest[0]}
    return True, {**outer, "anyOf": rest}


def _with_null(out: dict[str, Any]) -> dict[str, Any]:
    if "enum" in out and None not in out["enum"]:
        out = {**out, "enum": [*out["enum"], None]}
    kind = out.get("type")
    if isinstance(kind, str):
        return {**out, "type": [kind, "null"]}
    if isinstance(kind, list):
        return {**out, "type": [*kind, "null"] if "null" not in kind else kind}
    if "anyOf" in out:
        return {**out, "anyOf": [*out["anyOf"], {"type": "null"}]}
    return out  # no type: anything goes, null included
