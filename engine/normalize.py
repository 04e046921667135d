"""Both sides of a comparison brought to one form, in one place, each step with its reason.

Equality of the normalised dicts decides whether a job changed (microseconds); deepdiff
only explains a difference already found (milliseconds).
"""

from __future__ import annotations

import json
from typing import Any

from engine.identity import UNDIFFED_TAGS
from engine.resolve import IMMUTABLE_FIELDS, MUTABLE_FIELDS

# AWS fills this in when a presignedUrlConfig has a role but no expiry.
DEFAULT_EXPIRES_IN_SEC = 3600


def clean(value: Any) -> Any:
    """Drop nulls and empty containers; integral floats become ints.

    - nulls: DescribeJob leaves out, or returns null for, what was never set;
    - empty mappings and lists: AWS returns ``{}`` for some unset configs;
    - integral floats: AWS's doubles come back as ``5.0`` for a manifest's ``5``.
    """
    kind = type(value)  # JSON and botocore give plain dicts and lists; a plan compares many
    if kind is dict:
        out = {}
        for key, item in value.items():
            if item is None:
                continue
            item_kind = type(item)
            if item_kind is dict or item_kind is list:
                item = clean(item)
                if not item:
                    continue
            elif item_kind is float and item.is_integer():
                item = int(item)
            out[key] = item
        return out
    if kind is list:
        return [clean(item) for item in value]
    if kind is float and value.is_integer():
        return int(value)
    return value


def _presigned_defaults(fields: dict[str, Any]) -> dict[str, Any]:
    config = fields.get("presignedUrlConfig")
    if isinstance(config, dict) and "roleArn" in config and "expiresInSec" not in config:
        fields["presignedUrlConfig"] = {**config, "expiresInSec": DEFAULT_EXPIRES_IN_SEC}
    return fields


def picked_mutable(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields UpdateJob can change, as they stand. Two that are equal stay equal once
    normalised (each step maps equal values to equal ones), so an in-sync job can be told
    without normalising; only a difference needs ``mutable_part``."""
    return {k: fields[k] for k in MUTABLE_FIELDS if k in fields}


def mutable_part(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields UpdateJob can change, normalised: from a request or from DescribeJob."""
    return _presigned_defaults(clean(picked_mutable(fields)))


def immutable_part(fields: dict[str, Any], document: str | None) -> dict[str, Any]:
    """The fields fixed at creation, normalised; the document as canonical JSON."""
    picked = {k: fields[k] for k in IMMUTABLE_FIELDS if k in fields and k != "document"}
    if document is not None:
        try:  # the remote document may be spelled with other spacing or key order
            picked["document"] = json.dumps(json.loads(document), sort_keys=True,
                                            separators=(",", ":"), ensure_ascii=False)
        except ValueError:
            picked["document"] = document
    picked.setdefault("targetSelection", "SNAPSHOT")  # the API's default
    return dict(clean(picked))


def compared_tags(tags: dict[str, str]) -> dict[str, str]:
    """Tags that count as a change: not the ones written once at creation, not AWS's own."""
    return {k: v for k, v in tags.items()
            if k not in UNDIFFED_TAGS and not k.startswith("aws:")}
